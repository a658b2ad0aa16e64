"""Reading agents' metric snapshots into DuckDB as a table of text cells.

Every supported file (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX; JSON; JSON
Lines; Parquet) becomes one DuckDB table of text cells (``NULL`` for an empty cell),
its columns named by position (``c0``, ``c1``...; :meth:`RawTable.cell` finds a
header's), plus ``__row``: the row number as a spreadsheet shows it (the header is
row 1), or the line number for JSON Lines.  Headers never become SQL names: DuckDB's
names ignore letter case and know pseudo-columns such as ``rowid``, while a header
``CSAT`` is not ``csat`` and ``rowid`` is just a column to perfrules.
Typing the cells is the next stage (:mod:`perfrules.data.cells`), done in SQL over
whole columns, so that every bad cell can be reported with its row and column.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from perfrules.data.file_scan import (
    MAX_LINE_BYTES,
    FileScan,
    Utf8Copy,
    count_lines,
    first_long_line,
    lone_carriage_return,
    scan_of,
)
from perfrules.data.encodings import (
    ENCODINGS,
    check_utf8,
    detect_encoding,
    new_copy,
    refuse_mixed_encodings,
    transcode_to_utf8,
    utf8_given_as_gb18030,
)
from perfrules.data.problems import DataArgumentProblem, DataFileProblem
from perfrules.engine.sql import DECIMAL_TYPE, text_literal
from perfrules.files import private_file

ROW_COLUMN = "__row"
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True)
class RawTable:
    """A data file loaded as text cells into ``table`` of a DuckDB connection."""

    table: str
    headers: tuple[str, ...]
    display: str
    rows: int | None  # None: not counted (a direct view)
    encoding: str | None
    header_row: int = 1
    # The first rows of the file (CSV and XLSX), cells trimmed: to tell a title row from headers.
    preview: tuple[tuple[str, ...], ...] = ()
    # False: ``table`` is a view that reads the file itself (read_table's ``direct``); its rows
    # have no numbers (``__row`` is NULL) until they are typed, in file order.
    numbered: bool = True
    # Headers whose cells DuckDB's reader typed as DECIMAL(18, 6) (read_table's ``numbers``): their
    # cells are numbers already, read as ``TRY_CAST(cell AS DECIMAL(18, 6))`` reads them.
    decimals: frozenset[str] = frozenset()
    # Read directly: the file's lines (one a row, when no cell holds a line break) and sha256.
    scan: FileScan | None = field(default=None, compare=False)
    # About the file as read, one line each (``data.csv: warning: …``): the evaluation prints them.
    warnings: tuple[str, ...] = ()

    def cell(self, header: str) -> str:
        """The SQL column of the cells under ``header`` (headers match exactly)."""
        return f"c{self.headers.index(header)}"

    def first_row_cell(self, header: str) -> str | None:
        """The trimmed cell under ``header`` in the row below the headers, from the preview;
        None when the file has no such row or it is not as wide as the headers."""
        first = self.preview[self.header_row] if len(self.preview) > self.header_row else ()
        return first[self.headers.index(header)] if len(first) == len(self.headers) else None


def data_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataFileProblem(
            f"cannot tell the format of '{path.name}' from its extension",
            "use .csv, .xlsx, .json, .jsonl or .parquet",
        )
    return FORMATS[suffix]


def read_table(connection, path: Path, display: str, table: str, encoding: str | None = None,
               sheet: str | None = None, header_row: int = 1, direct: bool = False,
               numbers: frozenset[str] = frozenset(), periods: bool = False) -> RawTable:
    """Load ``path`` into ``table`` (text cells and ``__row``); raise DataFileProblem.

    ``header_row``: the row of the headers (1-based) in a CSV or XLSX file whose first rows
    hold a title; the rows above it are left out.  ``direct``: for a UTF-8 or GB18030 CSV file,
    ``table`` may be a view that reads the file when the cells are typed (see
    :func:`_direct_csv`), saving a copy of every cell as text; there DuckDB's reader types the
    columns of ``numbers`` (headers that only numeric metrics read) whose first rows hold plain
    decimals, and a cell it cannot read fails the typing (:class:`TextReadingNeeded`).
    ``periods``: the file's ``period`` column holds the periods evaluated (the data file; not a
    notes file or a raw export, where it is any column): a number there that may be January or
    October is refused (:func:`period_number_problem`).
    """
    try:
        found = path.is_file(), path.is_dir(), path.exists()
    except OSError as error:  # a name too long for the file system, for one
        raise DataArgumentProblem(f"cannot be read: {error.strerror or error}") from None
    if not found[0]:
        raise DataArgumentProblem("no such file" if not found[2] else
                                  "this is a folder, not a data file" if found[1] else "this is not a regular file")
    kind = data_format(path)
    if encoding is not None and kind != "csv":
        raise DataArgumentProblem("--encoding applies only to CSV files")
    if sheet is not None and kind != "xlsx":
        raise DataArgumentProblem("--sheet applies only to .xlsx files")
    if header_row != 1 and kind not in ("csv", "xlsx"):
        raise DataArgumentProblem("--header-row applies only to CSV and .xlsx files")
    if kind == "csv":
        if direct and (raw := _direct_csv(connection, path, display, table, encoding, header_row, numbers)) is not None:
            return raw
        return _read_csv(connection, path, display, table, encoding, header_row)
    if kind == "xlsx":
        from perfrules.data.xlsx_rows import xlsx_rows

        headers, body, preview = xlsx_rows(path, sheet, header_row, periods)
        return _load_rows(connection, table, display, headers, body, encoding=None, header_row=header_row,
                          preview=preview)
    from perfrules.data.json_rows import json_rows, jsonl_rows

    if kind == "json":
        return _load_rows(connection, table, display, *json_rows(path), encoding="utf-8")
    if kind == "jsonl":
        return _load_rows(connection, table, display, *jsonl_rows(path), encoding="utf-8")
    from perfrules.data.parquet_rows import read_parquet

    return read_parquet(connection, path, display, table, periods)


def release_table(connection, raw: RawTable) -> None:
    """Drop the text cells of ``raw`` (and its row numbers) once the typed rows are made and
    checked: at a million rows they are a third of the evaluation's memory."""
    names = [raw.table, f"{raw.table}_cells", f"{raw.table}_numbers"]
    found = connection.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? "
        "UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name IN (?, ?, ?)",
        [raw.table, *names]).fetchall()
    for kind in ("VIEW", "TABLE"):  # the view first: it reads the tables
        for name, its_kind in found:
            if its_kind == kind:
                connection.execute(f"DROP {kind} {name}")


# ---- CSV ---------------------------------------------------------------------------------


def _read_csv(connection, path: Path, display: str, table: str, encoding: str | None, header_row: int) -> RawTable:
    if encoding is not None:
        wanted = ENCODINGS.get(encoding.lower())
        if wanted is None:
            raise DataArgumentProblem(f"unknown encoding '{encoding}'", "use utf-8 or gb18030")
        raw = _read_csv_as(connection, path, display, table, wanted, header_row)
        return replace(raw, warnings=_given_encoding_warnings(path, display, wanted))
    wanted = detect_encoding(path)
    if wanted == "gb18030":
        refuse_mixed_encodings(path)
    try:
        return _read_csv_as(connection, path, display, table, wanted, header_row)
    except DataFileProblem as problem:
        if wanted == "utf-8" and "not utf-8 encoded" in problem.message.lower():
            refuse_mixed_encodings(path)
            return _read_csv_as(connection, path, display, table, "gb18030", header_row)
        raise


def _given_encoding_warnings(path: Path, display: str, given: str) -> tuple[str, ...]:
    """A file given ``--encoding gb18030`` that reads as UTF-8 (:func:`utf8_given_as_gb18030`)."""
    doubt = utf8_given_as_gb18030(path) if given == "gb18030" else None
    return (f"{display}: warning: {doubt}",) if doubt else ()


def _direct_csv(connection, path: Path, display: str, table: str, encoding: str | None,
                header_row: int, numbers: frozenset[str] = frozenset()) -> RawTable | None:
    """The view ``table`` over a CSV file whose headers are fine, or None.

    Most files evaluated are UTF-8 CSV (or GB18030, read from a UTF-8 copy that one pass
    writes and scans: :class:`Utf8Copy`) with one header row and no empty lines; for
    them the typed rows are made straight from DuckDB's reader, in file order, and numbered
    after (:func:`perfrules.data.validate.prepare_rows`).  Anything else (UTF-16, a mix of
    encodings, title rows, headers to complain about) is left to the exact route, which also takes over
    when the typed rows show a problem, or when the file has empty lines, which DuckDB skips
    and a spreadsheet counts (fewer rows than the lines :class:`FileScan` counts as DuckDB reads):
    it alone has every cell's text and row number for the messages.

    The columns of ``numbers`` whose preview cells are all plain decimals are typed by the
    reader itself, as ``TRY_CAST(cell AS DECIMAL(18, 6))`` would type them (the same values,
    the same cells refused: tests/test_decimal_reader.py); a cell it cannot read stops the
    typing, and the file is read directly again as text (docs/evaluation.md 4.4).
    """
    wanted = ENCODINGS.get(encoding.lower()) if encoding is not None else None
    if header_row != 1 or (encoding is not None and wanted is None):
        return None
    scan = None
    try:
        wanted = wanted or detect_encoding(path)
        if wanted == "gb18030":  # read from a UTF-8 copy (DuckDB reads UTF-8 only)
            if encoding is None:
                refuse_mixed_encodings(path)
            if (copy := private_file(".csv")) is None:
                return None
            scan = Utf8Copy(path, wanted, copy)
            source = scan.copy
        else:
            check_utf8(path)
            source = path
        delimiter, preview, headers = _csv_layout(source, path, header_row)
        if "" in headers:
            return None
        _check_headers(headers, header_row, preview, set())
    except (DataFileProblem, OSError, UnicodeDecodeError):
        return None  # the exact route says it
    decimals = frozenset(header for header in numbers if headers.count(header) == 1
                         and all(plain_decimal(row[headers.index(header)]) for row in preview[1:] if len(row) == len(headers)))
    reader = _csv_reader(text_literal(str(source)), len(headers), text_literal(delimiter),
                         {headers.index(header) for header in decimals})
    connection.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *, CAST(NULL AS BIGINT) AS {ROW_COLUMN} FROM {reader}")
    return RawTable(table, tuple(headers), display, None, wanted, header_row, preview, numbered=False,
                    decimals=decimals, scan=scan or scan_of(path),
                    warnings=_given_encoding_warnings(path, display, wanted) if encoding is not None else ())


PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def plain_decimal(cell: str) -> bool:
    """Whether a (trimmed) preview cell is empty or a plain decimal like ``0.9235`` or ``-12``: a
    column of them is typed by DuckDB's reader (:func:`_direct_csv`)."""
    return cell == "" or PLAIN_DECIMAL.fullmatch(cell) is not None


def _csv_layout(source: Path, path: Path, header_row: int) -> tuple[str, tuple[tuple[str, ...], ...], list[str]]:
    """The delimiter (a tab for ``.tsv``, by ``path``'s name), the preview rows and the headers of
    the UTF-8 CSV file ``source``: how both routes, direct and exact, open a CSV file."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    preview = _csv_preview(source, delimiter, header_row)
    return delimiter, preview, _csv_headers(preview, delimiter, header_row)


def _csv_reader(source: str, width: int, delimiter: str, decimals: set[int] = frozenset()) -> str:
    """DuckDB's reader of a CSV file as cells ``c0``, ``c1``...: strict, nothing guessed; text, but
    DECIMAL(18, 6) for the columns of ``decimals``."""
    columns = "{" + ", ".join(f"'c{index}': '{DECIMAL_TYPE if index in decimals else 'VARCHAR'}'"
                              for index in range(width)) + "}"
    return (f"read_csv({source}, header = true, columns = {columns}, delim = {delimiter}, quote = '\"', "
            f"escape = '\"', auto_detect = false, strict_mode = true, null_padding = false, "
            f"max_line_size = {MAX_LINE_BYTES})")


def _read_csv_as(connection, path: Path, display: str, table: str, wanted: str, header_row: int) -> RawTable:
    temporaries = []

    def copy(made: str) -> Path:
        temporaries.append(made)
        return Path(made)

    try:
        if wanted != "utf-8":
            source = copy(transcode_to_utf8(path, wanted))
        else:
            check_utf8(path)
            source = path
        delimiter, preview, headers = _csv_layout(source, path, header_row)
        skipped = 0  # lines above the header row, for DuckDB's line numbers
        if header_row > 1:  # from here on, the file's first record is the header row
            made, skipped = _copy_from_record(source, delimiter, header_row)
            source = copy(made)
        try:
            _load_csv(connection, source, table, len(headers), delimiter)
        except DataFileProblem as problem:
            if "not utf-8 encoded" in problem.message.lower():
                raise  # a GB18030 file whose Chinese text comes late: read again as GB18030
            if not _mixed_line_endings(source):
                raise _csv_rows_problem(source, delimiter, header_row, len(headers), preview, skipped) from None
            # Lines ending in CRLF and in LF alike (a file edited on two systems): read it with
            # every line ending as LF; DuckDB's parser wants one kind.
            source = copy(transcode_to_utf8(source, "utf-8", newlines=True))
            try:
                _load_csv(connection, source, table, len(headers), delimiter)
            except DataFileProblem:
                raise _csv_rows_problem(source, delimiter, header_row, len(headers), preview, skipped) from None
        counted = count_lines(source)
        if counted.too_long and (long_line := first_long_line(source)) is not None:  # dropped, not refused
            raise DataFileProblem(f"the CSV file cannot be read: CSV Error on Line: {long_line + skipped}: "
                                  f"the line is longer than {MAX_LINE_BYTES:,} bytes, the most a row may have")
        _check_headers(headers, header_row, preview, _filled_columns(connection, f"{table}_cells", headers))
        ((rows,),) = connection.execute(f"SELECT count(*) FROM {table}_cells").fetchall()
        # The header is the first record of `source`.
        _number_rows(connection, table, rows, header_row,
                     None if counted.one_a_row(rows) else _record_numbers(source, delimiter, header_row))
        return RawTable(table, tuple(headers), display, rows, wanted, header_row, preview)
    finally:
        for temporary in temporaries:
            os.unlink(temporary)


def _filled_columns(connection, table: str, headers: list[str]) -> set[int]:
    """The columns without a header that hold a cell that is not blank."""
    empty = [index for index, header in enumerate(headers) if header == ""]
    if not empty:
        return set()
    counts = ", ".join(f"count(NULLIF(trim(c{index}), ''))" for index in empty)
    ((*found,),) = connection.execute(f"SELECT {counts} FROM {table}").fetchall()
    return {index for index, count in zip(empty, found) if count}


def _load_csv(connection, source: Path, table: str, width: int, delimiter: str) -> None:
    """The cells of the file (its first record the headers) as ``{table}_cells``, in file order."""
    try:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {table}_cells AS SELECT * FROM {_csv_reader('?', width, '?')}",
                           [str(source), delimiter])
    except Exception as error:  # DuckDB reports CSV structure errors with their line
        from perfrules.files import query_interrupted, temporary_folder_full

        if temporary_folder_full(error) or query_interrupted(error):  # not the file's fault: cli.py says so
            raise
        raise DataFileProblem(f"the CSV file cannot be read: {_csv_error(str(error), source)}") from None


def _number_rows(connection, table: str, rows: int, header_row: int, numbers: list[int] | None) -> None:
    """The view ``table``: the cells and each row's number as a spreadsheet shows it.

    Insertion order is file order, so a row's number is rowid + header_row + 1, unless the
    file has empty lines, which DuckDB skips and a spreadsheet counts: then ``numbers``.
    """
    if numbers is None or len(numbers) != rows:
        connection.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *, CAST(rowid + {header_row + 1} AS BIGINT) "
                           f"AS {ROW_COLUMN} FROM {table}_cells")
        return
    import pyarrow as pa

    table_from_arrow(connection, f"{table}_numbers", pa.table({"i": pa.array(range(rows), pa.int64()),
                                                               "n": pa.array(numbers, pa.int64())}))
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT cells.* EXCLUDE (__i), numbers.n AS {ROW_COLUMN} "
        f"FROM (SELECT rowid AS __i, * FROM {table}_cells) AS cells JOIN {table}_numbers AS numbers "
        f"ON cells.__i = numbers.i ORDER BY numbers.n"
    )


def _record_numbers(source: Path, delimiter: str, header_row: int) -> list[int]:
    """The row number of each non-empty record after the header (the file's first record)."""
    import csv

    with source.open("r", encoding="utf-8-sig", newline="") as handle:
        return [number for number, record in enumerate(csv.reader(handle, delimiter=delimiter), start=header_row)
                if record and number > header_row]


def _copy_from_record(source: Path, delimiter: str, header_row: int) -> tuple[str, int]:
    """A copy of the file from its record ``header_row`` on (the title rows above left out), and
    the number of lines left out."""
    import csv

    handle, name = new_copy()
    with source.open("r", encoding="utf-8-sig", newline="") as text, os.fdopen(
            handle, "w", encoding="utf-8", newline="") as out:
        lines = iter(text.readline, "")
        # The reader pulls one line at a time and no further than the end of a record, so
        # what it leaves of `lines` starts at the header row (a quoted line break included).
        reader = csv.reader(lines, delimiter=delimiter)
        for _ in range(header_row - 1):
            next(reader, None)
        skipped = reader.line_num
        for line in lines:
            out.write(line)
    return name, skipped


def _mixed_line_endings(path: Path) -> bool:
    """Whether some lines end in CRLF and others in LF alone."""
    crlf = lf = 0
    previous = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            joined = previous[-1:] + chunk
            pairs = joined.count(b"\r\n")
            crlf += pairs
            lf += chunk.count(b"\n") - pairs
            previous = chunk
            if crlf and lf:
                return True
    return False


def _csv_rows_problem(source: Path, delimiter: str, header_row: int, width: int, preview,
                      skipped: int = 0) -> DataFileProblem:
    """Every row with more or fewer cells than the header row (or one problem, when the header
    row looks like a title); DuckDB's own message for anything else (an unclosed quote), which
    is re-read to get it.  ``source`` starts at the header row, row ``header_row`` of the file,
    after ``skipped`` lines, which DuckDB's line numbers get back."""
    import csv

    problems = []
    title = header_row_hint(preview, header_row)
    with source.open("r", encoding="utf-8-sig", newline="") as handle:
        try:
            for number, record in enumerate(csv.reader(handle, delimiter=delimiter, strict=True), start=header_row):
                if number == header_row or not record or len(record) == width:
                    continue
                if title:
                    return DataFileProblem(f"the header row has {width} cell{'s' if width != 1 else ''}, but row "
                                           f"{number} has {len(record)}", title, header_row, title=True)
                problems.append(DataFileProblem(
                    f"the row has {len(record)} cells, the header row {width}",
                    "a cell that holds a comma must be quoted: \"8,000\"" if len(record) > width and delimiter == ","
                    else "every row needs as many cells as the header row, empty or not", row=number))
        except csv.Error:
            pass  # DuckDB's message below says where
    if problems:
        return DataFileProblem.of(problems)
    import duckdb

    with duckdb.connect() as connection:
        try:
            _load_csv(connection, source, "failed", width, delimiter)
        except DataFileProblem as problem:
            if skipped:
                problem.message = re.sub(r"(?<=Line: )(\d+)", lambda line: str(int(line.group(1)) + skipped),
                                         problem.message)
            return problem
    return DataFileProblem("the CSV file cannot be read")  # pragma: no cover - DuckDB failed only once


def _csv_error(text: str, source: Path | None = None) -> str:
    """DuckDB's CSV error in a line: ``CSV Error on Line: N: what is wrong``.

    DuckDB writes the line's place, then the line itself (which may span several lines and
    be megabytes long), then what is wrong, then its suggestions: the explanation is the last
    line before the suggestions, never the data."""
    lines = [line.strip() for line in text.strip().splitlines()]
    found = re.search(r"CSV Error on Line: (\d+)", text)
    if "Maximum line size" in text or "does not support a full read" in text:
        # A line longer than the reader's buffer stops the parallel reader without a line number.
        number = found.group(1) if found else first_long_line(source)
        where = f"CSV Error on Line: {number}" if number else "CSV Error"
        return f"{where}: the line is longer than {MAX_LINE_BYTES:,} bytes, the most a row may have"
    if not found and "reached an invalid state" in text and (number := lone_carriage_return(source)):
        # DuckDB names no line for it: a CR without its LF (a line ending cut in two) is what it was.
        return (f"CSV Error on Line: {number}: a carriage return (CR) stands alone there, without the line "
                f"feed that ends a line; save the file again as CSV, or remove that character")
    if not found:
        return next((line for line in lines if line), text).replace("Invalid Input Error: ", "")
    end = next((index for index, line in enumerate(lines) if line.startswith(("Possible", "file = "))), len(lines))
    start = next(index for index, line in enumerate(lines) if "CSV Error on Line" in line)
    what = next((line for line in reversed(lines[start + 1:end]) if line and not line.startswith("Original Line")), "")
    where = f"CSV Error on Line: {found.group(1)}"
    return f"{where}: {what}" if what and len(what) <= 500 else where


PREVIEW_ROWS = 20


def _csv_preview(path: Path, delimiter: str, header_row: int) -> tuple[tuple[str, ...], ...]:
    """The first records of the file, up to PREVIEW_ROWS past the header row, cells trimmed."""
    import csv
    from itertools import islice

    records: list[tuple[str, ...]] = []
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            for record in islice(csv.reader(handle, delimiter=delimiter), header_row + PREVIEW_ROWS):
                records.append(tuple(cell.strip() for cell in record))
        return tuple(records)
    except UnicodeDecodeError as error:
        raise DataFileProblem(
            f"the file is not UTF-8 (byte 0x{error.object[error.start]:02x} near the start)",
            "leave out --encoding to detect GB18030, or pass --encoding gb18030",
        ) from None
    except csv.Error as error:
        if len(records) >= header_row:  # the rows below the headers only give hints: DuckDB reads them
            return tuple(records)
        if "field larger than field limit" in str(error):  # Python's csv module: 131,072 characters
            raise DataFileProblem(f"a cell is longer than {csv.field_size_limit():,} characters",
                                  row=len(records) + 1) from None
        raise DataFileProblem(f"the first rows cannot be read as CSV: {error}") from None


def _csv_headers(preview, delimiter: str, header_row: int) -> list[str]:
    """The headers: the cells of the header row in the (trimmed) preview."""
    if len(preview) < header_row:
        if header_row == 1:
            raise DataFileProblem("the file is empty: the first row must name the columns")
        raise DataFileProblem(f"there is no row {header_row} (--header-row {header_row})", row=header_row)
    first = preview[header_row - 1]
    if delimiter == "," and len(first) == 1:
        for name, separator in (("semicolon", ";"), ("tab", "\t")):
            if separator in first[0]:
                raise DataFileProblem(
                    f"the file looks {name}-separated: row {header_row} holds {name}s and no commas",
                    "save it as comma-separated CSV (Excel: CSV UTF-8)" if name == "semicolon" else
                    "name it .tsv, or save it as comma-separated CSV", row=header_row)
    headers = list(first)
    _check_header_row(headers, header_row, preview)  # the rest once the cells are read (_check_headers)
    return headers


def _trimmed(rows) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple((cell or "").strip() for cell in row) for row in rows)


def header_row_hint(preview, header_row: int, wanted=("agent_id", "period", "role")) -> str | None:
    """A hint when the header row looks like a title: the row that holds the headers, if one of
    the first rows holds all of ``wanted``, else a word on --header-row."""
    if not preview:
        return None
    found = next((number for number, cells in enumerate(preview, start=1)
                  if number != header_row and set(wanted) <= set(cells)), None)
    title = header_row <= len(preview) and sum(1 for cell in preview[header_row - 1] if cell) <= 1
    if found is not None:
        return f"the headers seem to be in row {found}: pass --header-row {found}"
    if title:
        return f"row {header_row} looks like a title, not headers: pass --header-row N, N the row of the headers"
    return None


def column_letter(index: int) -> str:
    """A spreadsheet's name of the column at ``index`` (from 0): A, B... Z, AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def describe_column(index: int) -> str:
    """``column C (the 3rd)``."""
    return f"column {column_letter(index)} (the {_ordinal(index + 1)})"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# ---- cells of XLSX and JSON (perfrules.data.xlsx_rows, perfrules.data.json_rows) --------------------


def cell_text(value) -> str | None:
    """An Excel or JSON value as the text a person would have typed."""
    import datetime

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer():  # 1001 stored as a number: 1001, never 1001.0 (nor 1e+16)
            return format(Decimal(repr(value)).to_integral_value(), "f")
        return repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, datetime.timedelta):  # a duration cell ([h]:mm:ss): 36:00:00, 00:00:30.5
        micros = abs(value) // datetime.timedelta(microseconds=1)
        return ("-" if value < datetime.timedelta(0) else "") + _clock(micros // 1_000_000, micros % 1_000_000)
    if isinstance(value, datetime.time):  # with its fraction: 30.6 seconds are never 30
        return _clock(value.hour * 3600 + value.minute * 60 + value.second, value.microsecond)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = without_surrogates(str(value))
    return text if text.strip() != "" else None


def _clock(seconds: int, micros: int) -> str:
    """``HH:MM:SS``, and the fraction of a second when there is one (``00:00:30.5``)."""
    fraction = f".{micros:06d}".rstrip("0") if micros else ""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}{fraction}"


# A period cell stored as a NUMBER with one decimal 1: typed 2026.10 (October), a spreadsheet
# keeps the number 2026.1, whose text reads as January.  The number cannot say which it was.
AMBIGUOUS_PERIOD_NUMBER = re.compile(r"[0-9]{1,4}\.1")


def period_number_problem(text: str, row: int) -> DataFileProblem:
    """The problem of a period cell that is the number ``text`` (AMBIGUOUS_PERIOD_NUMBER)."""
    year = text.split(".")[0]
    return DataFileProblem(
        f"column period: the number {text} can be {year}-01 or {year}-10 (a cell typed {year}.10 is "
        f"stored as the number {text})", f"write the period as text, like {year}-10 or {year}-01", row)


def without_surrogates(text: str) -> str:
    """JSON may escape a lone surrogate (``\\ud800``), which no UTF-8 text can hold: U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8") if any("\ud800" <= c <= "\udfff" for c in text) else text


def load_cells(connection, table: str, display: str, headers: list[str], rows) -> RawTable:
    """Rows built in memory, (row number, text cells), as the table of text cells a file gives."""
    return _load_rows(connection, table, display, headers, rows, encoding=None)


def _load_rows(connection, table: str, display: str, headers: list[str], rows, encoding, header_row: int = 1,
               preview=()) -> RawTable:
    import pyarrow as pa

    filled = {index for index, header in enumerate(headers)
              if header == "" and any(index < len(cells) and cells[index] is not None for _, cells in rows)}
    _check_headers(headers, header_row if preview else None, preview, filled)
    columns = {f"c{i}": pa.array([cells[i] if i < len(cells) else None for _, cells in rows], pa.string())
               for i in range(len(headers))}
    columns[ROW_COLUMN] = pa.array([number for number, _ in rows], pa.int64())
    table_from_arrow(connection, table, pa.table(columns))
    return RawTable(table, tuple(headers), display, len(rows), encoding, header_row, preview)


def table_from_arrow(connection, name: str, arrow_table) -> None:
    """The temporary table ``name`` holding ``arrow_table``.  DuckDB 2.0 refuses to register an
    Arrow table while a result of ``execute()`` is unread (a ``fetchone()`` leaves one: the
    --period query before an XLSX file's cells was exit 4), so that result is run out first."""
    if hasattr(connection, "complete"):  # DuckDB 2.0 and later
        connection.complete()
    connection.register(f"{name}_arrow", arrow_table)
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    connection.unregister(f"{name}_arrow")


def _check_header_row(headers, row: int | None, preview) -> None:
    if row is not None and not any(headers):
        hint = header_row_hint(preview, row)
        raise DataFileProblem(f"row {row} is empty, but it must name the columns", hint, row, title=hint is not None)


def _check_headers(headers: list[str], row: int | None = None, preview=(), filled: set[int] | None = None) -> None:
    """Every column needs a header of its own; all the columns that have none, or share one, are
    reported (``row``: the header row of a CSV or XLSX file, whose title rows ``preview`` shows).
    A column without a header and without a single cell (a comma at the end of every line) is
    left alone: ``filled`` holds the columns without a header that have a cell (None: all)."""
    problems = []
    first: dict[str, int] = {}
    title = header_row_hint(preview, row) if row is not None else None
    _check_header_row(headers, row, preview)
    for index, header in enumerate(headers):
        if header == "" and filled is not None and index not in filled:
            continue
        if header == "":
            hint = title or (f"give every column a header in row {row}" if row else "give every column a header")
            problems.append(DataFileProblem(f"{describe_column(index)} has no header", hint, row, title=bool(title)))
            if title:  # a title row, not headers: one line says so, not one per column
                break
        elif header in first:
            problems.append(DataFileProblem(
                f"the header '{header}' appears twice ({describe_column(first[header])} and "
                f"{column_letter(index)})", "every column needs its own header", row))
        else:
            first[header] = index
    if problems:
        raise DataFileProblem.of(problems)
