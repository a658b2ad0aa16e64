"""The single pass (engine/single_pass.py) says exactly what the stored route says, or leaves it to it.

A plain CSV file evaluated by one policy without targets or awards, to CSV, is typed, checked,
evaluated and written by one DuckDB query.  Each test below runs ``perfrules evaluate --format csv``
twice, with the single pass and without it (``single_pass_run`` returning None: the stored route
with the direct reading and the streamed writer), and asserts the same exit code, stdout and stderr
(the CSV written, or every problem); and whether the single pass was taken, and whether it gave
the file back to the stored route (``redo_stored``), so that each case tests what it says.

The file: 30 agents of 2026-11 (``plain_file``, row r holds agent A{r-2:03d}), evaluated by the
spec's example policy (tests/cases/evaluate/spec-complete-example).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from unittest import mock

import pytest
from test_decimal_reader import plain_file, with_cell
from test_fuzz_data import AFTER_SALES, run_evaluate
from test_fuzz_routes import SPEC_EXAMPLE, outcome

from perfrules.engine import run as engine
from perfrules.engine import single_pass

CSV = ("--format", "csv")


def evaluate_twice(folder, lines: list[str], *options: str, policy=SPEC_EXAMPLE, newline: str = "\n"):
    """(outcome with the single pass, whether it was taken, whether it redid the stored way), and
    the outcome without it; asserted equal."""
    data = (newline.join(lines) + newline).encode("utf-8")
    taken, redone = [], []
    choose, redo = single_pass.single_pass_run, engine.Evaluation.redo_stored

    def spied_choose(*arguments, **keywords):
        run = choose(*arguments, **keywords)
        taken.append(run is not None)
        return run

    def spied_redo(evaluation, *arguments):
        redone.append(arguments)
        return redo(evaluation, *arguments)

    with mock.patch.object(single_pass, "single_pass_run", spied_choose), \
            mock.patch.object(engine.Evaluation, "redo_stored", spied_redo):
        fast = outcome(run_evaluate(folder, policy, "data.csv", data, *CSV, *options))
    with mock.patch.object(single_pass, "single_pass_run", return_value=None):
        stored = outcome(run_evaluate(folder, policy, "data.csv", data, *CSV, *options))
    assert fast == stored
    evaluate_twice.redone = redone
    return fast, any(taken), bool(redone)


def test_a_clean_file_is_written_by_the_single_pass(tmp_path):
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, plain_file(30))
    assert (code, stderr, taken, redone) == (0, "", True, False)
    lines = stdout.splitlines()
    assert lines[0].startswith("agent_id,name,role,team,period,policy,")
    assert len(lines) == 31 and lines[1].startswith("A000,客服0,agent,T1,2026-11,售后客服月度考核,")


def test_the_summary_and_crlf_lines_too(tmp_path):
    (code, stdout, _), taken, redone = evaluate_twice(tmp_path, plain_file(30), "--columns", "summary",
                                                      newline="\r\n")
    assert (code, taken, redone) == (0, True, False)
    assert stdout.splitlines()[:2] == ["agent_id,period,policy,score,grade,rank,rank_of,veto,bonus_total",
                                       "A000,2026-11,售后客服月度考核,102.00,优秀,1,30,,1200.00"]  # 100 + 2 per commendation; all tie


# (what is wrong, the row it is on and its new cell, the stderr every route gives)
STOPPED = {
    "an agent's second row": (12, "agent_id", "A003",
                              "data.csv:12: column agent_id: agent A003 has another row for period 2026-11 (row 5)\n"
                              "1 data problem: nothing was written\n"),
    "a bad count after the first rows": (28, "qa_commendations", "abc",
                                         "data.csv:28: column qa_commendations: 'abc' is not a whole number\n"
                                         "1 data problem: nothing was written\n"),
    "a bad count in the first rows": (3, "qa_commendations", "1.5",
                                      "data.csv:3: column qa_commendations: '1.5' is not a whole number\n"
                                      "1 data problem: nothing was written\n"),
    "an empty agent id": (20, "agent_id", "",
                          "data.csv:20: column agent_id: the cell is empty\n1 data problem: nothing was written\n"),
    "a role no policy covers": (9, "role", "manager", None),
    "a missing value without `when missing`": (15, "resolution_rate", "", None),
}


@pytest.mark.parametrize("case", STOPPED)
def test_a_row_the_stored_route_refuses_stops_the_single_pass(tmp_path, case):
    row, column, cell, stderr = STOPPED[case]
    (code, stdout, said), taken, redone = evaluate_twice(tmp_path, with_cell(plain_file(30), row, column, cell))
    assert (code, stdout, taken, redone) == (3, "", True, True)
    if stderr is not None:
        assert said == stderr
    else:
        assert said.startswith(f"data.csv:{row}: ") and said.endswith("1 data problem: nothing was written\n")


def test_rows_of_another_period_go_the_stored_way(tmp_path):
    """The first row's period is the single pass's; a later period in row 17 stops it, and the
    stored route evaluates the latest period (2026-12: A015 alone)."""
    (code, stdout, _), taken, redone = evaluate_twice(tmp_path, with_cell(plain_file(30), 17, "period", "2026-12"))
    assert (code, taken, redone) == (0, True, True)
    assert [line.split(",")[0] for line in stdout.splitlines()] == ["agent_id", "A015"]


@pytest.mark.parametrize("period, taken", [("2026-11", True), ("2026/11", True), ("2026-10", False)])
def test_a_period_asked_for(tmp_path, period, taken):
    (code, stdout, stderr), was_taken, redone = evaluate_twice(tmp_path, plain_file(30), "--period", period)
    assert (was_taken, redone) == (taken, False)
    if period == "2026-10":
        assert (code, stderr) == (3, "data.csv: no rows for period 2026-10\n1 data problem: nothing was written\n")
    else:
        assert (code, len(stdout.splitlines())) == (0, 31)


def test_a_period_written_another_way_is_the_same_period(tmp_path):
    """`2026年11月` in row 10 is 2026-11 like the first row's `2026-11`: no stop, one period."""
    (code, stdout, _), taken, redone = evaluate_twice(tmp_path, with_cell(plain_file(30), 10, "period", "2026年11月"))
    assert (code, taken, redone, len(stdout.splitlines())) == (0, True, False, 31)


def test_empty_lines_at_the_end_are_no_reason_to_read_again(tmp_path):
    """An editor's extra line breaks at the end: DuckDB skips them and no row's number moves."""
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, [*plain_file(30), "", ""], newline="\r\n")
    assert (code, stderr, taken, redone, len(stdout.splitlines())) == (0, "", True, False, 31)


@pytest.mark.parametrize("layout", ["an empty line", "a quoted line break", "a lone header"])
def test_rows_that_do_not_add_up_go_the_stored_way(tmp_path, layout):
    """Rows that are not one a line: DuckDB reads them right, but the single pass cannot count them."""
    lines = plain_file(30)
    if layout == "an empty line":
        lines = [*lines[:10], "", *lines[10:]]
    elif layout == "a quoted line break":
        lines = with_cell(lines, 8, "name", '"客服\n六"')
    else:
        lines = lines[:1]
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, lines)
    assert (code, stderr) == (0, "")
    assert (taken, redone) == ((False, False) if layout == "a lone header" else (True, True))
    assert len(list(csv.reader(io.StringIO(stdout)))) == (1 if layout == "a lone header" else 31)


def test_a_40_mb_last_line_is_refused_not_dropped(tmp_path):
    """DuckDB drops a last line over 32 MB without a word: the rows written are one short."""
    lines = with_cell(plain_file(30), 31, "name", "x" * 40_000_000)
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, lines)
    assert (code, stdout, taken, redone) == (3, "", True, True)
    assert stderr == ("data.csv: the CSV file cannot be read: CSV Error on Line: 31: the line is longer than "
                      "2,000,000 bytes, the most a row may have\n1 data problem: nothing was written\n")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_file_changed_while_it_was_read_is_read_again(tmp_path, encoding):
    with mock.patch("perfrules.data.reading.FileScan.changed", return_value=True):
        data = ("\n".join(plain_file(30)) + "\n").encode(encoding)
        with mock.patch.object(engine.Evaluation, "redo_stored", autospec=True,
                               side_effect=engine.Evaluation.redo_stored) as redo:
            code, stdout, _ = outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", data, *CSV))
    assert redo.call_count == 1
    # The stored route's direct reading also sees the change and reads the exact way, which says it.
    assert (code, stdout.count("\n")) == (0, 31)


def test_where_the_single_pass_is_not_taken(tmp_path):
    """Targets and awards (the bundled policy), several policies, a percent column read as text."""
    lines = plain_file(30)
    assert evaluate_twice(tmp_path, lines, policy=AFTER_SALES)[1:] == (False, False)
    both = tmp_path / "both"
    both.mkdir()
    for name in ("a.perf", "b.perf"):
        (both / name).write_text(SPEC_EXAMPLE.read_text(encoding="utf-8").replace(
            "售后客服月度考核", f"考核{name[0]}"), encoding="utf-8")
    assert evaluate_twice(tmp_path, lines, policy=both)[1:] == (False, False)


def signed(lines: list[str]) -> list[str]:
    """The file with every percent cell written `95%` (as HR's spreadsheets write them)."""
    return [lines[0]] + [line.replace(",0.95,0.91,", ",95%,91%,").replace(",0.96,", ",96%,") for line in lines[1:]]


WARNING = "data.csv: warning: column csat mixes percent cells (row {signed}) with bare numbers (row {bare}, read as {as_}); write every cell the same way\n"


def test_percent_cells_written_with_the_sign(tmp_path):
    """Percent columns read as text (`95%`) are typed by the single pass as long as every non-zero
    cell is spelled like the first row's; a column that mixes `91%` and bare numbers warns the
    stored way, so the first cell spelled otherwise stops the single pass (docs/evaluation.md 4.4)."""
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, signed(plain_file(30)))
    assert (code, stderr, taken, redone, len(stdout.splitlines())) == (0, "", True, False, 31)
    assert stdout.splitlines()[1].startswith("A000,客服0,agent,T1,2026-11,售后客服月度考核,0.95,excellent,")
    # A zero is the same either way and warns of nothing: `0` among `91%` cells is no stop.
    (code, _, stderr), taken, redone = evaluate_twice(tmp_path, with_cell(signed(plain_file(30)), 20, "csat", "0"))
    assert (code, stderr, taken, redone) == (0, "", True, False)
    # A bare 0.9 after `91%` cells, and a `91%` after bare cells: stopped, then the stored way's warning.
    (code, _, stderr), taken, redone = evaluate_twice(tmp_path, with_cell(signed(plain_file(30)), 20, "csat", "0.9"))
    assert (code, stderr, taken, redone) == (0, WARNING.format(signed="2: '91%'", bare="20: '0.9'", as_="90%"),
                                             True, True)
    (code, _, stderr), taken, redone = evaluate_twice(tmp_path, with_cell(plain_file(30), 5, "csat", "91%"))
    assert (code, stderr, taken, redone) == (0, WARNING.format(signed="5: '91%'", bare="2: '0.91'", as_="91%"),
                                             True, True)
    # A first row that does not tell how the column is written (`0%`, empty): the stored way.
    for first in ("0%", ""):
        (code, _, stderr), taken, redone = evaluate_twice(tmp_path, with_cell(signed(plain_file(30)), 2, "csat", first))
        assert (code, stderr, taken, redone) == (0, "", False, False)


def test_a_late_percent_sign_is_read_as_text_at_once(tmp_path):
    """Row 29's `92%` in a column the reader types as numbers (its first rows are bare decimals)
    stops the single pass; the stored way then reads every cell as text without trying the
    reader's typing again, and warns of the column's two spellings as the exact route does."""
    (code, stdout, stderr), taken, redone = evaluate_twice(
        tmp_path, with_cell(plain_file(30), 29, "reply_within_10min", "92%"))
    assert (code, taken, evaluate_twice.redone) == (0, True, [(True,)])
    assert stderr == ("data.csv: warning: column reply_within_10min mixes percent cells (row 29: '92%') with bare "
                      "numbers (row 2: '0.95', read as 95%); write every cell the same way\n")
    assert len(stdout.splitlines()) == 31


@pytest.mark.parametrize("column, cell, said", [
    ("base_salary", "6_000", "'6_000' is not an amount of money"),
    ("qa_commendations", "1e1_0", "'1e1_0' is not a whole number"),
    ("csat", "0.9_1", "'0.9_1' is not a percent"),
])
def test_an_underscore_between_digits_is_refused_not_read_as_a_number(tmp_path, column, cell, said):
    """DuckDB's reader (and its casts) read `6_000` as 6000 and `1e1_0` as 1e10: a typo paid as
    another number. The file scan sees the joined digits, the rows written are thrown away and
    every cell is read as text at once, where the cell is refused with its row."""
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, with_cell(plain_file(30), 27, column, cell))
    assert (code, stdout, taken, evaluate_twice.redone) == (3, "", True, [(True,)])
    assert stderr == (f"data.csv:27: column {column}: {said} (remove the underscore: digits are grouped with commas, "
                      f"as in 1,000)\n1 data problem: nothing was written\n")


def test_an_underscore_in_a_text_column_changes_nothing(tmp_path):
    """`T1_2` joins two digits too: the rows are read again as text, and the same file is written."""
    lines = plain_file(30)
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, with_cell(lines, 5, "team", "T1_2"))
    assert (code, stderr, taken, evaluate_twice.redone) == (0, "", True, [(True,)])
    plain, _, _ = evaluate_twice(tmp_path, lines)
    assert "A003,客服3,agent,T1_2," in stdout
    assert stdout == plain[1].replace("A003,客服3,agent,T1,", "A003,客服3,agent,T1_2,")


def test_a_gb18030_file_is_written_by_the_single_pass_from_a_utf8_copy(tmp_path):
    """Chinese Excel's "CSV" is GB18030: evaluated from a UTF-8 copy (DuckDB reads UTF-8 only), by
    the single pass, with the same rows as the UTF-8 file; the receipt's sha256 is of the file's
    own bytes; the copy, in the private temporary folder, is gone once the command is done."""
    from perfrules import files

    lines = with_cell(plain_file(30), 7, "name", "王小明")
    text = "\n".join(lines) + "\n"
    taken, calls = [], single_pass.single_pass_run

    def spied(*arguments, **keywords):
        run = calls(*arguments, **keywords)
        taken.append(run is not None)
        return run

    with mock.patch.object(single_pass, "single_pass_run", spied):
        chinese = outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", text.encode("gb18030"), *CSV))
    assert taken == [True]
    assert chinese == outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", text.encode("utf-8"), *CSV))
    assert "A005,王小明,agent,T1," in chinese[1]
    receipt = run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", text.encode("gb18030"), "--format", "json")
    assert json.loads(receipt.stdout)["data_sha256"] == hashlib.sha256(text.encode("gb18030")).hexdigest()
    assert [path.name for path in files._private_root().glob("*.csv")] == []


def test_a_gb18030_file_with_a_bad_byte_says_so_as_before(tmp_path):
    """A byte that is neither UTF-8 nor GB18030: the copy stops, and the exact route says which byte, on which line."""
    data = ("\n".join(plain_file(30)) + "\n").encode("gb18030").replace("客服9,".encode("gb18030"), b"\x81\x20,")
    code, stdout, stderr = outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", data, *CSV))
    assert (code, stdout) == (3, "")
    assert stderr.startswith("data.csv:11: the file is neither UTF-8 nor GB18030 (byte 0x81 on this line)")
