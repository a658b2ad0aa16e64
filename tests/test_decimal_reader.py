"""DuckDB's CSV reader types number columns itself: nothing it accepts may differ from perfrules' rules.

On the direct route (``perfrules.data.reading._direct_csv``) a column that only numeric metrics
read, and whose first rows hold plain decimals, is typed by the reader as ``DECIMAL(18, 6)``;
a cell the reader refuses stops the typing and the file is read again as text
(``TextReadingNeeded``).  That is only right if every cell the reader accepts is a cell that
perfrules' own typing (``perfrules.data.cells.typed_value``) reads to the same value, and is
flagged bad exactly when the exact check (``cell_error``) finds it bad.  These tests check that
cell by cell (hand-picked spellings and random ones), then end to end: a late ``92%``, a late
junk cell, and random tables with the reader forced on every column, against the exact route.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_data import (
    AFTER_SALES,
    AFTER_SALES_COLUMNS,
    AFTER_SALES_ROLES,
    FUZZ_SETTINGS,
    examples,
    file_formats,
    run_evaluate,
    tables,
    workdir,
)
from test_fuzz_routes import both_ways, outcome

from perfrules.data import reading
from perfrules.data.cells import (
    NUMERIC_TYPES,
    cell_error,
    cell_may_be_bad,
    number_value,
    typed_value,
)
from perfrules.data.file_scan import digits_joined
from perfrules.engine.run import open_connection

__all__ = ["workdir"]  # the module-scoped fixture, imported for pytest

# Every numeric type, and each unit a duration may be declared in.
TYPINGS = [(kind, None) for kind in NUMERIC_TYPES if kind != "duration"] + [
    ("duration", unit) for unit in (None, "s", "min", "h", "d")]

SPELLINGS = [
    "", " ", "0", "-0", "+1", "0.9235", "92", "100", "1.5", ".5", "5.", "-.5", "+.5", "00.5", " 0.5", "0.5 ",
    "\t0.5", "1e2", "1E-2", "1e+2", "1e", "e1", ".", "-", "+", "--1", "- 1", "1.2.3", "1,000", "1,000.5", "1_000",
    "1_0.5", "92%", "92 %", "0.5%", "10min", "1.5h", "00:06:30", "30s", "¥6,000", "6000元", "0x10", "inf", "nan",
    "NaN", "１", "0.1234565", "0.1234575", "0.1234567", "-0.0000005", "0.0000005", "999999999999.999999",
    "999999999999.9999995", "1000000000000", "1e12", "1e11", "12345678901234567890", "3.0", "3.5", "-3",
    "true", "n/a", "?", "是",
]


def reader_values(texts: list[str], folder: Path) -> dict[int, Decimal | None]:
    """The cells DuckDB's reader accepts as DECIMAL(18, 6), by position, read as perfrules reads
    them (``reading._csv_reader``): the refused rows skipped, then the accepted ones read again
    strictly, as perfrules reads a file."""
    connection = duckdb.connect()
    accepted: dict[int, Decimal | None] = {}
    source = folder / "cells.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["i", "c"])
    for index, text in enumerate(texts):
        writer.writerow([index, text])
    source.write_text(buffer.getvalue(), encoding="utf-8")
    reader = reading._csv_reader("?", 2, "','", {1})
    lenient = reader.replace("max_line_size", "ignore_errors = true, max_line_size")
    for index, value in connection.execute(f"SELECT c0, c1 FROM {lenient}", [str(source)]).fetchall():
        accepted[int(index)] = value
    strict = folder / "accepted.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["i", "c"])
    for index in accepted:
        writer.writerow([index, texts[index]])
    strict.write_text(buffer.getvalue(), encoding="utf-8")
    again = dict(connection.execute(f"SELECT CAST(c0 AS BIGINT), c1 FROM {reader}", [str(strict)]).fetchall())
    assert again == accepted, "the reader types a cell differently in a strict read"
    return accepted


def compare(texts: list[str], folder: Path) -> int:
    """Assert, for every cell the reader accepts and every numeric typing, the same value and the
    same verdict as perfrules' own typing of its text; return how many cells were accepted."""
    accepted = reader_values(texts, folder)
    # A cell the reader reads past an underscore (`1_000` as 1000) is never its to type: the
    # file scan sees the joined digits and the file's cells are read as text, where it is bad.
    misread = {index for index in accepted if digits_joined(texts[index].encode("utf-8"))}
    accepted = {index: value for index, value in accepted.items() if index not in misread}
    if misread:
        assert_refused([texts[index] for index in misread])
    if not accepted:
        return 0
    connection = open_connection()
    connection.execute("CREATE TEMP TABLE cells (i BIGINT, t VARCHAR, n DECIMAL(18, 6))")
    connection.executemany("INSERT INTO cells VALUES (?, ?, ?)",
                           [(index, texts[index], value) for index, value in accepted.items()])
    for kind, unit in TYPINGS:
        mismatches = connection.execute(
            f"SELECT i, t, n, v_text, v_number, bad_text, flagged FROM (SELECT i, t, n, "
            f"{typed_value(kind, unit, 't')} AS v_text, {number_value(kind, unit, 'n')} AS v_number FROM cells) "
            f", LATERAL (SELECT {cell_error(kind, 'v_text', 't')} AS bad_text, "
            f"coalesce({cell_may_be_bad(kind, 'v_number', 'n')}, false) AS flagged) "
            f"WHERE v_text IS DISTINCT FROM v_number OR (bad_text IS NOT NULL AND NOT flagged) "
            f"OR (bad_text IS NULL AND flagged AND t IS NOT NULL AND trim(t) <> '')"
        ).fetchall()
        assert not mismatches, f"{kind} ({unit}): the reader and perfrules disagree: {mismatches[:5]}"
    connection.close()
    return len(accepted)


def assert_refused(texts: list[str]) -> None:
    """Every numeric typing refuses each of ``texts`` (no value, a reason)."""
    connection = open_connection()
    connection.execute("CREATE TEMP TABLE cells (t VARCHAR)")
    connection.executemany("INSERT INTO cells VALUES (?)", [(text,) for text in texts])
    for kind, unit in TYPINGS:
        read = connection.execute(f"SELECT t, v, {cell_error(kind, 'v', 't')} FROM (SELECT t, "
                                  f"{typed_value(kind, unit, 't')} AS v FROM cells)").fetchall()
        assert all(value is None and reason is not None for _, value, reason in read), (kind, unit, read)
    connection.close()


def test_the_reader_accepts_only_what_perfrules_reads_the_same(tmp_path):
    accepted = compare(SPELLINGS, tmp_path)
    # Not vacuous: the plain decimals are accepted, and the spellings perfrules alone reads are not.
    values = reader_values(SPELLINGS, tmp_path)
    joined = [text for text in ("1_000", "1_0.5") if SPELLINGS.index(text) in values]
    assert joined == ["1_000", "1_0.5"]  # the reader takes them: they are left to the file scan
    assert accepted == len(values) - len(joined)
    assert values[SPELLINGS.index("0.9235")] == Decimal("0.9235")
    assert values[SPELLINGS.index("")] is None
    assert values[SPELLINGS.index("0.1234565")] == Decimal("0.123457")  # rounded half away from zero, as the cast
    for refused in ("92%", "1,000", "10min", "00:06:30", "¥6,000", " ", "n/a", "1e12", "nan", "１"):
        assert SPELLINGS.index(refused) not in values, refused


NUMBERISH = st.text(alphabet="0123456789.,-+eE _%x\t", max_size=14)


@settings(max_examples=examples(40), **FUZZ_SETTINGS)
@given(texts=st.lists(st.one_of(NUMBERISH, st.decimals(allow_nan=False, allow_infinity=False).map(str),
                                st.floats(allow_nan=False).map(repr), st.integers().map(str)),
                      min_size=1, max_size=40))
def test_random_cells_read_by_the_reader_are_read_the_same(tmp_path_factory, texts):
    texts = [text.replace("\r", "").replace("\n", "") for text in texts]
    compare(texts, tmp_path_factory.mktemp("cells"))


# ---- end to end ---------------------------------------------------------------------------------

HEADER = "agent_id,name,team,period,role,reply_within_10min,csat,csat_responses,resolution_rate,aht," \
         "qa_commendations,attitude_violations,serious_complaints,base_salary"


def plain_file(rows: int) -> list[str]:
    return [HEADER] + [f"A{number:03d},客服{number},T1,2026-11,agent,0.95,0.91,{20 + number},0.96,4.5,1,0,0,6000"
                       for number in range(rows)]


def with_cell(lines: list[str], row: int, column: str, text: str) -> list[str]:
    """The file's lines with the cell of ``column`` on ``row`` (the header is row 1) replaced."""
    cells = lines[row - 1].split(",")
    cells[HEADER.split(",").index(column)] = text
    return [*lines[:row - 1], ",".join(cells), *lines[row:]]


def test_a_plain_file_is_typed_by_the_reader(tmp_path):
    """The shortcut is taken (so that the other tests test it): the number columns are read as
    numbers, the text columns as text; a column with a `92%` in its first rows is read as text."""
    lines = with_cell(plain_file(30), 4, "reply_within_10min", "95%")
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    numbers = frozenset({"reply_within_10min", "csat", "aht", "name"})
    connection = open_connection()
    raw = reading.read_table(connection, path, "data.csv", "raw_cells", direct=True, numbers=numbers)
    assert raw.decimals == frozenset({"csat", "aht"})  # `name` holds text, reply_within_10min a `95%`
    assert connection.execute("SELECT typeof(c6), typeof(c9), typeof(c5), typeof(c1) FROM raw_cells LIMIT 1"
                               ).fetchall() == [("DECIMAL(18,6)", "DECIMAL(18,6)", "VARCHAR", "VARCHAR")]


def evaluate_both_ways(folder: Path, lines: list[str]):
    """``perfrules evaluate`` on the file, with every shortcut and with the exact route alone."""
    data = ("\n".join(lines) + "\n").encode()
    fast = outcome(run_evaluate(folder, AFTER_SALES, "data.csv", data, "--format", "csv"))
    with mock.patch("perfrules.data.reading._direct_csv", return_value=None):
        exact = outcome(run_evaluate(folder, AFTER_SALES, "data.csv", data, "--format", "csv"))
    assert fast == exact
    return fast


def test_a_late_percent_sign_reads_the_file_as_text_and_warns(workdir):
    """Plain decimals in the first rows, `92%` on row 28: the reader refuses it, the file is read
    as text, and the column is reported as mixing spellings, as the exact route reports it."""
    lines = with_cell(plain_file(30), 28, "reply_within_10min", "92%")
    code, stdout, stderr = evaluate_both_ways(workdir, lines)
    assert code == 0
    assert stderr == ("data.csv: warning: column reply_within_10min mixes percent cells (row 28: '92%') with bare "
                      "numbers (row 2: '0.95', read as 95%); write every cell the same way\n")
    assert "A026,客服26" in stdout


def test_a_late_bad_cell_is_reported_with_its_row(workdir):
    lines = with_cell(plain_file(30), 25, "csat_responses", "n/a")
    code, stdout, stderr = evaluate_both_ways(workdir, lines)
    assert (code, stdout) == (3, "")
    assert stderr.startswith("data.csv:25: column csat_responses: 'n/a' is not a whole number\n")


@pytest.mark.parametrize("cell, message", [
    ("1e12", "data.csv:25: column csat_responses: '1e12' is too large (at most 999,999,999,999)"),
    ("3.5", "data.csv:25: column csat_responses: '3.5' is not a whole number"),
    ("-2", "data.csv:25: column csat_responses: '-2' is negative"),
])
def test_late_cells_the_reader_reads_but_the_rules_refuse(workdir, cell, message):
    """`3.5` and `-2` are numbers to the reader: the typed rows' checks still refuse them, and
    `1e12` is too large for either; each message is the exact route's."""
    lines = with_cell(plain_file(30), 25, "csat_responses", cell)
    code, stdout, stderr = evaluate_both_ways(workdir, lines)
    assert (code, stdout) == (3, "")
    assert stderr.startswith(message + "\n")


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(table=tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), how=file_formats())
def test_the_reader_forced_on_every_number_column_is_the_exact_reading(workdir, table, how):
    """Random tables (valid, a few bad cells, wild ones) with the reader typing every number
    column whatever its first rows hold: the same exit code, stdout and stderr as the exact route."""
    with mock.patch.object(reading, "plain_decimal", return_value=True):
        both_ways(workdir, AFTER_SALES, AFTER_SALES_COLUMNS, table, how)


def test_a_name_with_a_line_break_is_read_the_exact_way(workdir):
    """A quoted cell that holds a line break makes the file's lines more than its rows: the reader's
    rows cannot be counted against the lines, so the file is read the exact way (and still evaluated)."""
    lines = with_cell(plain_file(30), 5, "name", '"客服\n第二行"')
    code, stdout, stderr = evaluate_both_ways(workdir, lines)
    assert (code, stderr) == (0, "")
    assert '"客服\n第二行"' in stdout


GROUPED_CELLS = ["4,200", "1,234.50", "1,200.00", "1,000,000", "999,999,999,999.999999", "9,999,999,999,999",
                 "1,2345", "12,00", ",200", "4,200.", " 4,200 ", "-4,200", "+1,200", "¥4,200", "4,200元", "1,200e3",
                 "1,200 元", "1,2,3", "1,234.5,6"]


@pytest.mark.parametrize("kind", ["money", "count", "number"])
def test_cells_with_commas_skip_the_cast_and_read_as_the_spelled_way(kind):
    """A cell with a comma skips the plain cast (DuckDB's never reads one; a failed TRY_CAST is
    most of a million amounts' typing) and a plain `4,200` the regular expressions: each must be
    the value that the spelled reading (the regular expression of its kind) gives."""
    from perfrules.data import cells

    pattern = {"money": cells.MONEY, "count": cells.WHOLE, "number": cells.NUMBER}[kind]
    text = cells.cleaned("x")
    number = cells._extract(text, pattern, 1) if kind == "money" else text
    spelled = f"CASE WHEN {cells._matches(text, pattern)} THEN {cells._to_decimal(number)} END"
    connection = open_connection()
    for cell in GROUPED_CELLS:
        typed, expected = connection.execute(f"SELECT {cells.typed_value(kind, None, 'x')}, {spelled} FROM "
                                             f"(SELECT ? AS x)", [cell]).fetchone()
        assert typed == expected, (kind, cell)
    assert connection.execute(f"SELECT {cells.typed_value(kind, None, 'x')} FROM (SELECT '4,200' AS x)").fetchone() == (
        Decimal("4200"),)


@pytest.mark.parametrize("cell, unit, seconds", [
    ("00:06:30", None, "390"), ("1:02:03", "min", "3723"), ("100:00:00", None, "360000"), ("00:00:30.5", None, "30.5"),
    ("277777777:46:39.999999", None, "999999999999.999999"),  # the largest duration there is
    ("277777777:46:40", None, None), ("999999999999:00:00", None, None),  # beyond DECIMAL(18, 6): a bad cell
    ("08:30", None, None), ("00:60:00", None, None),
    ("30s", "min", "30"), ("30sec", None, "30"), ("10min", None, "600"), ("1.5h", None, "5400"), ("2d", None, "172800"),
    ("2 min", None, "120"), ("30秒", None, "30"), ("10分钟", None, "600"), ("2小时", None, "7200"), ("1天", None, "86400"),
    ("1,000min", None, "60000"), ("11574074074d", None, None), ("1h30min", None, None),
    ("8.5", "min", "510"), (" 8.5 ", "min", "510"), ("8.5", None, "8.5"), ("2", "h", "7200"), ("1e3", None, "1000"),
    ("277777777.777778", "h", None), ("nan", "min", None),
])
def test_durations_in_seconds(cell, unit, seconds):
    """Each spelling of docs/evaluation.md 2.4, in seconds, exact; beyond 999,999,999,999.999999
    the cell is bad (NULL), never an overflow error (the parts are widened before multiplying)."""
    from perfrules.data import cells

    value = open_connection().execute(f"SELECT {cells.typed_value('duration', unit, 'x')} FROM (SELECT ? AS x)",
                                      [cell]).fetchone()[0]
    assert value == (Decimal(seconds) if seconds is not None else None)
