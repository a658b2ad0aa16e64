"""Review of the single pass (engine/single_pass.py): inputs at its edges, and the file changing under it.

The single pass reads the data file a second time, during the COPY that writes the CSV, and
gives the file back to the stored route when a row stops its query or its rows do not add up
to the file's lines.  Each differential case below asserts that ``perfrules evaluate --format
csv`` says exactly what the stored route says (``evaluate_twice`` of test_single_pass: same exit
code, stdout and stderr), and whether the single pass was taken and handed the file back, so
that each case tests the path it names.  The files are test_single_pass's 30 agents of 2026-11
(row r holds agent A{r-2:03d}) under the spec's example policy.

Then the file is deleted, truncated or replaced between the single pass's plan and its COPY
(the moment only the single pass has), and a Ctrl-C during the exact route's reading of a CSV
file, which the single pass sends more files to (docs/evaluation.md 4.4: exit 130), and a CSV
written with -o on a full disk (4.4's one line).  These two fail: found by this review.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from unittest import mock

import pytest
from test_decimal_reader import HEADER, plain_file, with_cell
from test_fuzz_data import run_evaluate
from test_fuzz_routes import SPEC_EXAMPLE, outcome
from test_hostile_writes import full_disk
from test_single_pass import CSV, evaluate_twice

from perfrules import outputs
from perfrules.data import reading
from perfrules.data.problems import DataFileProblem

__all__ = ["full_disk"]  # the fixture, imported for pytest

LINES = plain_file(30)
COLUMNS = HEADER.split(",")


def reversed_columns(lines: list[str]) -> list[str]:
    return [",".join(reversed(line.split(","))) for line in lines]


def per_period(lines: list[str], period: str) -> list[str]:
    return [lines[0], *(line.replace("2026-11", period) for line in lines[1:])]


# (the file's lines, the options, whether the single pass is taken, whether it hands the file
# back to the stored route, the exit code every route gives)
EDGES = {
    # ids and roles: cleaned the same way on both routes
    "a duplicate that differs only in spaces": (with_cell(LINES, 12, "agent_id", " A003 "), (), True, True, 3),
    "ids that differ only in case are two agents": (with_cell(LINES, 12, "agent_id", "a003"), (), True, False, 0),
    "a duplicate that differs by a no-break space is another agent": (
        with_cell(LINES, 12, "agent_id", "A003\u00a0"), (), True, True, 3),
    "a role with spaces around it is that role": (with_cell(LINES, 12, "role", " agent "), (), True, False, 0),
    "a role in another case is no role of the policy": (with_cell(LINES, 12, "role", "Agent"), (), True, True, 3),
    "an empty role": (with_cell(LINES, 12, "role", ""), (), True, True, 3),
    "a formula-like id": (with_cell(LINES, 5, "agent_id", "=1+1"), (), True, False, 0),
    # periods: the first row's, as written or not
    "the first row's period written 2026/11": (with_cell(LINES, 2, "period", "2026/11"), (), True, False, 0),
    "the first row's period with spaces": (with_cell(LINES, 2, "period", " 2026-11"), (), True, False, 0),
    "an earlier period on the first row": (with_cell(LINES, 2, "period", "2026-10"), (), True, True, 0),
    "a later period on the first row": (with_cell(LINES, 2, "period", "2026-12"), (), True, True, 0),
    "a quarter in a monthly file": (with_cell(LINES, 5, "period", "2026-Q4"), (), True, True, 3),
    "the first row's period is not one": (with_cell(LINES, 2, "period", "2026-13"), (), False, False, 3),
    "--period in another spelling": (LINES, ("--period", "2026年11月"), True, False, 0),
    # numbers at DECIMAL(18, 6)'s edge, read by the reader or refused by it
    "a salary of 999,999,999,999": (with_cell(LINES, 5, "base_salary", "999999999999"), (), True, False, 0),
    "a salary of 10^12": (with_cell(LINES, 5, "base_salary", "1000000000000"), (), True, True, 3),
    "a salary of 1e12": (with_cell(LINES, 5, "base_salary", "1e12"), (), True, True, 3),
    "a count of 20 digits": (with_cell(LINES, 5, "qa_commendations", "99999999999999999999"), (), True, True, 3),
    # the file's layout
    "a byte order mark": (["\ufeff" + LINES[0], *LINES[1:]], (), True, False, 0),
    "two empty lines at the end": ([*LINES, "", ""], (), True, False, 0),  # skipped by DuckDB: no row moves
    "a line of commas": ([*LINES[:10], "," * 13, *LINES[10:]], (), True, True, 3),
    "a row with a cell too many": ([*LINES[:10], LINES[10] + ",x", *LINES[11:]], (), True, True, 3),
    "the columns in another order": (reversed_columns(LINES), (), True, False, 0),
    "a short first row": ([LINES[0], "A999,x", *LINES[1:]], (), False, False, 3),
    "a title row above the headers": (["考核数据,,,,,,,,,,,,,", *LINES], ("--header-row", "2"), False, False, 0),
}


@pytest.mark.parametrize("case", EDGES)
def test_the_single_pass_says_what_the_stored_route_says(tmp_path, case):
    lines, options, taken, handed_back, code = EDGES[case]
    (said, stdout, stderr), was_taken, redone = evaluate_twice(tmp_path, lines, *options)
    assert (said, was_taken, redone) == (code, taken, handed_back), stderr
    if code == 0:
        assert stderr == "" and len(stdout.splitlines()) >= 2


def test_a_last_line_without_a_line_break(tmp_path):
    """evaluate_twice ends the file with a line break: here the file's last byte is the last cell's."""
    with mock.patch("test_single_pass.run_evaluate",
                    lambda folder, policy, name, data, *more: run_evaluate(folder, policy, name, data[:-1], *more)):
        (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, LINES)
    assert (code, stderr, taken, redone, len(stdout.splitlines())) == (0, "", True, False, 31)


def test_a_yearly_and_a_quarterly_policy(tmp_path):
    """The first row's `2026` (a column DuckDB could type as a number) and `2026-Q4`; a later row
    writes the same period another way (no stop) or another period (the stored route)."""
    for kind, period, other_spelling, other_period in (("year", "2026", "2026年", "2025"),
                                                       ("quarter", "2026-Q4", "2026Q4", "2026-Q3")):
        policy = tmp_path / kind / "policy.perf"
        policy.parent.mkdir()
        policy.write_text(SPEC_EXAMPLE.read_text(encoding="utf-8").replace("period month", f"period {kind}"),
                          encoding="utf-8")
        lines = per_period(LINES, period)
        (code, stdout, _), taken, redone = evaluate_twice(tmp_path, with_cell(lines, 9, "period", other_spelling),
                                                          policy=policy)
        assert (code, taken, redone, len(stdout.splitlines())) == (0, True, False, 31)
        (code, stdout, _), taken, redone = evaluate_twice(tmp_path, with_cell(lines, 9, "period", other_period),
                                                          policy=policy)
        assert (code, taken, redone, len(stdout.splitlines())) == (0, True, True, 31 - 1)  # the latest period


def test_the_output_file_is_the_stored_routes(tmp_path):
    data = ("\n".join(LINES) + "\n").encode("utf-8")
    written = {}
    for way in ("single pass", "stored"):
        patch = mock.patch("perfrules.engine.single_pass.single_pass_run", return_value=None) \
            if way == "stored" else contextlib.nullcontext()
        with patch:
            assert outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", data, "-o", "out.csv")) == \
                (0, "", "wrote out.csv (1 policy)\n")
        written[way] = (tmp_path / "out.csv").read_bytes()
    assert written["single pass"] == written["stored"] and written["stored"].count(b"\n") == 31


# ---- the file changes between the single pass's plan and its COPY --------------------------------


def changed_before_the_copy(folder: Path, change) -> tuple[tuple, int]:
    """(outcome, COPY attempts) of ``evaluate --format csv`` when ``change`` is done to data.csv
    just before the first COPY (the single pass's, which reads the file)."""
    real, attempts = outputs.flat_query, []

    def query(*arguments, **keywords):
        if not attempts:
            change(folder / "data.csv")
        attempts.append(1)
        return real(*arguments, **keywords)

    data = ("\n".join(LINES) + "\n").encode("utf-8")
    with mock.patch.object(outputs, "flat_query", query):
        return outcome(run_evaluate(folder, SPEC_EXAMPLE, "data.csv", data, *CSV)), len(attempts)


def test_a_file_deleted_before_the_copy_is_said_to_have_changed(tmp_path):
    (code, stdout, stderr), attempts = changed_before_the_copy(tmp_path, Path.unlink)
    assert (code, stdout, attempts) == (3, "", 1)
    assert stderr == ("data.csv: changed while it was being read; evaluate it again once it is saved\n"
                      "1 data problem: nothing was written\n")


@pytest.mark.parametrize("change", ["truncated", "rewritten", "replaced"])
def test_a_file_changed_before_the_copy_is_evaluated_as_it_is_now(tmp_path, change):
    """The rows written and the file's lines then disagree, or the file's state does: the stored
    route evaluates the file as it is now, as if it had been given so (never a mix of the two)."""
    now = LINES[:-1] if change == "truncated" else with_cell(LINES, 5, "csat", "0.5")
    data = ("\n".join(now) + "\n").encode("utf-8")

    def edit(path: Path) -> None:
        if change == "replaced":
            (path.parent / "new.csv").write_bytes(data)
            (path.parent / "new.csv").replace(path)
        else:
            path.write_bytes(data)

    got, attempts = changed_before_the_copy(tmp_path, edit)
    with mock.patch("perfrules.engine.single_pass.single_pass_run", return_value=None):
        expected = outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", data, *CSV))
    assert (got, attempts) == (expected, 2)
    assert expected[0] == 0 and expected[1].count("\n") == len(now)


# ---- Ctrl-C while the exact route reads a CSV file ------------------------------------------------


class InterruptedConnection:
    """A DuckDB connection whose query is stopped by Ctrl-C: DuckDB turns the KeyboardInterrupt
    into ``RuntimeError: Query interrupted`` (what cli.py's boundary makes exit 130 of)."""

    def execute(self, *arguments):
        raise RuntimeError("Query interrupted")


def test_ctrl_c_while_the_exact_route_reads_the_file_is_not_a_data_problem(tmp_path):
    """Found by this review: SIGINT 8.5 s into `evaluate POLICY blank_mid.csv -o out.csv` (a
    million agents, an empty line in the middle: the single pass's attempt, then the exact
    route) was exit 3 `blank_mid.csv: the CSV file cannot be read` instead of exit 130
    `perfrules: interrupted`: reading._load_csv turns every exception into a data problem."""
    path = tmp_path / "data.csv"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    try:
        reading._load_csv(InterruptedConnection(), path, "raw", len(COLUMNS), ",")
    except DataFileProblem as problem:
        pytest.fail(f"Ctrl-C became a data problem: {problem}")
    except RuntimeError as error:
        assert str(error) == "Query interrupted"
    else:
        pytest.fail("the interrupted query was not reported")


# ---- a full disk under -o --------------------------------------------------------------------------


def test_a_csv_on_a_full_disk_is_said_as_documented(tmp_path, full_disk):
    """docs/evaluation.md 4.4: `perfrules: error: cannot write out.csv: No space left on device`,
    the old file kept, no temporary file left.  Found by this review: the CSV (written by
    DuckDB's COPY, on either route) says DuckDB's whole message instead, with the temporary
    file's name and a JSON object: `cannot write …/out.csv: DuckDB could not write the CSV
    file: IO Error: Async write failed for range [offset=0, size=664]: {"exception_type":"IO",
    "exception_message":"Could not write file \\"…/tmp_.out.csv.perfrules-695-….tmp\\": No space
    left on device","errno":"28"}`; and the single pass, taking the COPY's failure for the
    data's, evaluates the file twice more the stored way before saying so (a million agents:
    9.1 → 13.2 CPU-s)."""
    target = full_disk / "out.csv"
    data = ("\n".join(LINES) + "\n").encode("utf-8")
    code, stdout, stderr = outcome(run_evaluate(tmp_path, SPEC_EXAMPLE, "data.csv", data, "-o", str(target)))
    assert (code, stdout) == (2, "")
    assert stderr == f"perfrules: error: cannot write {target}: No space left on device\n"
    assert sorted(path.name for path in full_disk.iterdir()) == ["filler"]
