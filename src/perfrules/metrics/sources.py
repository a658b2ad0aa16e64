"""Opening a definitions file's sources: what the query reads, and every reason it cannot.

A CSV source (plain or ``.csv.gz``, UTF-8) is read by DuckDB straight from the file
inside the one metrics query, every column as text (the options of
:mod:`perfrules.data.reading`, so the cells are the same); a GB18030 CSV is first
transcoded to a private UTF-8 copy.  XLSX, JSON and Parquet sources, and the roster,
are loaded as tables of text cells by :func:`perfrules.data.reading.read_table`.
A missing file and a column the definitions name but the file lacks are
:class:`~perfrules.data.validate.DataProblem` s (exit 3), all of them, with "did you mean".
"""

from __future__ import annotations

import csv
import gzip
import shutil
import tempfile
import zlib
from pathlib import Path

from perfrules.data.encodings import ENCODINGS, copy_as_utf8, undecodable
from perfrules.data.file_scan import stream_digits_joined
from perfrules.data.problems import DataFileProblem
from perfrules.data.reading import data_format, read_table
from perfrules.data.validate import DataProblem, file_problems
from perfrules.diagnostics import did_you_mean
from perfrules.engine.run import EvaluationFailed
from perfrules.engine.sql import text_literal
from perfrules.files import private_folder
from perfrules.metrics.check import MetricsModel, SourceModel
from perfrules.metrics.compile import SourceInput


# What reading a (gzipped) file raises when it cannot be read: a damaged compressed stream is
# a zlib.error (`invalid block type`), neither an OSError nor an EOFError.
UNREADABLE = (OSError, EOFError, zlib.error)


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def source_format(path: Path) -> str:
    """csv, xlsx, json, jsonl or parquet; ``x.csv.gz`` is a CSV."""
    return "csv" if is_gzip(path) and path.name.lower()[:-3].endswith((".csv", ".txt")) else data_format(path)


def open_source_file(path: Path, mode: str, **keywords):
    """The source file opened: through gzip for a ``.gz`` file."""
    return (gzip.open if is_gzip(path) else open)(path, mode, **keywords)


def cannot_read(path: Path, error: BaseException) -> DataFileProblem:
    """The problem of a source that reading stopped with ``error`` (one of :data:`UNREADABLE`)."""
    return DataFileProblem(f"cannot be read: {getattr(error, 'strerror', None) or error}",
                           "a file ending in .gz must be gzip-compressed whole; compress it again"
                           if is_gzip(path) else None)


def _utf8_start(path: Path, limit: int = 1 << 22) -> bool:
    try:
        with open_source_file(path, "rb") as handle:
            head = handle.read(limit)
    except UNREADABLE as error:
        raise cannot_read(path, error) from None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 4  # a character cut at the limit
    return True


def _digits_joined(path: Path) -> bool:
    """Whether the CSV file holds an underscore between two digits anywhere: DuckDB's reader types
    `1_0` as the number 10 (`1e1_0` as 1e10), so such a file's cells are all read as text, where
    the cell is bad (perfrules.data.file_scan.digits_joined)."""
    try:
        with open_source_file(path, "rb") as handle:
            return stream_digits_joined(handle)
    except UNREADABLE:
        return True  # read as text: that reading says what is wrong with the file


def plain_utf8_copy(path: Path, encoding: str, folder: str) -> Path:
    """A private, uncompressed UTF-8 copy of a (gzipped) CSV file."""
    made = Path(tempfile.mkstemp(suffix=".csv", prefix="perfrules-", dir=folder)[1])
    try:
        with open_source_file(path, "rb") as raw, open(made, "wb") as out:
            copy_as_utf8(raw, encoding, out)
    except UnicodeDecodeError:
        try:  # the byte's line, and whether the file is UTF-8: read again (a damaged .gz fails later)
            problem = undecodable(lambda: open_source_file(path, "rb"), encoding,
                                  "save it as 'CSV UTF-8', or write `encoding \"gb18030\"` in the source",
                                  "leave out the source's `encoding`, or write `encoding \"utf-8\"`")
        except UNREADABLE as error:
            raise cannot_read(path, error) from None
        raise problem from None
    except UNREADABLE as error:
        raise cannot_read(path, error) from None
    return made


def _csv_headers(path: Path) -> tuple[str, ...]:
    try:
        with open_source_file(path, "rt", encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle), None)
    except (*UNREADABLE, UnicodeDecodeError, csv.Error) as error:
        raise DataFileProblem(f"the first row cannot be read: {getattr(error, 'strerror', None) or error}") from None
    if not first:
        raise DataFileProblem("the file is empty: the first row must name the columns")
    return tuple(cell.strip() for cell in first)


ISO_DATE = "%Y-%m-%d"
NATIVE_TYPES = {"count": "DECIMAL(18, 6)", "number": "DECIMAL(18, 6)", "money": "DECIMAL(18, 6)",
                "percent": "DECIMAL(18, 6)", "duration": "DECIMAL(18, 6)", "timestamp": "TIMESTAMP"}


def read_csv_relation(path: Path, width: int, native: dict[int, str] | None = None, timestamp_format: str | None = None,
                      unknown: str | None = None) -> str:
    """DuckDB's reading of the file as perfrules.data.reading reads a CSV: every column text, or
    with ``native`` some columns typed by DuckDB's CSV parser (the fast path: a cell it cannot
    read fails the whole query, which then runs again on text cells)."""
    native = native or {}
    columns = "{" + ", ".join(f"'c{index}': '{native.get(index, 'VARCHAR')}'" for index in range(width)) + "}"
    options = ""
    if timestamp_format is not None:
        options += f", timestampformat = {text_literal(timestamp_format)}"
    if native and unknown is not None:
        options += f", nullstr = ['', {text_literal(unknown)}]"
    return (f"read_csv({text_literal(str(path))}, header = true, columns = {columns}, delim = ',', quote = '\"', "
            f"escape = '\"', auto_detect = false, strict_mode = true, null_padding = false, compression = 'auto'"
            f"{options})")


def native_input(source: SourceModel, path: Path, headers: tuple[str, ...]) -> SourceInput:
    """The fast reading of a CSV source: its numbers and timestamps parsed by DuckDB's reader
    (an ISO date ``YYYY-MM-DD`` as a DATE; other timestamps when they share one format)."""
    used = [column for column in source.used() if column.kind in NATIVE_TYPES and column.header in headers]
    formats = {column.format for column in used if column.kind == "timestamp" and column.format != ISO_DATE}
    if len(formats) > 1:
        used = [column for column in used if column.kind != "timestamp" or column.format == ISO_DATE]
    native = {headers.index(column.header): "DATE" if column.kind == "timestamp" and column.format == ISO_DATE
              else NATIVE_TYPES[column.kind] for column in used}
    relation = read_csv_relation(path, len(headers), native, next(iter(formats)) if len(formats) == 1 else None,
                                 source.unknown)
    return SourceInput(relation, headers, frozenset(column.header for column in used))


class OpenedSources:
    """The inputs of the query, the exact (row-numbered) readings made on demand, and the
    private folder of copies (removed by :meth:`close`)."""

    def __init__(self, connection, model: MetricsModel):
        self.connection, self.model = connection, model
        # Copies of sources (UTF-8, uncompressed) hold salaries: in the private folder that a later
        # run empties after a kill (files.private_folder), never one left in /tmp for good.
        self.folder = str(private_folder())
        self.inputs: list[SourceInput] = []  # every cell text
        self.fast: list[SourceInput] = []  # CSV numbers and timestamps typed by DuckDB's reader
        self.readable: list[Path] = []  # per source: the UTF-8 file DuckDB reads (CSV), else the file
        self.roster: SourceInput | None = None

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def open(self) -> None:
        problems: list[DataProblem] = []
        for index, source in enumerate(self.model.sources):
            try:
                given, readable = self._open_source(index, source)
            except DataFileProblem as problem:
                problems += file_problems(source.display, problem)
                continue
            problems += _unknown_columns(source.display, given.headers,
                                         [(column.header, f"source {source.name}") for column in source.used()])
            self.inputs.append(given)
            self.readable.append(readable)
            typed_by_reader = given.relation.startswith("read_csv(") and not _digits_joined(readable)
            self.fast.append(native_input(source, readable, given.headers) if typed_by_reader else given)
        roster = self.model.roster
        if roster is not None:
            try:
                raw = read_table(self.connection, roster.path, roster.display, "roster_raw")
                self.roster = SourceInput("roster_raw", raw.headers)
                wanted = [(roster.agent, "the roster's agent")] + [
                    (header, f"the roster's {field}") for field, header in roster.fields.items()]
                problems += _unknown_columns(roster.display, raw.headers, wanted)
            except DataFileProblem as problem:
                problems += file_problems(roster.display, problem)
        if problems:
            raise EvaluationFailed(problems)

    def _open_source(self, index: int, source: SourceModel) -> tuple[SourceInput, Path]:
        path = source.path
        try:
            wrong = None if path.is_file() else "no such file" if not path.exists() else "this is not a regular file"
        except OSError as error:  # a name too long for the file system, for one
            wrong = f"cannot be read: {error.strerror or error}"
        if wrong is not None:
            raise DataFileProblem(wrong, f"source {source.name} of {self.model.file} (line {source.node.span.line}); "
                                         f"give another path with --source {source.name}=PATH")
        kind = source_format(path)
        if kind != "csv":
            raw = read_table(self.connection, path, source.display, f"s{index}_raw", sheet=source.sheet)
            return SourceInput(raw.table, raw.headers), path
        encoding = ENCODINGS[source.encoding.lower()] if source.encoding else ("utf-8" if _utf8_start(path) else "gb18030")
        readable = path if encoding == "utf-8" else plain_utf8_copy(path, encoding, self.folder)
        headers = _csv_headers(readable)
        return SourceInput(read_csv_relation(readable, len(headers)), headers), readable

    def exact(self, index: int) -> str:
        """The source ``index`` as a table of text cells with ``__row`` (the spreadsheet's row
        numbers), for the problem messages; a CSV is read again, exactly, by read_table."""
        source = self.model.sources[index]
        given = self.inputs[index]
        if not given.relation.startswith("read_csv("):
            return given.relation
        readable = self.readable[index]
        if is_gzip(readable):
            readable = plain_utf8_copy(readable, "utf-8", self.folder)
        raw = read_table(self.connection, readable, source.display, f"s{index}_exact", encoding="utf-8")
        return raw.table


def _unknown_columns(display: str, headers: tuple[str, ...], wanted: list[tuple[str, str]]) -> list[DataProblem]:
    problems = []
    for header, used_by in dict(wanted).items():
        if headers.count(header) > 1:
            problems.append(DataProblem(display, f"has the column '{header}' {headers.count(header)} times "
                                                 f"(used by {used_by}); give each column its own header"))
        elif header not in headers:
            hint = did_you_mean(header, headers)
            problems.append(DataProblem(display, f"has no column '{header}' (used by {used_by})"
                                                 + (f"; {hint}" if hint else "")))
    return problems

