"""Safety checks of an .xlsx workbook, made before and beside python-calamine's reading.

A workbook is a zip archive of XML parts, and calamine trusts it: a cell at XFD1048576
makes it allocate the whole rectangle up to there (a native abort, not an exception), a
member that inflates to gigabytes is inflated, and a formula without a saved value or an
error cell (``#DIV/0!``) reads as an empty cell, which perfrules would take for a missing
value.  So :func:`check_archive` refuses a file that is not a zip, or whose members
(really inflated here, whatever their headers claim) exceed :data:`MAX_UNCOMPRESSED` in all
or inflate more than :data:`MAX_RATIO` times, before calamine opens it;
:func:`scan_sheet` reads the chosen sheet's XML once, streaming and bounded, for cells
beyond :data:`MAX_ROWS` x :data:`MAX_COLUMNS` or :data:`MAX_CELLS` (before calamine
loads it) and for formula and error cells; :func:`merged_problems` reports merged cells,
which calamine reads as one value and blanks.  The limits are documented in
docs/evaluation.md (2.1, 3.1).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MAX_UNCOMPRESSED = 1 << 30  # bytes: all the members inflated together (and the file itself)
MAX_RATIO = 100  # inflated / compressed, for a member of more than RATIO_GRACE bytes (as Apache POI)
RATIO_GRACE = 1 << 20
MAX_MEMBERS = 10_000
MAX_ROWS = 1_048_576  # Excel's own
MAX_COLUMNS = 512
MAX_CELLS = 5_000_000  # rows x columns from A1 to the farthest cell, and cell elements in the sheet
MAX_ELEMENTS = 4 * MAX_CELLS  # XML elements of the sheet
LIMITS = (f"at most {MAX_ROWS:,} rows, {MAX_COLUMNS} columns and {MAX_CELLS:,} cells are read, "
          f"counted from A1")

_CELL_REFERENCE = re.compile(r"([A-Za-z]+)([0-9]+)")
_NUMBER = re.compile(r"[0-9]+")
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _problem(message: str, hint: str | None = None, row: int | None = None):
    from perfrules.data.problems import DataFileProblem

    return DataFileProblem(message, hint, row)


def check_archive(path: Path) -> None:
    """Refuse a file that is not a zip archive, or whose members inflate too far."""
    if path.stat().st_size > MAX_UNCOMPRESSED:
        raise _problem(f"the workbook is larger than {_size(MAX_UNCOMPRESSED)}")
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as handle:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise _problem(f"the workbook cannot be read: it holds {len(members):,} parts (at most {MAX_MEMBERS:,})")
            seen: set[str] = set()
            for member in members:  # this scan and calamine might read two different copies
                if member.filename.lower() in seen:
                    raise _problem(f"the workbook cannot be read: it holds the part {member.filename!r} twice")
                seen.add(member.filename.lower())
            declared = sum(member.file_size for member in members)
            if declared > MAX_UNCOMPRESSED:
                raise _problem(f"the workbook inflates to {_size(declared)} (at most {_size(MAX_UNCOMPRESSED)})")
            for member in members:
                _check_member(handle, member)
    except zipfile.BadZipFile:
        raise _problem("the workbook cannot be read: it is not an .xlsx file (not a zip archive)") from None
    except OSError as error:  # not permitted, an I/O error
        raise _problem(f"the workbook cannot be read: {error.strerror or error}") from None
    except (EOFError, struct.error, zlib.error) as error:
        raise _problem(f"the workbook cannot be read: it is damaged ({error})") from None


def _check_member(handle, member: zipfile.ZipInfo) -> None:
    """Inflate ``member`` from the raw file (its headers may lie), counting what comes out."""
    if member.file_size > RATIO_GRACE and member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise _problem(f"the workbook cannot be read: its part {member.filename!r} inflates "
                       f"{member.file_size // max(member.compress_size, 1):,} times (at most {MAX_RATIO})")
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _problem(f"the workbook cannot be read: its part {member.filename!r} is compressed in a way "
                       f"Excel does not write (method {member.compress_type})")
    handle.seek(member.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _problem(f"the workbook cannot be read: it is damaged (part {member.filename!r})")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(member.header_offset + 30 + name_length + extra_length)
    left = member.compress_size
    inflated = crc = 0
    inflater = zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0:
        chunk = handle.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)
        if inflater is None:
            inflated += len(chunk)
            crc = zlib.crc32(chunk, crc)
            continue
        while chunk and not inflater.eof:
            out = inflater.decompress(chunk, 1 << 20)
            inflated += len(out)
            crc = zlib.crc32(out, crc)
            chunk = inflater.unconsumed_tail
            if inflated > member.file_size:
                break
        if inflated > member.file_size or inflater.eof:
            break
    if inflated != member.file_size:
        raise _problem(f"the workbook cannot be read: its part {member.filename!r} inflates to "
                       f"{'more' if inflated > member.file_size else 'less'} than its header says")
    if crc != member.CRC:
        raise _problem(f"the workbook cannot be read: it is damaged (part {member.filename!r} fails its checksum)")


def _size(count: int) -> str:
    """``3 GiB``, ``1.5 GiB``, ``200 MiB`` (to a tenth)."""
    unit, name = (1 << 30, "GiB") if count >= 1 << 30 else (1 << 20, "MiB")
    return f"{count / unit:.1f}".rstrip("0").rstrip(".") + " " + name


def _parse(archive: zipfile.ZipFile, name: str, start) -> None:
    """Stream the part ``name`` through expat, calling ``start(local name, attributes)``."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = lambda tag, attributes: start(tag.rpartition(" ")[2], attributes)
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def sheet_part(path: Path, name: str) -> str | None:
    """The archive path of the sheet called ``name`` (None when the workbook does not say)."""
    sheets: dict[str, str] = {}
    targets: dict[str, str] = {}

    def workbook(tag, attributes):
        if tag == "sheet":
            sheets.setdefault(attributes.get("name", ""), attributes.get(f"{_RELATIONSHIPS} id", ""))

    def relationships(tag, attributes):
        if tag == "Relationship":
            targets[attributes.get("Id", "")] = attributes.get("Target", "")

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        _parse(archive, "xl/workbook.xml", workbook)
        _parse(archive, "xl/_rels/workbook.xml.rels", relationships)
    if sheets.get(name) not in targets:
        return None
    target = targets[sheets[name]]
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    return part if part in names else None


@dataclass(frozen=True)
class BadCell:
    row: int  # 1-based, as Excel shows it
    column: int  # 0-based
    message: str


# The quick scan's patterns start with a literal, which Python's re searches for fast.
_QUICK_ROWS = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_QUICK_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})')
# DTDs, comments and CDATA, prefixed tags, single-quoted types: the exact scan.
_QUICK_ODD = (b"<!", b":c", b":f", b"'e'", b"t='")
# Formulas (any whitespace after the name) and error cells: looked at one by one.
_QUICK_SPECIAL = re.compile(rb'<f[\s/>]|\bt="e"')
_QUICK_FORMULA = re.compile(rb"<f[\s/>]")
_QUICK_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"([^>]*)>(.*?)</c>', re.DOTALL)
_QUICK_TYPE = re.compile(rb'\bt="([^"]*)"')
_QUICK_VALUE = re.compile(rb"<v>(.*?)</v>", re.DOTALL)
_QUICK_WINDOW = 64 << 20  # bytes of rows held at once; a longer row goes to the exact scan


def scan_sheet(path: Path, part: str, sheet: str) -> list[BadCell]:
    """:func:`_scan_sheet`, a damaged archive said in a line."""
    try:
        return _scan_sheet(path, part, sheet)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as error:
        raise _problem(f"the workbook cannot be read: it is damaged ({error})") from None


def _scan_sheet(path: Path, part: str, sheet: str) -> list[BadCell]:
    """Formula cells without a saved value and error cells of the sheet; raise a problem when
    the sheet's cells lie beyond the limits (before calamine makes a rectangle of them).

    Most sheets are plain XML whose cells are named by reference: regular expressions over
    the bytes find where the farthest cell is in C's time, and look at the formula and error
    cells one by one; any other sheet is parsed exactly by expat (slower: a Python call per
    element)."""
    quick = _quick_scan(path, part)
    if quick is None:
        return _exact_scan(path, part, sheet)
    height, width, cells, bad = quick
    if cells > MAX_CELLS:
        raise _problem(f"the sheet '{sheet}' has more than {MAX_CELLS:,} cells: {LIMITS}")
    if height > MAX_ROWS or width > MAX_COLUMNS or height * width > MAX_CELLS:
        return _exact_scan(path, part, sheet)  # empty cells count here: it finds the cell beyond
    return bad


def _quick_scan(path: Path, part: str) -> tuple[int, int, int, list[BadCell]] | None:
    """(rows, columns, cells, bad cells) of a plain sheet; None for any other."""
    height = cells = 0
    columns: set[bytes] = set()
    bad: list[BadCell] = []
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        while True:
            chunk = stream.read(1 << 22)
            data = tail + chunk
            cut = data.rfind(b"</row>") + 6 if chunk else len(data)  # whole rows, the rest next time
            if cut < 6:
                cut = 0
            data, tail = data[:cut], data[cut:]
            if len(tail) > _QUICK_WINDOW or any(odd in data for odd in _QUICK_ODD):
                return None
            rows = _QUICK_ROWS.findall(data)
            count = data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/>") + data.count(b"<c\t") + \
                data.count(b"<c\n") + data.count(b"<c\r")
            if count != len(rows):
                return None
            cells += count
            if cells > MAX_CELLS:
                return 0, 0, cells, bad
            if rows:
                columns.update(_QUICK_COLUMNS.findall(data))
                height = max(height, max(map(int, rows)))
            if _QUICK_SPECIAL.search(data) and not _special_cells(data, bad):
                return None
            if not chunk:
                break
    width = max((_column_index(letters.decode()) + 1 for letters in columns), default=0)
    return height, width, cells, bad


def _special_cells(data: bytes, bad: list[BadCell]) -> bool:
    """Add the formula cells without a value and the error cells of ``data`` (whole rows) to
    ``bad``; False when one of them is not a cell as the quick scan knows them."""
    seen = set()
    for found in _QUICK_SPECIAL.finditer(data):
        start = data.rfind(b'<c r="', 0, found.start())
        if start in seen:
            continue
        seen.add(start)
        cell = _QUICK_CELL.match(data, start) if start >= 0 else None
        if cell is None or cell.end() < found.end() or b"<c " in cell.group(4):
            return False
        letters, digits, attributes, inner = cell.groups()
        kind = _QUICK_TYPE.search(attributes)
        kind = kind.group(1) if kind else b"n"
        value = _QUICK_VALUE.search(inner)
        text = value.group(1).decode("utf-8", "replace").strip() if value else ""
        message = _bad_cell_message(kind.decode("utf-8", "replace"), _QUICK_FORMULA.search(inner) is not None, text)
        if message:
            bad.append(BadCell(int(digits), _column_index(letters.decode()), message))
    return True


def _bad_cell_message(kind: str, formula: bool, value: str) -> str | None:
    if kind == "e":
        return f"the cell holds the error {value[:40] or '(no text)'}"
    if formula and not value and kind not in ("str", "inlineStr"):
        return "the cell is a formula with no saved value (open and save the file in Excel, or paste values)"
    return None


def _exact_scan(path: Path, part: str, sheet: str) -> list[BadCell]:
    from xml.parsers import expat

    bad: list[BadCell] = []
    state = {"row": 0, "column": -1, "cells": 0, "elements": 0, "width": 0, "height": 0}
    cell: dict = {}

    def too_large(reference: str):
        raise _problem(f"the sheet '{sheet}' reaches cell {reference}: {LIMITS}",
                       "delete the rows and columns beyond the data, or copy the data to a new sheet")

    def start(tag, attributes):
        state["elements"] += 1
        if state["elements"] > MAX_ELEMENTS:
            raise _problem(f"the sheet '{sheet}' has more than {MAX_ELEMENTS:,} XML elements: {LIMITS}")
        if tag == "row":
            number = attributes.get("r")
            if number and _NUMBER.fullmatch(number):  # beyond any limit when too long for an int
                state["row"] = int(number) if len(number) <= 9 else 10 ** 9
            else:
                state["row"] += 1
            state["column"] = -1
        elif tag == "c":
            state["cells"] += 1
            if state["cells"] > MAX_CELLS:
                raise _problem(f"the sheet '{sheet}' has more than {MAX_CELLS:,} cells: {LIMITS}")
            reference = attributes.get("r")
            found = _CELL_REFERENCE.fullmatch(reference) if reference else None
            if found:
                if len(found.group(1)) > 3 or len(found.group(2)) > 7:
                    too_large(reference[:20])
                state["column"] = _column_index(found.group(1))
                state["row"] = int(found.group(2))
            elif reference:
                raise _problem(f"the workbook cannot be read: the sheet '{sheet}' has a cell named "
                               f"'{reference[:20]}', which is no cell reference like B5")
            else:
                state["column"] += 1
            cell.clear()
            cell.update(type=attributes.get("t", "n"), formula=False, value=None, content=False)
        elif tag == "f" and cell:
            cell["formula"] = True
        elif tag in ("v", "is") and cell:
            cell["content"] = True
            if tag == "v":
                cell["value"] = ""
                parser.CharacterDataHandler = text

    def text(data):
        cell["value"] += data

    def end(tag):
        tag = tag.rpartition(" ")[2]
        if tag == "v":
            parser.CharacterDataHandler = None
        elif tag == "c" and cell:
            _end_cell()

    def _end_cell():
        row, column = state["row"], state["column"]
        if cell["content"] or cell["formula"]:
            height, width = max(state["height"], row), max(state["width"], column + 1)
            if row > MAX_ROWS or width > MAX_COLUMNS or height * width > MAX_CELLS:
                from perfrules.data.reading import column_letter

                too_large(f"{column_letter(column)}{row}")
            state["height"], state["width"] = height, width
        message = _bad_cell_message(cell["type"], cell["formula"], (cell["value"] or "").strip())
        if message:
            bad.append(BadCell(row, column, message))
        cell.clear()

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = lambda tag, attributes: start(tag.rpartition(" ")[2], attributes)
    parser.EndElementHandler = end
    try:
        with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
            while chunk := stream.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise _problem(f"the workbook cannot be read: the sheet '{sheet}' is not valid XML ({error})") from None
    return bad


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def merged_problems(ranges, header_row: int) -> list[tuple[int, str]]:
    """(row, message) for every merged range from the header row down (a title above may be merged)."""
    from perfrules.data.reading import column_letter

    found = []
    for (first_row, first_column), (last_row, last_column) in ranges or ():
        if last_row + 1 < header_row:
            continue
        if first_row == last_row:
            what = f"columns {column_letter(first_column)}:{column_letter(last_column)} are"
        else:
            what = (f"cells {column_letter(first_column)}{first_row + 1}:{column_letter(last_column)}{last_row + 1} "
                    f"are")
        found.append((first_row + 1, f"{what} merged (unmerge them: each agent needs its own value)"))
    return found
