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

import codecs
import json
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROW_COLUMN = "__row"
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb18030",
             "gbk": "gb18030", "gb2312": "gb18030"}


class DataFileProblem(Exception):
    """The file as a whole cannot be read (format, encoding, broken JSON)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class DataArgumentProblem(DataFileProblem):
    """The command line names a data file, an encoding or a sheet that is not there."""


@dataclass(frozen=True)
class RawTable:
    """A data file loaded as text cells into ``table`` of a DuckDB connection."""

    table: str
    headers: tuple[str, ...]
    display: str
    rows: int
    encoding: str | None

    def cell(self, header: str) -> str:
        """The SQL column of the cells under ``header`` (headers match exactly)."""
        return f"c{self.headers.index(header)}"


def data_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataFileProblem(
            f"cannot tell the format of '{path.name}' from its extension",
            "use .csv, .xlsx, .json, .jsonl or .parquet",
        )
    return FORMATS[suffix]


def read_table(connection, path: Path, display: str, table: str, encoding: str | None = None,
               sheet: str | None = None) -> RawTable:
    """Load ``path`` into ``table`` (text cells and ``__row``); raise DataFileProblem."""
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
    if kind == "csv":
        return _read_csv(connection, path, display, table, encoding)
    if kind == "xlsx":
        return _load_rows(connection, table, display, *_xlsx_rows(path, sheet), encoding=None)
    if kind == "json":
        return _load_rows(connection, table, display, *_json_rows(path), encoding="utf-8")
    if kind == "jsonl":
        return _load_rows(connection, table, display, *_jsonl_rows(path), encoding="utf-8")
    return _read_parquet(connection, path, display, table)


# ---- CSV ---------------------------------------------------------------------------------


def detect_encoding(path: Path, limit: int | None = 1 << 22) -> str:
    """``utf-8`` (with or without BOM) when the file's start decodes as UTF-8, else ``gb18030``.

    Only the first ``limit`` bytes are read: DuckDB checks the rest while it reads the file,
    and a GB18030 file whose Chinese text comes later is retried as GB18030 then.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
                read += len(chunk)
                if limit is not None and read >= limit:
                    return "utf-8"
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            if limit is not None and read + error.start >= limit - 4:
                return "utf-8"  # a character cut at the limit, not a wrong encoding
            return "gb18030"
    return "utf-8"


def _read_csv(connection, path: Path, display: str, table: str, encoding: str | None) -> RawTable:
    if encoding is not None:
        wanted = ENCODINGS.get(encoding.lower())
        if wanted is None:
            raise DataArgumentProblem(f"unknown encoding '{encoding}'", "use utf-8 or gb18030")
        return _read_csv_as(connection, path, display, table, wanted)
    wanted = detect_encoding(path)
    try:
        return _read_csv_as(connection, path, display, table, wanted)
    except DataFileProblem as problem:
        if wanted == "utf-8" and "not utf-8 encoded" in problem.message.lower():
            return _read_csv_as(connection, path, display, table, "gb18030")
        raise


def _read_csv_as(connection, path: Path, display: str, table: str, wanted: str) -> RawTable:
    source = path
    temporary = None
    try:
        if wanted != "utf-8":
            temporary = _transcode_to_utf8(path, wanted)
            source = Path(temporary)
        else:
            _check_utf8(path)
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        headers = _csv_headers(source, delimiter)
        columns = "{" + ", ".join(f"'c{index}': 'VARCHAR'" for index in range(len(headers))) + "}"
        try:
            # Insertion order is file order, so the row's spreadsheet number is rowid + 2.
            connection.execute(
                f"CREATE OR REPLACE TEMP TABLE {table}_cells AS SELECT * FROM read_csv(?, header = true, "
                f"columns = {columns}, delim = ?, quote = '\"', escape = '\"', auto_detect = false, "
                f"strict_mode = true, null_padding = false)",
                [str(source), delimiter],
            )
        except Exception as error:  # DuckDB reports CSV structure errors with their line
            raise DataFileProblem(f"the CSV file cannot be read: {_csv_error(str(error))}") from None
        connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *, CAST(rowid + 2 AS BIGINT) AS {ROW_COLUMN} FROM {table}_cells"
        )
        rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return RawTable(table, tuple(headers), display, rows, wanted)
    finally:
        if temporary is not None:
            os.unlink(temporary)


def _csv_error(text: str) -> str:
    """DuckDB's CSV error in a line: where it is and what is wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    where = next((line for line in lines if line.startswith("Invalid Input Error") or "CSV Error" in line), lines[0] if lines else text)
    what = next((line for line in lines[1:] if not line.startswith(("Original Line", "Possible Solution", "*"))
                 and "CSV Error" not in line), "")
    where = where.replace("Invalid Input Error: ", "")
    return f"{where}: {what}" if what else where


def _csv_headers(path: Path, delimiter: str) -> list[str]:
    """The cleaned headers of the first record (a BOM and surrounding spaces removed)."""
    import csv

    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle, delimiter=delimiter), None)
    except UnicodeDecodeError as error:
        raise DataFileProblem(
            f"the file is not UTF-8 (byte 0x{error.object[error.start]:02x} near the start)",
            "leave out --encoding to detect GB18030, or pass --encoding gb18030",
        ) from None
    except csv.Error as error:
        raise DataFileProblem(f"the first row cannot be read as CSV: {error}") from None
    if not first:
        raise DataFileProblem("the file is empty: the first row must name the columns")
    headers = [header.strip() for header in first]
    _check_headers(headers)
    return headers


def _check_utf8(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(3)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataFileProblem("the file is UTF-16", "save it from Excel as 'CSV UTF-8' or as CSV (GB18030)")


def _transcode_to_utf8(path: Path, encoding: str) -> str:
    handle, name = tempfile.mkstemp(suffix=".csv", prefix="perfrules-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out, path.open(
            "r", encoding=encoding, errors="strict", newline=""
        ) as source:
            while chunk := source.read(1 << 20):
                out.write(chunk)
    except UnicodeDecodeError as error:
        os.unlink(name)
        raise DataFileProblem(
            f"the file is neither UTF-8 nor {encoding.upper()} (byte 0x{error.object[error.start]:02x})",
            "save it as 'CSV UTF-8', or pass --encoding",
        ) from None
    return name


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# ---- XLSX, JSON, JSON Lines ------------------------------------------------------------------


def _cell_text(value) -> str | None:
    """An Excel or JSON value as the text a person would have typed."""
    import datetime

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, datetime.timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = _without_surrogates(str(value))
    return text if text.strip() != "" else None


def _without_surrogates(text: str) -> str:
    """JSON may escape a lone surrogate (``\\ud800``), which no UTF-8 text can hold: U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8") if any("\ud800" <= c <= "\udfff" for c in text) else text


def _xlsx_rows(path: Path, sheet: str | None):
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a dependency
        raise DataFileProblem("reading .xlsx needs python-calamine", "pip install python-calamine") from None
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:
        raise DataFileProblem(f"the workbook cannot be read: {_first_line(str(error))}") from None
    names = workbook.sheet_names
    if sheet is None:
        if not names:
            raise DataFileProblem("the workbook has no sheets")
        sheet = names[0]
    elif sheet not in names:
        raise DataArgumentProblem(f"the workbook has no sheet '{sheet}'", "sheets: " + ", ".join(names))
    rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if not rows:
        raise DataFileProblem(f"the sheet '{sheet}' is empty")
    headers = [(_cell_text(cell) or "").strip() for cell in rows[0]]
    body = []
    for index, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(cell) for cell in row]
        if any(cell is not None for cell in cells):
            body.append((index, cells))
    return headers, body


def _json_rows(path: Path):
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise DataFileProblem("the JSON file is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise DataFileProblem(f"broken JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except (ValueError, ArithmeticError, RecursionError) as error:  # thousands of digits, 1e99999999999999999999, deep nesting
        raise DataFileProblem(f"the JSON file cannot be read: {_json_limit(error)}") from None
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise DataFileProblem("the JSON file must hold a list of objects, one per agent and period")
    return _objects_to_rows(document, start=1)


def _jsonl_rows(path: Path):
    objects = []
    numbers = []
    problems = []
    with path.open("r", encoding="utf-8-sig") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line, parse_float=Decimal)
                except json.JSONDecodeError as error:
                    problems.append(f"line {number}: {error.msg}")
                    continue
                except (ValueError, ArithmeticError, RecursionError) as error:
                    problems.append(f"line {number}: {_json_limit(error)}")
                    continue
                if not isinstance(item, dict):
                    problems.append(f"line {number}: not an object")
                    continue
                objects.append(item)
                numbers.append(number)
        except UnicodeDecodeError:
            raise DataFileProblem("the JSON Lines file is not UTF-8") from None
    if problems:
        raise DataFileProblem("broken JSON Lines: " + "; ".join(problems))
    headers, rows = _objects_to_rows(objects, start=1)
    return headers, [(numbers[index], cells) for index, (_, cells) in enumerate(rows)]


def _json_limit(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    if isinstance(error, ArithmeticError):
        return "a number's exponent is too large"
    return "a number has too many digits"


def _objects_to_rows(objects: list[dict], start: int):
    headers: list[str] = []
    seen: set[str] = set()
    for item in objects:
        for key in item:
            if key not in seen:
                seen.add(key)
                headers.append(key)
    names = [_without_surrogates(header) for header in headers]
    rows = []
    for index, item in enumerate(objects, start=start):
        cells = []
        for key in headers:
            value = item.get(key)
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, default=float)  # fractions are Decimals
            cells.append(_cell_text(value))
        rows.append((index, cells))
    return names, rows


def _load_rows(connection, table: str, display: str, headers: list[str], rows, encoding) -> RawTable:
    import pyarrow as pa

    _check_headers(headers)
    columns = {f"c{i}": pa.array([cells[i] if i < len(cells) else None for _, cells in rows], pa.string())
               for i in range(len(headers))}
    columns[ROW_COLUMN] = pa.array([number for number, _ in rows], pa.int64())
    arrow_table = pa.table(columns)
    connection.register(f"{table}_arrow", arrow_table)
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    connection.unregister(f"{table}_arrow")
    return RawTable(table, tuple(headers), display, len(rows), encoding)


# ---- Parquet ------------------------------------------------------------------------------------


def _read_parquet(connection, path: Path, display: str, table: str) -> RawTable:
    try:
        names = [name for name, *_ in connection.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        # Columns are renamed by position (the alias list), so no name of the file reaches SQL.
        positions = ", ".join(f"c{index}" for index in range(len(names)))
        selects = ", ".join(f"CAST(c{index} AS VARCHAR) AS c{index}" for index in range(len(names)))
        # Insertion order is file order, so the row's number is rowid + 2 (as for CSV; the
        # option file_row_number would clash with a column of that name).
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_cells AS SELECT {selects} FROM read_parquet(?) AS cells({positions})",
            [str(path)],
        )
        connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *, CAST(rowid + 2 AS BIGINT) AS {ROW_COLUMN} FROM {table}_cells"
        )
    except DataFileProblem:
        raise
    except Exception as error:
        raise DataFileProblem(f"the Parquet file cannot be read: {_first_line(str(error))}") from None
    headers = tuple(name for name in names)
    _check_headers(list(headers))
    rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return RawTable(table, headers, display, rows, None)


def _check_headers(headers: list[str]) -> None:
    seen: set[str] = set()
    for header in headers:
        if header == "":
            raise DataFileProblem("a column has no header", "give every column a header in the first row")
        if header in seen:
            raise DataFileProblem(f"the header '{header}' appears twice", "every column needs its own header")
        seen.add(header)
