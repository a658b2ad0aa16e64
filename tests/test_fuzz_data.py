"""Fuzz tests of the data side: whatever the data file holds, ``perfrules evaluate``
answers with results (exit 0) or with one line per data problem (exit 3), never with a
Python traceback.

The generators feed ``perfrules evaluate POLICIES data.*``, run in-process with click's
CliRunner (exceptions caught, so that a failure shows the input):

1. tables with the right headers whose cells are drawn per column from the valid
   spellings of ``docs/evaluation.md`` (2.3, 2.4), edge values (0, 100%, 1e12,
   999999999999.999999, 1e300, NaN, inf, 29+ digits), empty cells, spaces, quotes,
   commas, line breaks, full-width digits, emoji, right-to-left marks, control
   characters, digits joined by an underscore (`1_0`, refused) and characters GB18030
   writes in four bytes (`𠀀`), with random ids, periods and roles (duplicates included); written as
   CSV (UTF-8, UTF-8 with BOM or GB18030; quoted or not; CRLF or LF), JSON, JSON Lines,
   XLSX or Parquet. Three policies: ``policies/after_sales_agent.perf`` (percent, count,
   duration in min, money), ``MINI_POLICY`` below (number, bool, text, a duration whose
   ``column`` header needs quoting, a count), and a folder holding both (the small one
   quarterly), where each policy types only its own rows and picks its own period;
2. the same tables with their headers perturbed: columns missing, duplicated, renamed in
   another letter case, padded with spaces, named like perfrules' or DuckDB's own columns
   (``_ROW``, ``rowid``, ``c0``), empty, extra columns, a byte-order mark, rows with a
   field too many or too few;
3. random bytes as ``data.csv`` (and text encoded in GB18030, UTF-16, UTF-32, Big5 or
   UTF-8 with BOM, cut short, with NUL bytes; GB18030 with a byte that is not GB18030 late
   in it), random text and random JSON documents as
   ``data.json`` / ``data.jsonl``;
4. workbooks written by openpyxl with cells of every Excel type (numbers, text, formulas
   without a saved value, error cells, empty cells, dates, times, durations, booleans),
   sometimes merged cells or a hidden first sheet: each formula, error and merge must be
   its own problem line (docs/evaluation.md 3.1); and workbooks with a few bytes of an XML
   part or of the archive replaced.

Every run must end with exit code 0 or 3 and no exception. On exit 3 stdout is empty,
every stderr line but the last is ``data.csv:ROW: ...`` or ``data.csv: ...``, their
rows are in order, and the last line is ``N data problem(s): nothing was written`` with N
the number of lines above it; no control character (a line break in a cell, U+0085,
U+2028, an escape sequence) reaches stderr unescaped, so lines stay lines for any reader.
On exit 0 stdout is strict JSON (no NaN) with the contract's top-level keys, canonical
periods, results for agents of the file only, and stderr holds nothing but the document's
warnings (a percent column mixing `92%` with bare numbers).

Stronger oracles where the answer is known:

- a clean table (valid spellings, unique ids, one or two periods of the right kind) must
  evaluate, with one result per agent of each policy's latest period, and the KPI values
  and points, base score, score and grade that the spellings stand for (recomputed here
  with exact decimals; ``expected_after_sales``, ``expected_mini``). Where a result is
  beyond 999,999,999,999 (docs/evaluation.md 6.3) every fair reading is accepted;
- header perturbations that the contract says change nothing (column order, spaces around
  headers, a BOM, extra columns: "columns that no metric reads are ignored", and `CSAT`
  is not `csat`) must give the same outcome as the unperturbed file.

Hypothesis runs derandomized (the same examples every run, for CI) without an example
database; ``PERFRULES_FUZZ_RANDOM=1`` explores new examples each run,
``PERFRULES_FUZZ_SCALE=10`` runs ten times as many, and ``PERFRULES_FUZZ_SHRINK=0``
reports failures without shrinking them (much faster when hunting). The file takes
about 50 s on 2 cores; ``pytest --hypothesis-show-statistics`` shows how the examples ended.

The edge cases these fuzzers found are replayed by the deterministic tests at the end
(``test_found_by_fuzzing_...``): add each new one there.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import re
import unicodedata
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from conftest import POLICIES
from perfrules.cli import main

AFTER_SALES = POLICIES / "after_sales_agent.perf"

# A small policy with the metric types after_sales_agent.perf lacks, and a `column` header
# that needs quoting (in CSV, in SQL). Every metric may be missing (`when missing 50`;
# conditions on missing values do not hold) and every rule block has an `else`, so a table
# of valid cells always evaluates.
MINI_POLICY = """\
policy "mini" {
    version "1"
    roles agent, 客服
    period month
    language en

    metric score_in: number "raw score" higher is better
    metric on_probation: bool "on probation"
    metric shift: text "shift"
    metric wait: duration "wait" lower is better column "a\\"b'c 等待(秒)"
    metric complaints: count "complaints" lower is better

    kpi "raw" weight 100% when missing 50 {
        points score_in * 2 - 100
    }

    adjust "extras" {
        -5 when on_probation "probation"
        +1 when shift == "night" "night shift"
        -1 when wait > 10min "slow"
        -3 per complaints "complaints"
        limit -10 to +10
    }

    grade {
        score >= 60 => "pass"
        else => "fail"
    }
}
"""

PROBLEM_LINE = re.compile(r"^data\.(csv|json|jsonl|xlsx|parquet):(?:(\d+):)? .+")
WARNING_LINE = re.compile(r"^data\.(csv|json|jsonl|xlsx|parquet): warning: column .+ mixes percent cells \(row \d+: '.*'\) "
                          r"with bare numbers \(row \d+: '.*', read as [0-9.]+%\); write every cell the same way$")
# The policies' own warnings at evaluation: a SMART goal nobody reached (language.md §13, A),
# an award streak broken by an earlier row that cannot be evaluated (§14).
STANDING_LINE = re.compile(r'^(target ".+" of policy ".+": no agent( of its roles)? reached .+ in any period of the data; '
                           r"(the best value seen is .+|no value of '.+' was seen) \(is the goal achievable\?\)"
                           r'|award ".+" of policy ".+": .+ broken)$')
SUMMARY_LINE = re.compile(r"^(\d+) data (problems?): nothing was written$")
TOP_KEYS = {"perfrules", "period", "data_sha256", "policies", "results", "warnings"}
CANONICAL_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")

SCALE = float(os.environ.get("PERFRULES_FUZZ_SCALE", "1"))
FUZZ_SETTINGS = dict(
    deadline=None,
    database=None,
    derandomize=os.environ.get("PERFRULES_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
if os.environ.get("PERFRULES_FUZZ_SHRINK") == "0":  # hunting: report failures unshrunk, fast
    from hypothesis import Phase

    FUZZ_SETTINGS["phases"] = [Phase.explicit, Phase.generate]


def examples(count: int) -> int:
    return max(1, int(count * SCALE))


# ---- running the command and judging its answer ------------------------------------------

# Crashes found by these fuzzers and not fixed yet: text of the exception -> its failing test.
# The fuzzers skip examples that hit them, so that they keep checking the rest of the space;
# delete an entry once its test passes.
KNOWN_CRASHES: dict[str, str] = {}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder with the data file that every example overwrites, and the small policy."""
    folder = tmp_path_factory.mktemp("fuzz_data")
    (folder / "mini.perf").write_text(MINI_POLICY, encoding="utf-8")
    (folder / "both").mkdir()
    (folder / "both" / AFTER_SALES.name).write_bytes(AFTER_SALES.read_bytes())
    quarterly = (MINI_POLICY.replace("roles agent, 客服", "roles 客服, 组长")
                 .replace("period month", "period quarter"))
    (folder / "both" / "mini.perf").write_text(quarterly, encoding="utf-8")
    yearly = (MINI_POLICY.replace('policy "mini"', 'policy "mini 年度"').replace("roles agent, 客服", "roles 主管")
              .replace("period month", "period year"))
    (folder / "both" / "mini_year.perf").write_text(yearly, encoding="utf-8")
    return folder


def run_evaluate(workdir: Path, policy: Path, name: str, data: bytes, *options: str):
    """Write ``data`` to ``workdir/name`` and run ``perfrules evaluate POLICY name`` there."""
    for old in workdir.glob("data.*"):
        old.unlink()
    (workdir / name).write_bytes(data)
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        return CliRunner().invoke(main, ["evaluate", str(policy), name, *options], catch_exceptions=True)
    finally:
        os.chdir(previous)


def describe(name: str, data: bytes, options=(), table: str | None = None) -> str:
    """The command and the data file (for .xlsx and .parquet, the table they hold, as CSV)."""
    command = " ".join(["perfrules evaluate POLICY", name, *options])
    if table is not None:
        return f"command: {command}\n{name} holds this table (as CSV): {table[:4000]!r}"
    try:
        shown = repr(data.decode("utf-8"))
    except UnicodeDecodeError:
        shown = repr(data)
    return f"command: {command}\n{name} ({len(data)} bytes): {shown[:4000]}"


def judge(result, name: str, data: bytes, options=(), fuzz=False, table=None) -> dict | None:
    """Assert the contract of one run; return the parsed JSON on exit 0.

    ``fuzz``: inside a hypothesis test (counts the outcomes for --hypothesis-show-statistics,
    skips the KNOWN_CRASHES).
    ``table``: the table an .xlsx or .parquet file holds, as CSV, to show on failure.
    """
    context = (f"{describe(name, data, options, table)}\nexit code: {result.exit_code}\n"
               f"stderr:\n{result.stderr[-3000:]}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        if fuzz and any(text in str(result.exception) for text in KNOWN_CRASHES):
            assume(False)  # a known crash, with its own test below
        trace = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"perfrules evaluate raised {result.exception!r}\n{context}\n{trace[-4000:]}")
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr, context
    if fuzz:  # shown by pytest --hypothesis-show-statistics
        event(f"exit {result.exit_code}")
        if result.exit_code == 3:
            event("first problem: " + re.sub(r"'.*'|\d+|agent \S+", "…", result.stderr.split("\n")[0])[:70])
    assert result.exit_code in (0, 3), context
    if result.exit_code == 3:
        assert result.stdout == "", f"exit 3 with output on stdout\n{context}"
        check_problem_lines(result.stderr, context)
        return None
    # The only things on stderr of a success: the data's warnings (a percent column mixing
    # `92%` and bare numbers) and the targets' and awards' warnings, which are the document's
    # warnings too.
    warnings = result.stderr.splitlines()
    assert all(WARNING_LINE.match(line) or STANDING_LINE.match(line) for line in warnings), \
        f"exit 0 with something on stderr\n{context}"
    try:
        document = json.loads(result.stdout, parse_constant=_no_constant)
    except ValueError as error:
        pytest.fail(f"exit 0 but stdout is not strict JSON: {error}\n{context}\nstdout: {result.stdout[:2000]!r}")
    assert isinstance(document, dict) and set(document) == TOP_KEYS, f"top-level keys {sorted(document)}\n{context}"
    assert isinstance(document["results"], list) and isinstance(document["policies"], list), context
    assert document["warnings"] == warnings, context
    if document["results"]:
        assert CANONICAL_PERIOD.match(document["period"] or ""), f"period {document['period']!r}\n{context}"
    else:
        assert document["policies"] == [], context
    for item in document["results"]:
        assert CANONICAL_PERIOD.match(item["period"] or ""), f"result period {item['period']!r}\n{context}"
        for kpi in item["kpis"]:
            assert kpi["status"] in ("scored", "excluded", "substituted"), context
    return document


def _no_constant(name: str):
    raise ValueError(f"{name} in the JSON output")


def check_problem_lines(stderr: str, context: str) -> None:
    assert stderr.endswith("\n"), f"stderr does not end with a line break\n{context}"
    unescaped = sorted({char for char in stderr[:-1] if char != "\n" and (unicodedata.category(char) == "Cc"
                                                                           or char in "\u2028\u2029")})
    assert not unescaped, f"control characters {unescaped} on stderr, unescaped\n{context}"
    lines = stderr[:-1].splitlines()  # as str.splitlines sees them (it also breaks at U+0085, U+2028...)
    summary = SUMMARY_LINE.match(lines[-1])
    assert summary, f"last stderr line is not the summary: {lines[-1]!r}\n{context}"
    problems = lines[:-1]
    count = int(summary.group(1))
    assert count >= 1, context
    assert summary.group(2) == ("problem" if count == 1 else "problems"), f"plural of {count}\n{context}"
    assert count == len(problems), f"summary says {count}, {len(problems)} problem lines\n{context}"
    rows = []
    for line in problems:
        match = PROBLEM_LINE.match(line)
        assert match, f"malformed problem line: {line!r}\n{context}"
        rows.append(int(match.group(2) or 0))
    assert rows == sorted(rows), f"problems not sorted by row: {rows}\n{context}"


# ---- cells: valid spellings with the values they stand for, and everything else ----------

D = Decimal
LARGEST = D("999999999999.999999")  # DECIMAL(18, 6): a result beyond is missing (docs/evaluation.md 6.3)
PERCENT_OK = [
    ("92%", D("0.92")), ("0.92", D("0.92")), ("92.5 %", D("0.925")), ("1", D("1")), ("0", D("0")),
    ("100%", D("1")), ("0%", D("0")), (" 85% ", D("0.85")), ("84.9%", D("0.849")), ("1.0", D("1")),
    ("0.5", D("0.5")), ("12.5%", D("0.125")), ("99.9999%", D("0.999999")), ("90%", D("0.9")), ("95%", D("0.95")),
]
# (text, seconds, plain): a plain number is in the metric's unit (aht is `in min`, and its
# seconds are not checked); the seconds given for a plain number are for a metric without `in`.
DURATION_OK = [
    ("10min", D(600), False), ("00:10:00", D(600), False), ("1.5h", D(5400), False), ("30秒", D(30), False),
    ("10分钟", D(600), False), ("10分", D(600), False), ("2小时", D(7200), False), ("2时", D(7200), False),
    ("1天", D(86400), False), ("8.5", D("8.5"), True), ("30s", D(30), False), ("30sec", D(30), False),
    ("2 min", D(120), False), ("100:00:00", D(360000), False), ("00:00:30.5", D("30.5"), False),
    ("1:02:03", D(3723), False), ("2d", D(172800), False), ("0", D(0), True), ("600", D(600), True),
    ("601", D(601), True), ("00:10:01", D(601), False),
]
COUNT_OK = [("12", 12), ("1,200", 1200), ("3.0", 3), ("0", 0), ("25", 25), (" 7 ", 7), ("10", 10), ("9", 9), ("1", 1),
            ("2", 2), ("5", 5)]
# Valid, but beyond 999,999,999,999 once multiplied by a policy (drawn rarely, see ok_cell).
HUGE_OK = {
    "count": [("999999999999", 999999999999), ("200,000,000,000", 200000000000), ("199999999999", 199999999999)],
    "money": [("999,999,999,999.999999", D("999999999999.999999"))],
    "number": [("999999999999.999999", D("999999999999.999999")), ("-999999999999.999999", D("-999999999999.999999")),
               ("500000000000", D(500000000000)), ("499999999999.999999", D("499999999999.999999")),
               ("-500000000000", D(-500000000000))],
}
MONEY_OK = [
    ("8000", D(8000)), ("8,000", D(8000)), ("8000.00", D(8000)), ("¥8000", D(8000)), ("￥ 12.35", D("12.35")),
    ("$ 1,000.50", D("1000.5")), ("€50", D(50)), ("£50", D(50)), ("8000元", D(8000)), ("8000 元", D(8000)),
    ("0", D(0)), ("999999999999.99", D("999999999999.99")),
]
NUMBER_OK = [
    ("88.5", D("88.5")), ("-3.5", D("-3.5")), ("+2", D(2)), (".5", D("0.5")), ("1,234.5", D("1234.5")),
    ("1e3", D(1000)), ("0", D(0)), ("100", D(100)), ("-0", D(0)), ("60", D(60)), ("59.999999", D("59.999999")),
    ("59.995", D("59.995")), ("60.000001", D("60.000001")), ("1.2345674", D("1.234567")),
    ("1.2345675", D("1.234568")),
    ("80", D(80)), ("79.999999", D("79.999999")), ("79.9975", D("79.9975")),
]
BOOL_OK = [(word, True) for word in ("true", "yes", "y", "t", "1", "是", "对", "TRUE", "Yes", " 是 ")] + [
    (word, False) for word in ("false", "no", "n", "f", "0", "否", "错", "FALSE", "No")
]
TEXT_OK = ["night", " night ", "day", "Night", "夜班", "night shift", "🙂", "a,b", 'say "hi"', "night_1", "夜班_2", "𠀀"]
MONTH_TEMPLATES = [
    "{y}-{m:02d}", "{y}-{m:02d}", "{y}/{m}", "{y}.{m}", "{y}年{m}月", "{y}年 {m} 月", "{y}-{m:02d}-01",
    "{y}-{m:02d}-01 00:00:00", "{y}.{m:02d}.01", " {y}-{m:02d} ", "{y}-{m}",
]
MONTH_SPELLINGS = [template.format(y=2026, m=11) for template in MONTH_TEMPLATES]
QUARTER_TEMPLATES = ["{y}-Q{q}", "{y}-Q{q}", "{y}Q{q}", "{y} q{q}", "{y}/Q{q}", "{y}年Q{q}季度", " {y}-Q{q} "]

EDGE_CELLS = [
    "", " ", "   ", "0", "-0", "-1", "100%", "101%", "-1%", "1e12", "1e11", "999999999999.999999",
    "999999999999.9999995", "1000000000000", "9" * 29, "9" * 40, "0." + "0" * 30 + "1", "1e300", "1e-300",
    "-1e300", "1e400", "NaN", "nan", "inf", "-inf", "Infinity", "92", "12.5", "9O%", "１２", "９２％", "٩٢", "92%%",
    "%", ".", "-", "+", "e5", "1e", "1,2,3", "1,,000", ",", '"', "'", '"92%"', "92 %", "0x10", "1_000", "1 000",
    "¥-5", "-¥5", "元", "¥", "00:60:00", "08:30", "1h30min", "-10min", "10 min", "10MIN", "999999999999d",
    "1.5.2", "TRUE", "maybe", "是的", "中文", "🙂", "\u202e92%", "\u200f92%", "92%\u200b", "\u00a092%", "\u300092%",
    "\t92%\t", "\x00", "\x07", "\x1b[31m92%", "\x0b", "\x0c", "\x7f", "\x85", "\u2028", "a\nb", "9\n2%", "92%\r",
    "\r\n", "a,b", 'a"b', "'; DROP TABLE rows; --", "NULL", "null", "None", "\\N", "$1", "?",
    # an underscore between digits, which DuckDB reads as nothing (`1_0` is 10): refused
    "1_0", "9_2%", "0.9_5", "1e1_0", "8_000", "¥8_000", "00:0_8:30", "1_0min", "2026_11", "_1", "1_",
    # characters GB18030 writes in four bytes (the second and fourth of them digits)
    "𠀀", "𠀀_1", "🙂_1", "𠀀1_",
]
numberish = st.text(alphabet="0123456789.,%:-+eE ¥元hminsd秒分钟天", max_size=14)
wild_text = st.text(max_size=16)
junk_cells = st.one_of(st.sampled_from(EDGE_CELLS), numberish, wild_text)

PERIOD_EDGE = [
    "2026-13", "2026-00", "2026-11-15", "2026-11-01 00:00:01", "Nov 2026", "2026-Q5", "2026-Q0", "2026Q4", "2026 q4",
    "2026-Q4", "2026", "2026年", "2026年Q4季度", "0000-01", "9999-12", "99999-11", "2026-1", "2026-9", "2026/11",
    "2026.10.01", "11/2026", "2026-11-01T00:00:00", "２０２６-11", "2026 - 11", "2026年 9 月", "2026-11-01 00:00",
    "2025-12", "2026-10", "", " ", "2026-11\n", "\u202e2026-11",
]
ROLE_EDGE = ["", " ", "Agent", "AGENT", " agent", "team_lead", "客服", "agent,senior_agent", "agent\n", "🙂"]
ID_POOL = ["A001", "A002", "A003", "A004", "张三", " A001 ", "a001", "A 1", "🙂01"]


def ok_cell(kind: str, huge: bool = False) -> st.SearchStrategy:
    """(text, meaning) pairs of valid cells of one kind (``huge``: some of them too large for a policy's products)."""
    if kind == "percent":
        return st.sampled_from(PERCENT_OK)
    if kind == "duration":
        return st.sampled_from(DURATION_OK).map(lambda item: (item[0], item[1:]))
    if kind in HUGE_OK:
        common = st.sampled_from({"count": COUNT_OK, "money": MONEY_OK, "number": NUMBER_OK}[kind])
        return st.one_of(common, common, st.sampled_from(HUGE_OK[kind])) if huge else common
    if kind == "bool":
        return st.sampled_from(BOOL_OK)
    if kind == "text":
        return st.one_of(st.sampled_from(TEXT_OK), st.text(max_size=10)).map(lambda text: (text, text))
    if kind == "free":  # name, team
        names = st.sampled_from(["张三", "T1", "T2", "", "Zoë", "team, east", "李四", "售后一组", "𠀀", "𠀀_1",
                                 "王🙂", "CS_01", "组_2"])
        return st.one_of(names, wild_text).map(lambda text: (text, text))
    raise AssertionError(kind)


def wild_cell(kind: str) -> st.SearchStrategy:
    """Any text for a cell of this kind: edge values and junk, sometimes a valid one."""
    extra = {
        "id": st.sampled_from(ID_POOL + ["", " ", "A\nB", "x" * 300]),
        "period": st.sampled_from(PERIOD_EDGE + MONTH_SPELLINGS),
        "role": st.sampled_from(ROLE_EDGE),
    }
    if kind in extra:
        return st.one_of(extra[kind], wild_text)
    return st.one_of(junk_cells, ok_cell(kind).map(lambda pair: pair[0]))


AFTER_SALES_COLUMNS = [
    ("agent_id", "id"), ("name", "free"), ("role", "role"), ("team", "free"), ("period", "period"),
    ("reply_within_10min", "percent"), ("csat", "percent"), ("csat_responses", "count"),
    ("resolution_rate", "percent"), ("aht", "duration"), ("qa_commendations", "count"),
    ("attitude_violations", "count"), ("serious_complaints", "count"), ("base_salary", "money"),
]
AFTER_SALES_ROLES = ["agent", "senior_agent"]
WAIT_HEADER = "a\"b'c 等待(秒)"  # the `column` of the metric wait
MINI_COLUMNS = [
    ("agent_id", "id"), ("period", "period"), ("role", "role"), ("score_in", "number"),
    ("on_probation", "bool"), ("shift", "text"), (WAIT_HEADER, "duration"), ("complaints", "count"),
]
MINI_ROLES = ["agent", "客服"]
# Metric cells that may be empty in a clean table (the KPI reading them has `when missing`
# or none reads them); the other metric cells of after_sales_agent.perf must be present.
MAY_BE_EMPTY = {"csat", "csat_responses", "qa_commendations", "attitude_violations", "serious_complaints",
                "score_in", "on_probation", "shift", WAIT_HEADER, "complaints", "name", "team"}


def period_cell(draw, kind: str, latest: bool) -> tuple[str, str]:
    """A valid spelling of a period of this kind (the latest of the table, or the one before)."""
    if kind == "quarter":
        year, quarter = (2026, 4) if latest else draw(st.sampled_from([(2026, 3), (2025, 4)]))
        return draw(st.sampled_from(QUARTER_TEMPLATES)).format(y=year, q=quarter), f"{year}-Q{quarter}"
    if kind == "year":
        year = 2026 if latest else 2025
        return draw(st.sampled_from(["{y}", "{y}年", " {y} "])).format(y=year), str(year)
    month = draw(st.sampled_from([11, 12])) if latest else 10
    return draw(st.sampled_from(MONTH_TEMPLATES)).format(y=2026, m=month), f"2026-{month:02d}"


@st.composite
def tables(draw, columns, roles, allow_empty=True, modes=("clean", "clean", "one bad cell", "some bad cells", "wild"),
           kinds=None):
    """(clean, rows of (text, meaning) per column): valid tables, tables with a few bad cells, wild ones.

    A clean table has unique ids, valid roles, one or two periods of the kind of the row's
    policy (``kinds``: role -> month, quarter or year; month by default), each spelled its
    own way, and valid cells; a period's meaning is its canonical spelling.
    """
    mode = draw(st.sampled_from(modes))
    huge = draw(st.sampled_from([False, False, False, False, True]))  # tables with cells near the largest decimal
    count = draw(st.integers(min_value=0 if allow_empty else 1, max_value=6))
    names = [name for name, _ in columns]
    rows = []
    for index in range(count):
        row = []
        for column, kind in columns:
            if kind == "id":
                pair = (draw(st.sampled_from([f"A{index + 1:03d}", f"客服{index + 1}", f" B{index + 1} ",
                                              f"CS_{index + 1:03d}", f"𠀀{index + 1}"])), None)
            elif kind == "period":
                pair = None  # below, once the role is known
            elif kind == "role":
                pair = (draw(st.sampled_from(roles + [f" {roles[0]} "])), None)
            elif column in MAY_BE_EMPTY and draw(st.integers(0, 9)) == 0:
                pair = ("", None)
            else:
                pair = draw(ok_cell(kind, huge))
            row.append(pair)
        role = row[names.index("role")][0].strip(" ")
        row[names.index("period")] = period_cell(draw, (kinds or {}).get(role, "month"), draw(st.integers(0, 3)) > 0)
        rows.append(row)
    clean = mode == "clean"
    if rows and not clean:
        cells = [(r, c) for r in range(len(rows)) for c in range(len(columns))]
        if mode == "one bad cell":
            chosen = [draw(st.sampled_from(cells))]
        elif mode == "some bad cells":
            chosen = draw(st.lists(st.sampled_from(cells), min_size=1, max_size=6))
        else:
            chosen = cells
        for r, c in chosen:
            if mode == "wild" and draw(st.integers(0, 2)) == 0:
                continue  # keep a third of the cells valid even in wild tables
            rows[r][c] = (draw(wild_cell(columns[c][1])), None)
        if mode != "wild" and draw(st.booleans()):  # a duplicate row, maybe with its period spelled otherwise
            source = list(draw(st.sampled_from(rows)))
            period = names.index("period")
            if source[period][1] is not None and draw(st.booleans()):
                meaning = source[period][1]
                if "-Q" in meaning:
                    text = draw(st.sampled_from(QUARTER_TEMPLATES)).format(y=meaning[:4], q=meaning[-1])
                elif "-" in meaning:
                    text = draw(st.sampled_from(MONTH_TEMPLATES)).format(y=int(meaning[:4]), m=int(meaning[5:]))
                else:
                    text = meaning + "年"
                source[period] = (text, meaning)
            rows.insert(draw(st.integers(0, len(rows))), source)
    return clean, rows


# ---- writing a table as CSV, JSON or JSON Lines ------------------------------------------

JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


@st.composite
def file_formats(draw):
    """How to write a table: format, CSV quoting, line ending and encoding."""
    return {
        "format": draw(st.sampled_from(["csv"] * 6 + ["json", "json", "jsonl", "jsonl", "xlsx", "parquet"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        "newline": draw(st.sampled_from(["\r\n", "\n"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030"])),
        "final newline": draw(st.booleans()),
        "json numbers": draw(st.booleans()),
        "json empty": draw(st.sampled_from(["null", "empty string", "absent"])),
    }


def write_table(headers: list[str], rows: list[list[str]], how: dict) -> tuple[str, bytes]:
    """(file name, bytes) of the table in the chosen format."""
    if how["format"] == "csv":
        out = io.StringIO()
        # Python's writer quotes a line break only if it is in the line terminator: a cell
        # holding a lone carriage return in a file of LF lines would be written bare, ending
        # the line there (a broken file, not the table drawn: found at PERFRULES_FUZZ_SCALE=3).
        quoting = how["quoting"]
        if any("\r" in cell for row in rows for cell in row) and "\r" not in how["newline"]:
            quoting = csv.QUOTE_ALL
        writer = csv.writer(out, quoting=quoting, lineterminator=how["newline"])
        writer.writerow(headers)
        writer.writerows(rows)
        text = out.getvalue()
        if not how["final newline"]:
            text = text[: -len(how["newline"])]
        return "data.csv", text.encode(how["encoding"])
    if how["format"] == "xlsx":
        return "data.xlsx", _xlsx_bytes(headers, rows, how)
    if how["format"] == "parquet":
        return "data.parquet", _parquet_bytes(headers, rows, how)
    objects = []
    for row in rows:
        members = []
        for header, cell in zip(headers, row):
            if cell == "":
                if how["json empty"] == "absent":
                    continue
                value = "null" if how["json empty"] == "null" else '""'
            elif how["json numbers"] and JSON_NUMBER.fullmatch(cell):
                value = cell  # a JSON number, read exactly as written
            else:
                value = json.dumps(cell, ensure_ascii=False)
            members.append(f"{json.dumps(header, ensure_ascii=False)}: {value}")
        objects.append("{" + ", ".join(members) + "}")
    if how["format"] == "json":
        return "data.json", ("[\n" + ",\n".join(objects) + "\n]\n").encode("utf-8")
    return "data.jsonl", "".join(item + "\n" for item in objects).encode("utf-8")


def csv_text(headers, rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([headers, *rows])
    return out.getvalue()


def _xlsx_bytes(headers, rows, how) -> bytes:
    """A workbook whose cells hold the texts (numbers as number cells when "json numbers")."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "十一月"
    for values in [headers, *rows]:
        cells = []
        for value in values:
            value = ILLEGAL_CHARACTERS_RE.sub("", value)  # Excel cannot hold control characters
            if how["json numbers"] and values is not headers and JSON_NUMBER.fullmatch(value) and len(value) < 16:
                cells.append(int(value) if value.lstrip("-").isdigit() else float(value))
            else:
                cells.append(value if value != "" else None)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _parquet_bytes(headers, rows, how) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    empty = None if how["json empty"] != "empty string" else ""
    columns = [pa.array([(row[i] if row[i] != "" else empty) if i < len(row) else None for row in rows], pa.string())
               for i in range(len(headers))]
    out = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(columns, names=list(headers)), out)
    return out.getvalue()


# ---- 1. valid headers, cells of every kind ------------------------------------------------


def _level(value: Decimal, excellent: str, passing: str) -> Decimal:
    return D(100) if value >= D(excellent) else D(80) if value >= D(passing) else D(0)


def beyond(*values: Decimal) -> bool:
    return any(abs(value) > LARGEST for value in values)


def adjust_totals(lines: list[Decimal], low: int, high: int) -> set[Decimal]:
    """The block total of adjustment lines (each N × count, or N when its condition holds),
    clamped to its limit. When a line is beyond the largest decimal, three readings are fair:
    the exact sum, clamped; the line missing, adding nothing (as a missing count does); or
    no total at all, an error (exit 3, see OVERFLOW_ERROR and expected_...)."""
    exact = min(max(sum(lines, D(0)), D(low)), D(high))
    without = min(max(sum((line for line in lines if not beyond(line)), D(0)), D(low)), D(high))
    return {exact, without}


def expected_after_sales(cell: dict) -> list[dict]:
    """What after_sales_agent.perf may give for one clean row (``cell``: header -> (text, meaning)):
    KPI values and points, base score, score and grade (not the bonus, which needs the ranking).
    A list of the acceptable answers (see :func:`adjust_totals`)."""
    def count(name):
        return cell[name][1] if cell[name][1] is not None else 0  # a missing count adds nothing

    responses = cell["csat_responses"][1]
    csat = cell["csat"][1] if responses is not None and responses >= 10 else None  # sample at least 10
    reply, resolution = cell["reply_within_10min"][1], cell["resolution_rate"][1]
    kpis = {"响应时间": (reply, _level(reply, "0.9", "0.8"), 30),
            "顾客满意度": (csat, None if csat is None else _level(csat, "0.9", "0.85"), 40),
            "问题解决率": (resolution, _level(resolution, "0.95", "0.9"), 30)}
    scored = [(points, weight) for _, points, weight in kpis.values() if points is not None]
    base = sum(points * weight for points, weight in scored) / sum(weight for _, weight in scored)
    lines = [D(2) * count("qa_commendations"), D(-5) * count("attitude_violations")]
    answers = []
    for adjust in adjust_totals(lines, -20, 10):
        score = base + adjust
        grade = "优秀" if score >= 90 else "良好" if score >= 75 else "合格" if score >= 60 else "不合格"
        if count("serious_complaints") > 0:
            grade = "不合格"  # the veto
        answers.append({"kpis": {name: ({value}, points) for name, (value, points, _) in kpis.items()},
                        "base_score": base, "score": score, "grade": grade})
    return answers + ([OVERFLOW_ERROR] if beyond(*lines) else [])


def expected_mini(cell: dict) -> list[dict]:
    """What MINI_POLICY may give for one clean row: a list of the acceptable answers."""
    number = cell["score_in"][1]
    if number is None:
        kpi = [({None}, D(50))]  # `when missing 50`
    elif beyond(2 * number, 2 * number - 100):
        # missing (docs 6.3: the KPI follows its `when missing`), or the exact value clamped
        kpi = [({number, None}, D(50)), ({number}, min(max(2 * number - 100, D(0)), D(100)))]
    else:
        kpi = [({number}, min(max(2 * number - 100, D(0)), D(100)))]
    lines = [D(-3) * (cell["complaints"][1] or 0)]
    if cell["on_probation"][1] is True:
        lines.append(D(-5))
    if cell["shift"][1] is not None and cell["shift"][0].strip(" ") == "night":
        lines.append(D(1))
    wait = cell[WAIT_HEADER][1]
    if wait is not None and wait[0] > 600:  # plain numbers are seconds: `wait` has no `in` unit
        lines.append(D(-1))
    answers = []
    for values, points in kpi:
        for adjust in adjust_totals(lines, -10, 10):
            score = points + adjust
            answers.append({"kpis": {"raw": (values, points)}, "base_score": points, "score": score,
                            "grade": "pass" if score >= 60 else "fail"})
    return answers + ([OVERFLOW_ERROR] if beyond(*lines) else [])


def two_decimals(value: Decimal) -> float:
    return float(value.quantize(D("0.01"), rounding=ROUND_HALF_UP))


def close(value, expected) -> bool:
    if expected is None or value is None:
        return value is None and expected is None
    return math.isclose(float(value), float(expected), rel_tol=1e-12, abs_tol=1e-9)


def check_result(item: dict, answers: list[dict], context: str) -> None:
    """One agent's JSON result against the acceptable answers of ``expected_...``."""
    misses = [miss for miss in (_mismatch(item, wanted) for wanted in answers) if miss]
    assert len(misses) < len(answers), f"agent {item['agent_id']}: " + " / or: ".join(misses) + f"\n{context}"


def _mismatch(item: dict, wanted: dict) -> str | None:
    if wanted is OVERFLOW_ERROR:
        return "evaluated, though an adjustment could also stop it (beyond 999,999,999,999)"
    for kpi in item["kpis"]:
        values, points = wanted["kpis"][kpi["name"]]
        if not any(close(kpi["value"], value) for value in values):
            return f"KPI {kpi['name']} value {kpi['value']}, expected {' or '.join(map(str, values))}"
        shown = None if points is None else two_decimals(points)
        if not close(kpi["points"], shown):
            return f"KPI {kpi['name']} points {kpi['points']}, expected {shown}"
    for key in ("base_score", "score"):
        if not close(item[key], two_decimals(wanted[key])):
            return f"{key} {item[key]}, expected {two_decimals(wanted[key])} ({wanted[key]})"
    if item["grade"] != wanted["grade"]:
        return f"grade {item['grade']}, expected {wanted['grade']}"
    return None


# Policies of a run: (name in results, roles, expectation of a clean row).
AFTER_SALES_RUN = [("售后客服月度考核", AFTER_SALES_ROLES, expected_after_sales)]
MINI_RUN = [("mini", MINI_ROLES, expected_mini)]


# An adjustment line beyond 999,999,999,999 may also stop the evaluation (exit 3) with this.
ADJUSTMENT_OVERFLOW = re.compile(
    r'^data\.\w+:\d+: agent (.+): adjustment ".+" of policy ".+" has no value: an amount exceeds 999,999,999,999$')
OVERFLOW_ERROR = {"error": "adjustment"}


def expectations(columns, runs, rows) -> dict:
    """policy name -> (latest period, {agent id: acceptable answers}) for a clean table.

    Each policy evaluates the latest period of its own rows (docs/evaluation.md, 6.7).
    """
    headers = [name for name, _ in columns]
    cells = [dict(zip(headers, row)) for row in rows]
    plans = {}
    for policy_name, policy_roles, expected in runs:
        own = [cell for cell in cells if cell["role"][0].strip(" ") in policy_roles]
        if own:
            latest = max(cell["period"][1] for cell in own)
            plans[policy_name] = (latest, {cell["agent_id"][0].strip(): expected(cell)
                                           for cell in own if cell["period"][1] == latest})
        else:
            plans[policy_name] = (None, {})
    return plans


def check_table_run(workdir, policy, columns, runs, clean, rows, how):
    headers = [name for name, _ in columns]
    texts = [[pair[0] for pair in row] for row in rows]
    name, data = write_table(headers, texts, how)
    table = csv_text(headers, texts) if name.endswith((".xlsx", ".parquet")) else None
    result = run_evaluate(workdir, policy, name, data)
    document = judge(result, name, data, fuzz=True, table=table)
    context = describe(name, data, table=table)
    plans = expectations(columns, runs, rows) if clean else {}
    if document is None:
        if clean and (rows or how["format"] == "csv"):  # JSON without objects has no columns at all
            may_fail = {agent for _, wanted in plans.values() for agent, answers in wanted.items()
                        if OVERFLOW_ERROR in answers}
            for line in result.stderr.splitlines()[:-1]:
                match = ADJUSTMENT_OVERFLOW.match(line)
                assert match and match.group(1) in may_fail, (
                    f"a table of valid cells was refused\n{context}\nstderr:\n{result.stderr}")
        return
    ids = {variant for row in rows for variant in (row[0][0].strip(), row[0][0].strip(" "))}
    roles = {role for _, policy_roles, _ in runs for role in policy_roles}
    for item in document["results"]:
        assert item["agent_id"] in ids, f"result for agent {item['agent_id']!r}, not an id of the file\n{context}"
        assert item["role"] in roles, context
    if not (clean and rows):
        return
    for policy_name, (latest, wanted) in plans.items():
        results = [item for item in document["results"] if item["policy"] == policy_name]
        got = sorted(item["agent_id"] for item in results)
        assert got == sorted(wanted), f"policy {policy_name}: results for {got}, expected {sorted(wanted)}\n{context}"
        for item in results:
            assert item["period"] == latest, (
                f"agent {item['agent_id']}: period {item['period']}, expected {latest}\n{context}")
            check_result(item, wanted[item["agent_id"]], context)
    # "the latest of those": of one kind, the greatest; of several kinds, one of them
    latest_periods = [latest for latest, _ in plans.values() if latest is not None]
    assert document["period"] in latest_periods, f"period {document['period']}\n{context}"
    if len({len(period) for period in latest_periods}) == 1:
        assert document["period"] == max(latest_periods), f"period {document['period']}\n{context}"


@settings(max_examples=examples(45), **FUZZ_SETTINGS)
@given(table=tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), how=file_formats())
def test_cells_of_after_sales_agent(workdir, table, how):
    clean, rows = table
    check_table_run(workdir, AFTER_SALES, AFTER_SALES_COLUMNS, AFTER_SALES_RUN, clean, rows, how)


@settings(max_examples=examples(35), **FUZZ_SETTINGS)
@given(table=tables(MINI_COLUMNS, MINI_ROLES), how=file_formats())
def test_cells_of_number_bool_text_policy(workdir, table, how):
    clean, rows = table
    check_table_run(workdir, workdir / "mini.perf", MINI_COLUMNS, MINI_RUN, clean, rows, how)


# A folder of three policies: after_sales_agent.perf (monthly), the small policy quarterly
# (roles 客服, 组长) and yearly (role 主管). Rows of any, the columns of all; each policy
# types only its own rows' cells and evaluates its own latest period.
BOTH_COLUMNS = AFTER_SALES_COLUMNS + [column for column in MINI_COLUMNS if column not in AFTER_SALES_COLUMNS]
QUARTER_ROLES, YEAR_ROLES = ["客服", "组长"], ["主管"]
BOTH_RUNS = AFTER_SALES_RUN + [("mini", QUARTER_ROLES, expected_mini), ("mini 年度", YEAR_ROLES, expected_mini)]
BOTH_KINDS = {**{role: "quarter" for role in QUARTER_ROLES}, **{role: "year" for role in YEAR_ROLES}}


@settings(max_examples=examples(25), **FUZZ_SETTINGS)
@given(table=tables(BOTH_COLUMNS, AFTER_SALES_ROLES + QUARTER_ROLES + YEAR_ROLES, kinds=BOTH_KINDS),
       how=file_formats())
def test_cells_of_a_folder_of_three_policies(workdir, table, how):
    clean, rows = table
    check_table_run(workdir, workdir / "both", BOTH_COLUMNS, BOTH_RUNS, clean, rows, how)


# ---- 2. perturbed headers --------------------------------------------------------------------

# Names perfrules or DuckDB use for themselves (perfrules once refused them; now they are plain headers).
RESERVED = ["_row", "_ROW", "__row", "_agent", "_Period", "_role", "_name", "_team", "_supervisor",
            "rowid", "c0", "C1", "file_row_number", "row_number_in_file"]
EXTRA_HEADERS = [
    "notes", "备注", "客户满意度(%)", "x\"y", "a,b", "a b", "select", "*", "'", "\\", "%", "?", "1", "ÿ", "🙂",
    "Ｃｓａｔ", "csat_", "csat2", "agent", "period_", "x" * 200, "\u200b", "rowid", "ROWID", "file_row_number",
    "line\nbreak",
]
# Perturbations after which the results must be those of the unperturbed file: the contract
# trims headers, ignores columns no metric reads (`CSAT` beside `csat`, `_row`, `rowid`...) and columns
# with neither a header nor a cell (docs/evaluation.md 2.1).
HARMLESS = {"shuffle", "spaces", "bom", "extra column", "extra case twin", "reserved", "empty column"}


@st.composite
def perturbed_tables(draw):
    """(headers, rows, perturbations applied) for after_sales_agent.perf."""
    clean, rows = draw(tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES, allow_empty=False, modes=("clean",)))
    headers = [name for name, _ in AFTER_SALES_COLUMNS]
    cells = [[pair[0] for pair in row] for row in rows]
    applied = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from([
            "drop", "duplicate", "case", "spaces", "reserved", "empty header", "bom", "extra column",
            "extra case twin", "shuffle", "row too long", "row too short", "rename", "empty column",
        ]))
        at = draw(st.integers(min_value=0, max_value=len(headers) - 1))
        if kind == "drop" and len(headers) > 1:
            del headers[at]
            for row in cells:
                del row[at]
        elif kind == "duplicate":
            headers.append(headers[at])
            for row in cells:
                row.append(row[at])
        elif kind == "case":
            headers[at] = draw(st.sampled_from([str.upper, str.title, str.swapcase]))(headers[at])
        elif kind == "spaces":
            headers[at] = draw(st.sampled_from([" {} ", "\t{}", "{}  ", "  {}\t"])).format(headers[at])
        elif kind == "reserved":
            header = draw(st.sampled_from(RESERVED))
            if header in headers:
                continue
            headers.append(header)
            for row in cells:
                row.append("x")
        elif kind == "empty header":
            headers.insert(at, draw(st.sampled_from(["", "  ", "\t"])))
            for row in cells:
                row.insert(at, draw(st.sampled_from(["", "1"])))
        elif kind in ("extra column", "extra case twin"):
            if kind == "extra column":
                header = draw(st.one_of(st.sampled_from(EXTRA_HEADERS), st.text(min_size=1, max_size=12)))
            else:  # CSAT beside csat: the spec says headers match exactly, so it is only an extra column
                header = draw(st.sampled_from([str.upper, str.title])) (draw(st.sampled_from(headers)).strip())
            if header.strip() in {h.strip() for h in headers} or not header.strip():
                continue
            at = draw(st.integers(min_value=0, max_value=len(headers)))
            headers.insert(at, header)
            for row in cells:
                row.insert(at, draw(st.one_of(st.sampled_from(["", "x", "9O%", "-1"]), wild_text)))
        elif kind == "shuffle":
            order = draw(st.permutations(range(len(headers))))
            headers = [headers[i] for i in order]
            cells = [[row[i] for i in order] for row in cells]
        elif kind == "empty column":  # no header, no cell (a comma at the end of every line): left alone
            at = draw(st.integers(min_value=0, max_value=len(headers)))
            headers.insert(at, draw(st.sampled_from(["", " "])))
            for row in cells:
                row.insert(at, draw(st.sampled_from(["", " ", "  "])))
        elif kind in ("row too long", "row too short"):
            pass  # after the other perturbations (below), which keep rows as long as the header
        elif kind == "rename":
            headers[at] = draw(st.sampled_from(["顾客满意度", "csat ", "c sat", "agentid", "Period", "ROLE"]))
        else:
            continue
        applied.append(kind)
    if "row too long" in applied:
        draw(st.sampled_from(cells)).append("extra")
    if "row too short" in applied:
        row = draw(st.sampled_from(cells))
        if row:
            row.pop()
    return headers, cells, rows, applied


@settings(max_examples=examples(32), **FUZZ_SETTINGS)
@given(table=perturbed_tables(), how=file_formats())
def test_perturbed_headers(workdir, table, how):
    headers, cells, rows, applied = table
    uneven = any(kind in applied for kind in ("row too long", "row too short"))
    if how["format"] in ("json", "jsonl", "parquet") and uneven:
        how = dict(how, format="csv")  # their rows cannot be of another length than the header
    if "bom" in applied:
        how = dict(how, format="csv", encoding="utf-8-sig")
    name, data = write_table(headers, cells, how)
    table = csv_text(headers, cells) if name.endswith((".xlsx", ".parquet")) else None
    result = run_evaluate(workdir, AFTER_SALES, name, data)
    document = judge(result, name, data, fuzz=True, table=table)
    harmless = HARMLESS if how["format"] == "csv" else HARMLESS - {"spaces"}  # JSON keys are not trimmed
    if set(applied) <= harmless:  # the same outcome as the file before the perturbations
        context = f"{describe(name, data, table=table)}\nperturbations: {applied}\nstderr:\n{result.stderr}"
        base_how = dict(how, encoding="utf-8")
        base_headers = [header for header, _ in AFTER_SALES_COLUMNS]
        base_name, base_data = write_table(base_headers, [[pair[0] for pair in row] for row in rows], base_how)
        base = run_evaluate(workdir, AFTER_SALES, base_name, base_data)
        baseline = judge(base, base_name, base_data, fuzz=True)
        assert result.exit_code == base.exit_code, f"exit {base.exit_code} before the perturbations\n{context}"
        if baseline is None:
            assert result.stderr == base.stderr, (
                f"other problems than before the perturbations:\n{base.stderr}\n{context}")
        else:
            assert document["results"] == baseline["results"], f"results changed by harmless perturbations\n{context}"


# ---- 3. random bytes, other encodings, random JSON -----------------------------------------


@st.composite
def valid_csv_texts(draw) -> str:
    clean, rows = draw(tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in AFTER_SALES_COLUMNS])
    writer.writerows([[pair[0] for pair in row] for row in rows])
    return out.getvalue()


def _splice(data: bytes, insert: bytes, where: float) -> bytes:
    at = int(where * len(data))
    return data[:at] + insert + data[at:]


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


csv_bytes = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=300).map(lambda text: text.encode("utf-8")),
    st.tuples(st.one_of(valid_csv_texts(), st.text(max_size=200)),
              st.sampled_from(["gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32", "big5",
                               "latin-1"]))
    .map(lambda pair: _encode(*pair)),
    st.tuples(valid_csv_texts().map(lambda text: text.encode("utf-8")), st.binary(min_size=1, max_size=8),
              st.floats(min_value=0, max_value=1)).map(lambda t: _splice(*t)),
    # half a multi-byte character at the end, a lone quote, NUL bytes
    valid_csv_texts().map(lambda text: text.encode("utf-8") + "中".encode("utf-8")[:2]),
    valid_csv_texts().map(lambda text: text.encode("utf-8") + b'"A9,'),
    valid_csv_texts().map(lambda text: text.replace(",", "\x00", 1).encode("utf-8")),
    # a GB18030 file with a byte that is not GB18030 late in it (after the part read to detect it)
    st.tuples(valid_csv_texts().map(lambda text: text.encode("gb18030")),
              st.sampled_from([b"\xff", b"\x80", b"\x81", b"\x81\x30", b"\x95\x32\x82", b"\xff_1"]),
              st.floats(min_value=0.6, max_value=1)).map(lambda t: _splice(*t)),
)
csv_options = st.sampled_from([(), (), (), ("--encoding", "utf-8"), ("--encoding", "gb18030"), ("--encoding", "GBK"),
                               ("--period", "2026-11"), ("--period", "2026年11月")])


@settings(max_examples=examples(40), **FUZZ_SETTINGS)
@given(data=csv_bytes, options=csv_options)
def test_random_bytes_as_csv(workdir, data, options):
    result = run_evaluate(workdir, AFTER_SALES, "data.csv", data, *options)
    judge(result, "data.csv", data, options, fuzz=True)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30), st.floats(),
    st.text(max_size=12), st.sampled_from(EDGE_CELLS + MONTH_SPELLINGS + AFTER_SALES_ROLES),
    # a lone surrogate, which JSON can only write as an escape (\ud800)
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2).map(lambda t: "A" + t),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=12)
key_names = st.one_of(st.sampled_from([name for name, _ in AFTER_SALES_COLUMNS] + RESERVED + ["", " csat ", "CSAT"]),
                      st.text(max_size=8))


@st.composite
def json_objects(draw) -> dict:
    """An object with the right keys, most values plausible, some keys and values wild."""
    item = {}
    for name, kind in AFTER_SALES_COLUMNS:
        if draw(st.integers(0, 9)) == 0:
            continue
        if kind in ("id", "period", "role"):
            item[name] = draw(st.one_of(wild_cell(kind), json_scalars))
        else:
            item[name] = draw(st.one_of(ok_cell(kind).map(lambda pair: pair[0]), json_values))
    for _ in range(draw(st.integers(0, 2))):
        item[draw(key_names)] = draw(json_values)
    return item


def _dumps(value) -> str:
    """JSON text (NaN and Infinity as JavaScript spells them, as json does); \\uXXXX escapes
    only where UTF-8 cannot hold the text (lone surrogates)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


# JSON number tokens at the edges of what Python's json and Decimal read.
JSON_EDGE_NUMBERS = [
    "1e99999999999999999999", "-1.5e-99999999999999999999", "1e999999999", "1E+400", "1e-400", "1" * 4301,
    "-" + "9" * 5000, "0." + "0" * 5000 + "1", "123456789012.1234567", "-0", "0e0", "1E2", "0.92", "92",
]


@st.composite
def object_with_edge_number(draw) -> str:
    """An object whose value for one key is an edge number token, maybe inside a list."""
    item = draw(json_objects())
    key = draw(st.sampled_from([name for name, _ in AFTER_SALES_COLUMNS] + ["notes"]))
    token = draw(st.sampled_from(JSON_EDGE_NUMBERS))
    if draw(st.booleans()):
        token = f"[{token}]"
    members = [f"{_dumps(name)}: {_dumps(value)}" for name, value in item.items() if name != key]
    members.insert(draw(st.integers(0, len(members))), f"{_dumps(key)}: {token}")
    return "{" + ", ".join(members) + "}"


json_documents = st.one_of(
    st.lists(json_objects(), max_size=5).map(_dumps),
    st.lists(object_with_edge_number(), min_size=1, max_size=2).map(lambda items: "[" + ", ".join(items) + "]"),
    json_values.map(_dumps),
    st.text(max_size=200),
    st.lists(json_objects(), min_size=1, max_size=3).map(lambda items: _dumps(items)[:-1]),  # cut short
    st.lists(json_objects(), min_size=1, max_size=3).map(lambda items: "\ufeff" + _dumps(items)),
)
jsonl_documents = st.one_of(
    st.lists(st.one_of(json_objects().map(_dumps), json_values.map(_dumps), st.text(max_size=30).map(
        lambda text: text.replace("\n", " ")), object_with_edge_number()), max_size=6).map(
        lambda lines: "\n".join(lines) + "\n"),
    st.text(max_size=200),
)


@settings(max_examples=examples(35), **FUZZ_SETTINGS)
@given(text=json_documents, raw=st.one_of(st.none(), st.binary(min_size=1, max_size=4)))
def test_random_json(workdir, text, raw):
    data = text.encode("utf-8") if raw is None else _splice(text.encode("utf-8"), raw, 0.5)
    result = run_evaluate(workdir, AFTER_SALES, "data.json", data)
    judge(result, "data.json", data, fuzz=True)


@settings(max_examples=examples(35), **FUZZ_SETTINGS)
@given(text=jsonl_documents)
def test_random_json_lines(workdir, text):
    data = text.encode("utf-8")
    result = run_evaluate(workdir, AFTER_SALES, "data.jsonl", data)
    judge(result, "data.jsonl", data, fuzz=True)


# ---- 4. workbooks with cells of every Excel type ----------------------------------------------

XLSX_ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]
FORMULA_MESSAGE = "the cell is a formula with no saved value (open and save the file in Excel, or paste values)"


@st.composite
def typed_xlsx_cells(draw, special: bool = True):
    """(value for openpyxl, what perfrules must say about it or None): numbers, text, formulas
    (openpyxl saves no value for them) and error cells when ``special``, empty cells, dates,
    times, durations, booleans."""
    import datetime

    kinds = ["number", "number", "text", "text", "empty", "date", "time", "bool", "duration"]
    kind = draw(st.sampled_from(kinds + ["formula", "error"] if special else kinds))
    if kind == "number":
        return draw(st.one_of(st.integers(-10**15, 10**15), st.floats(allow_nan=False, allow_infinity=False),
                              st.sampled_from([0.92, 1, 0, 8000, 1e12, 1e300, -1, 0.5]))), None
    if kind == "text":
        return draw(st.one_of(st.sampled_from(EDGE_CELLS + MONTH_SPELLINGS), numberish)).lstrip("=#") or None, None
    if kind == "formula":
        return "=" + draw(st.sampled_from(["A1*2", "1/0", "SUM(B2:C3)", 'IF(1,"","x")', "NOW()"])), FORMULA_MESSAGE
    if kind == "error":
        error = draw(st.sampled_from(XLSX_ERRORS))
        return error, f"the cell holds the error {error}"
    if kind == "date":
        return draw(st.dates(datetime.date(1900, 3, 1), datetime.date(9999, 12, 31))), None
    if kind == "time":
        return draw(st.times()), None
    if kind == "duration":
        return datetime.timedelta(seconds=draw(st.integers(0, 10**7))), None
    if kind == "bool":
        return draw(st.booleans()), None
    return None, None


@st.composite
def typed_workbooks(draw):
    """A workbook of the after-sales columns whose cells are drawn from typed_xlsx_cells (the
    ids, periods and roles mostly valid), sometimes with merged cells or a hidden first sheet;
    and the lines that the formula and error cells must give."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    headers = [name for name, _ in AFTER_SALES_COLUMNS]
    rows, expected = [], []
    special = draw(st.booleans())  # else every example would stop at a formula or an error
    for number in range(2, 2 + draw(st.integers(1, 5))):
        row = []
        for column, (header, kind) in enumerate(AFTER_SALES_COLUMNS):
            if kind in ("id", "role", "period") and draw(st.integers(0, 4)):
                value, message = {"id": f"A{number}", "role": "agent", "period": "2026-11"}[kind], None
            else:
                value, message = draw(typed_xlsx_cells(special))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # Excel cannot hold control characters
            row.append(value)
            if message:
                expected.append(f"data.xlsx:{number}: column {header}: {message}")
        rows.append(row)
    workbook = Workbook()
    sheet = workbook.active
    hidden = draw(st.booleans())
    if hidden:
        sheet.title = "lookup"
        sheet.append(["code"])
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("十一月")
        workbook.active = 1
    for row in [headers, *rows]:
        sheet.append(row)
    merged = None
    if draw(st.integers(0, 4)) == 0:
        first = draw(st.integers(2, len(rows) + 1))
        merged = f"F{first}:G{first}"
        sheet.merge_cells(merged)
        expected = [line for line in expected if not line.startswith(f"data.xlsx:{first}: column csat:")]
        expected.append(f"data.xlsx:{first}: columns F:G are merged (unmerge them: each agent needs its own value)")
    out = io.BytesIO()
    workbook.save(out)
    data = out.getvalue()
    exact = draw(st.booleans())
    if exact:  # a comment in the sheet: read by the exact scan, not the quick one (perfrules.data.workbook)
        source = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as changed:
            for info in source.infolist():
                part = source.read(info.filename)
                if info.filename.startswith("xl/worksheets/"):
                    part = part.replace(b"<sheetData>", b"<sheetData><!-- exact -->")
                changed.writestr(info.filename, part)
        data = out.getvalue()
    table = (csv_text(headers, [[str(value) for value in row] for row in rows])
             + f"(merged {merged}, hidden first sheet {hidden}, exact scan {exact})")
    return data, expected, table


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(book=typed_workbooks())
def test_typed_xlsx_cells(workdir, book):
    data, expected, table = book
    result = run_evaluate(workdir, AFTER_SALES, "data.xlsx", data)
    judge(result, "data.xlsx", data, fuzz=True, table=table)
    # Formula cells without a saved value, error cells and merged cells are never read as
    # empty: each is a line of its own (and then the only lines: they stop the reading).
    if expected:
        assert result.exit_code == 3
        assert sorted(result.stderr.splitlines()[:-1]) == sorted(expected), f"{table}\n{result.stderr}"


@functools.lru_cache(maxsize=1)
def small_workbook() -> dict[str, bytes]:
    """The parts of a workbook with a formula, an error cell and a merged range."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    good = ["A001", "张三", "agent", "T1", "2026-11", "92%", "91%", "25", "96%", "00:08:30", "6", "0", "0", "8000"]
    for row in ([name for name, _ in AFTER_SALES_COLUMNS], good, ["A002", "=B2", *good[2:]]):
        sheet.append(row)
    sheet["G3"] = "#N/A"
    sheet.merge_cells("B2:C2")
    out = io.BytesIO()
    workbook.save(out)
    source = zipfile.ZipFile(out)
    return {info.filename: source.read(info.filename) for info in source.infolist()}


XML_BITS = [b"<", b">", b"/", b"=", b'"', b"#", b"0", b"9", b"A", b"XFD", b"1048576", b" r=", b" t=", b'"e"', b"<f>",
            b"<v>", b"</c>", b"<c>", b"x:", b"<!--", b"<!DOCTYPE", b"&", b"\xff", b"\x00", b""]


@st.composite
def damaged_workbooks(draw) -> bytes:
    """A workbook with a few bytes of one XML part replaced (the archive stays a good zip), or
    a few bytes of the archive itself."""
    if draw(st.integers(0, 3)):
        name = draw(st.sampled_from(sorted(small_workbook())))
        data = bytearray(small_workbook()[name])
        for _ in range(draw(st.integers(1, 4))):
            where = draw(st.integers(0, len(data) - 1))
            data[where:where + draw(st.integers(0, 3))] = draw(st.sampled_from(XML_BITS))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, content in small_workbook().items():
                archive.writestr(part, bytes(data) if part == name else content)
        return out.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in small_workbook().items():
            archive.writestr(part, content)
    data = bytearray(out.getvalue())
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(data=damaged_workbooks())
def test_damaged_workbooks(workdir, data):
    result = run_evaluate(workdir, AFTER_SALES, "data.xlsx", data)
    judge(result, "data.xlsx", data, fuzz=True)


# ---- edge cases the fuzzers found: replayed on every run ----------------------------------

AFTER_SALES_HEADER = ",".join(name for name, _ in AFTER_SALES_COLUMNS)
GOOD_ROW = "A001,张三,agent,T1,2026-11,92%,91%,25,96%,00:08:30,6,0,0,8000"


def evaluate_text(workdir, name: str, text: str, policy: Path = AFTER_SALES):
    data = text.encode("utf-8")
    return run_evaluate(workdir, policy, name, data), data


@pytest.mark.parametrize("row", [
    'A001,张三,agent,T1,2026-11,"9\n2%",91%,25,96%,00:08:30,6,0,0,8000',  # a metric cell
    '"A\nB",张三,agent,T1,2026-11,92%,91%,25,96%,00:08:30,6,0,0,8000',  # an agent id (duplicate row below)
    'A001,张三,"agent\n",T1,2026-11,92%,91%,25,96%,00:08:30,6,0,0,8000',  # a role
    'A001,张三,agent,T1,"2026-11\r",92%,91%,25,96%,00:08:30,6,0,0,8000',  # a period
    'A001,张三,agent,T1,2026-11,"9\u20292%","\u2028",25,96%,"\x1b[31m",6,0,0,8000',  # U+2029, U+2028, ESC
], ids=["metric cell", "agent id", "role", "period", "U+2028, U+2029, ESC"])
def test_found_by_fuzzing_line_break_in_a_cell_keeps_one_line_per_problem(workdir, row):
    # A line break in a cell, id, role or period was echoed as is: one problem on two lines.
    text = f"{AFTER_SALES_HEADER}\n{row}\n{row}\n"
    result, data = evaluate_text(workdir, "data.csv", text)
    assert result.exit_code == 3
    check_problem_lines(result.stderr, f"{describe('data.csv', data)}\nstderr:\n{result.stderr}")


@pytest.mark.parametrize("cell", ["9\u00852%", "\u0083", "A\u009b31m"], ids=["NEL", "NBH", "CSI"])
def test_found_by_fuzzing_c1_control_characters_are_escaped(workdir, cell):
    # C1 controls (U+0080..U+009F) reached stderr raw; U+0085 (NEL) is a line break for
    # str.splitlines and Unicode, so one problem read as two lines.
    row = GOOD_ROW.split(",")
    row[5] = cell  # reply_within_10min
    result, data = evaluate_text(workdir, "data.csv", f"{AFTER_SALES_HEADER}\n{','.join(row)}\n")
    assert result.exit_code == 3
    check_problem_lines(result.stderr, f"{describe('data.csv', data)}\nstderr:\n{result.stderr!r}")


def test_found_by_fuzzing_line_break_in_a_header_keeps_one_line_per_problem(workdir):
    text = f'{AFTER_SALES_HEADER},"a\nb","a\nb"\n{GOOD_ROW},1,2\n'
    result, data = evaluate_text(workdir, "data.csv", text)
    assert result.exit_code == 3
    check_problem_lines(result.stderr, f"{describe('data.csv', data)}\nstderr:\n{result.stderr}")


@pytest.mark.parametrize("header", ["rowid", "ROWID"])
def test_found_by_fuzzing_rowid_header(workdir, header):
    # A header `rowid` shadowed DuckDB's pseudo-column: a BinderError traceback.
    text = f"{AFTER_SALES_HEADER},{header}\n{GOOD_ROW},x\n"
    result, data = evaluate_text(workdir, "data.csv", text)
    judge(result, "data.csv", data)


@pytest.mark.parametrize("name, text", [
    ("data.csv", f"agent_id,name,role,team,period,reply_within_10min,CSAT,csat,csat_responses,resolution_rate,aht,"
                 f"qa_commendations,attitude_violations,serious_complaints,base_salary\n"
                 f"A001,张三,agent,T1,2026-11,92%,50%,91%,25,96%,00:08:30,6,0,0,8000\n"),
    ("data.csv", f"AGENT_ID,{AFTER_SALES_HEADER}\nX9,{GOOD_ROW}\n"),
    ("data.json", '[{"Agent_Id": "X9", "agent_id": "A001", "name": "张三", "role": "agent", "team": "T1", '
                  '"period": "2026-11", "reply_within_10min": "92%", "csat": "91%", "csat_responses": 25, '
                  '"resolution_rate": "96%", "aht": "00:08:30", "qa_commendations": 6, "attitude_violations": 0, '
                  '"serious_complaints": 0, "base_salary": 8000}]\n'),
], ids=["CSAT before csat", "AGENT_ID before agent_id", "json Agent_Id before agent_id"])
def test_found_by_fuzzing_headers_differing_in_case_are_other_columns(workdir, name, text):
    # "Headers must match exactly (after trimming): CSAT is not csat" and "Columns that no
    # metric reads are ignored": the extra column must change nothing. DuckDB's names ignore
    # case, so the metric (or the agent id) was read from whichever column came first.
    result, data = evaluate_text(workdir, name, text)
    document = judge(result, name, data)
    assert document is not None, result.stderr
    item = document["results"][0]
    assert item["agent_id"] == "A001", f"agent id read from another column: {item['agent_id']!r}"
    assert item["kpis"][1]["value"] == 0.91, f"csat read from another column: {item['kpis'][1]['value']!r}"


@pytest.mark.parametrize("name, text", [
    ("data.json", "[" + "1" * 4301 + "]"),
    ("data.jsonl", '{"agent_id": ' + "1" * 4301 + "}\n"),
], ids=["json", "jsonl"])
def test_found_by_fuzzing_json_huge_integer(workdir, name, text):
    # More than 4300 digits: Python's int conversion limit raised a ValueError traceback.
    result, data = evaluate_text(workdir, name, text)
    judge(result, name, data)


@pytest.mark.parametrize("name, text", [
    ("data.json", "[" * 100_000 + "]" * 100_000),
    ("data.jsonl", "[" * 100_000 + "]" * 100_000 + "\n"),
], ids=["json", "jsonl"])
def test_found_by_fuzzing_json_deep_nesting(workdir, name, text):
    # A RecursionError traceback.
    result, data = evaluate_text(workdir, name, text)
    judge(result, name, data)


@pytest.mark.parametrize("cell, column", [("NaN", "csat"), ("nan", "base_salary"), ("NaN", "aht")])
def test_found_by_fuzzing_nan_is_not_too_large(workdir, cell, column):
    # 'NaN' was reported as "is too large (at most 999,999,999,999)": it is no number at all.
    names = [name for name, _ in AFTER_SALES_COLUMNS]
    row = GOOD_ROW.split(",")
    row[names.index(column)] = cell
    result, data = evaluate_text(workdir, "data.csv", f"{AFTER_SALES_HEADER}\n{','.join(row)}\n")
    judge(result, "data.csv", data)
    assert result.exit_code == 3
    assert "too large" not in result.stderr, result.stderr


@pytest.mark.parametrize("cell, value", [("92.5 %", 0.925), ("92 %", 0.92), (" 85 % ", 0.85)])
def test_found_by_fuzzing_space_before_the_percent_sign(workdir, cell, value):
    # docs/evaluation.md 2.4: a percent cell may be `92%`, `92.5 %`, `0.92`... ('92.5 %' was
    # "not a percent").
    names = [name for name, _ in AFTER_SALES_COLUMNS]
    row = GOOD_ROW.split(",")
    row[names.index("csat")] = cell
    result, data = evaluate_text(workdir, "data.csv", f"{AFTER_SALES_HEADER}\n{','.join(row)}\n")
    document = judge(result, "data.csv", data)
    assert document is not None, result.stderr
    assert document["results"][0]["kpis"][1]["value"] == value


@pytest.mark.parametrize("name, text", [
    ("data.json", '[{"agent_id": "A001", "period": "2026-11", "role": "agent", "notes": [0.5]}]'),
    ("data.json", '[{"agent_id": "A001", "period": "2026-11", "role": "agent", "notes": {"a": 1.5}}]'),
    ("data.jsonl", '{"agent_id": "A001", "period": "2026-11", "role": "agent", "notes": [0.5]}\n'),
], ids=["json list", "json object", "jsonl list"])
def test_found_by_fuzzing_json_fraction_inside_a_list_or_object(workdir, name, text):
    # Turning the list back into text raised "TypeError: Object of type Decimal is not JSON
    # serializable" (fractions are read as Decimals).
    result, data = evaluate_text(workdir, name, text)
    judge(result, name, data)


def test_found_by_fuzzing_overflow_in_an_adjustment_is_not_the_upper_limit(workdir):
    # 200,000,000,000 attitude violations: `-5 per attitude_violations` is beyond
    # 999,999,999,999, and the block `limit -20 to +10` gave +10 (least(NULL, 10) is
    # 10 in DuckDB): 100 points and 优秀, while one violation fewer gives -20 (70, 合格).
    # Fair answers: the exact sum clamped (-20, score 70), the line missing (0, score 90), or
    # an error naming the agent and the block.
    text = ("agent_id,role,period,reply_within_10min,csat,csat_responses,resolution_rate,aht,qa_commendations,"
            "attitude_violations,serious_complaints,base_salary\n"
            "A1,agent,2026-11,92%,,,92%,,,200000000000,,8000\n")
    result, data = evaluate_text(workdir, "data.csv", text)
    document = judge(result, "data.csv", data)
    if document is None:
        assert ADJUSTMENT_OVERFLOW.match(result.stderr.splitlines()[0]), result.stderr
        return
    item = document["results"][0]
    assert item["base_score"] == 90.0
    assert item["score"] in (70.0, 90.0), f"score {item['score']}, adjustments {item['adjustments']}"


def test_found_by_fuzzing_overflow_in_a_points_formula_is_not_100(workdir):
    # `points score_in * 2 - 100` (clamped to 0..100) with score_in
    # -999,999,999,999.999999: the product is beyond 999,999,999,999 and the KPI got 100
    # points. Fair answers: missing, so `when missing 50` (docs/evaluation.md 6.3), or 0.
    text = (f"agent_id,period,role,score_in,on_probation,shift,{csv_text([WAIT_HEADER], []).strip()},complaints\n"
            "A1,2026-11,agent,-999999999999.999999,,,,\n")
    result, data = evaluate_text(workdir, "data.csv", text, policy=workdir / "mini.perf")
    document = judge(result, "data.csv", data)
    assert document is not None, result.stderr
    kpi = document["results"][0]["kpis"][0]
    assert kpi["points"] in (50.0, 0.0), f"KPI {kpi}"


@pytest.mark.parametrize("name, text", [
    ("data.json", '[{"agent_id": "A\\ud800", "period": "2026-11", "role": "agent"}]\n'),
    ("data.jsonl", '{"agent_id": "A001", "period": "2026-11", "role": "agent", "name": "\\udc00"}\n'),
    ("data.json", '[{"agent_id": "A001", "period": "2026-11", "role": "agent", "notes": ["\\ud83d"]}]\n'),
], ids=["json cell", "jsonl cell", "json list"])
def test_found_by_fuzzing_json_lone_surrogate(workdir, name, text):
    # A JSON string may escape a lone surrogate (\ud800), which Python reads into a str that
    # UTF-8 cannot hold: pyarrow raised "UnicodeEncodeError: 'utf-8' codec can't encode
    # character '\ud800' ...: surrogates not allowed" (a traceback).
    result, data = evaluate_text(workdir, name, text)
    judge(result, name, data)


@pytest.mark.parametrize("name, text", [
    ("data.json", '[{"agent_id": "A001", "period": "2026-11", "role": "agent", "csat": 1e99999999999999999999}]\n'),
    ("data.jsonl", '{"agent_id": "A001", "period": "2026-11", "role": "agent", "csat": -1.5e-99999999999999999999}\n'),
], ids=["json", "jsonl"])
def test_found_by_fuzzing_json_number_beyond_decimal(workdir, name, text):
    # An exponent beyond what Decimal holds: json.loads(parse_float=Decimal) raised
    # decimal.InvalidOperation, which is no ValueError, so it escaped as a traceback.
    # (1e999999999 is fine: "'1E+999999999' is not a percent".)
    result, data = evaluate_text(workdir, name, text)
    judge(result, name, data)


def test_found_by_fuzzing_parquet_column_file_row_number(workdir):
    # Headers are only names ("rowid is just a column"), but a Parquet column named
    # file_row_number clashed with DuckDB's read_parquet(file_row_number = true): "data.parquet:
    # the Parquet file cannot be read: Binder Error: Option file_row_number adds column
    # "file_row_number", but a column with this name is also in the file" (exit 3).
    headers = [name for name, _ in AFTER_SALES_COLUMNS]
    row = GOOD_ROW.split(",")
    how = {"json empty": "null"}
    name, data = "data.parquet", _parquet_bytes(headers + ["file_row_number"], [row + ["7"]], how)
    result = run_evaluate(workdir, AFTER_SALES, name, data)
    document = judge(result, name, data, table=csv_text(headers + ["file_row_number"], [row + ["7"]]))
    assert document is not None, result.stderr
    assert [item["agent_id"] for item in document["results"]] == ["A001"]
