"""Parquet data files as a table of text cells, like the cells of a CSV file.

DuckDB reads the file itself; every value becomes the text a person would have typed (a whole
number in a float column, as pandas writes ids and teams beside a missing value, without
decimals: 1001, never 1001.0, as for XLSX; an Arrow duration, which Parquet keeps as a count of
its unit, as a clock), the columns are renamed by position so that no
name of the file reaches SQL, and a row's number is its position plus 2, as in a CSV file.
In the data evaluated, a float ``period`` column's 2026.1 is refused: it may be January or October.
"""

from __future__ import annotations

from pathlib import Path

from perfrules.data.problems import DataFileProblem
from perfrules.data.reading import (
    AMBIGUOUS_PERIOD_NUMBER,
    ROW_COLUMN,
    RawTable,
    _check_headers,
    _filled_columns,
    _first_line,
    period_number_problem,
)


def read_parquet(connection, path: Path, display: str, table: str, periods: bool = False) -> RawTable:
    try:
        described = connection.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        names, durations = _arrow_columns(path, [name for name, *_ in described])
        # Columns are renamed by position (the alias list), so no name of the file reaches SQL.
        positions = ", ".join(f"c{index}" for index in range(len(names)))
        selects = ", ".join(f"{_parquet_text(f'c{index}', kind, durations.get(index))} AS c{index}"
                            for index, (_, kind, *_) in enumerate(described))
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
        from perfrules.files import query_interrupted

        if query_interrupted(error):  # Ctrl-C, not the file: cli.py says so
            raise
        raise DataFileProblem(f"the Parquet file cannot be read: {_first_line(str(error))}") from None
    headers = tuple(name for name in names)
    if periods:
        _check_period_numbers(connection, table, headers, described)
    _check_headers(list(headers), filled=_filled_columns(connection, f"{table}_cells", list(headers)))
    rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return RawTable(table, headers, display, rows, None)


def _check_period_numbers(connection, table: str, headers, described) -> None:
    """A float ``period`` column's cells like 2026.1 are refused (period_number_problem)."""
    if "period" not in headers or described[headers.index("period")][1].upper() not in ("DOUBLE", "FLOAT", "REAL"):
        return
    column = f"c{headers.index('period')}"
    found = connection.execute(
        f"SELECT {ROW_COLUMN}, {column} FROM {table} WHERE regexp_full_match({column}, ?) ORDER BY {ROW_COLUMN}",
        [AMBIGUOUS_PERIOD_NUMBER.pattern]).fetchall()
    if found:
        raise DataFileProblem.of([period_number_problem(text, row) for row, text in found])


# Nanoseconds in one of each unit of an Arrow duration.
NANOSECONDS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _arrow_columns(path: Path, described: list[str]) -> tuple[list[str], dict[int, str]]:
    """The file's own column names, and the unit of each column (by position) that Arrow wrote
    as a duration (pandas' Timedelta): Parquet stores it as a plain INT64, the count of its
    units, which DuckDB reads as a number (390.5 seconds in milliseconds are 390500: a number of
    seconds 1000 times too large).  DuckDB's names (``described``) are the file's but for a name
    written twice, which it renames (``hold``, ``HOLD`` become ``hold``, ``HOLD_1``): the file's
    names are the headers, so that a name twice is refused as in a CSV file.  The columns are
    the file's top-level fields in both, in the same order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    if len(schema) != len(described):  # not the columns DuckDB reads: no Arrow schema to trust
        return described, {}
    return schema.names, {index: field.type.unit for index, field in enumerate(schema)
                          if pa.types.is_duration(field.type)}


def _clock_text(column: str, unit: str) -> str:
    """An Arrow duration (a count of ``unit``s) as the clock a duration cell is written in:
    ``00:06:30.5``, ``-00:06:30``, ``36:00:00`` (reading.cell_text writes an XLSX duration so)."""
    nanos = f"(abs(CAST({column} AS HUGEINT)) * {NANOSECONDS[unit]})"
    fraction = f"{nanos} % 1000000000"
    return (f"CASE WHEN {column} < 0 THEN '-' ELSE '' END || "
            f"printf('%02d:%02d:%02d', {nanos} // 3600000000000, {nanos} % 3600000000000 // 60000000000, "
            f"{nanos} % 60000000000 // 1000000000) || "
            f"CASE WHEN {fraction} = 0 THEN '' ELSE '.' || rtrim(lpad(CAST({fraction} AS VARCHAR), 9, '0'), '0') END")


def _parquet_text(column: str, kind: str, duration_unit: str | None = None) -> str:
    """A Parquet value as text; a whole number in a float column (ids and teams written by
    pandas next to a missing value) without decimals: 1001, never 1001.0, as for XLSX; an
    Arrow duration (``duration_unit``) as a clock."""
    if duration_unit is not None:
        return _clock_text(column, duration_unit)
    if kind.upper() in ("DOUBLE", "FLOAT", "REAL"):
        return (f"CASE WHEN isfinite({column}) AND {column} = trunc({column}) AND abs({column}) < 1e37 "
                f"THEN CAST(CAST({column} AS HUGEINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END")
    return f"CAST({column} AS VARCHAR)"
