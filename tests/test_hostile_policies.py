"""Policies and data at the edges that used to crash or hang: due dates beyond the calendar,
periods outside the years 0001..9989, ``round`` with absurd digits, a FIFO, a device or a link
loop as a policy file, and old Mac (CR-only) and Windows (CRLF) line breaks.

Every case ends with an exit code and a message, within a timeout, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import CASES
from test_hostile_writes import GOOD, good, perfrules  # noqa: F401 - good is a fixture

PLAN_DAYS = CASES / "check" / "pr014-plan-days-not-whole" / "policy.perf"


def with_period(folder: Path, period: str, days: int = 3650) -> None:
    data = (GOOD / "data.csv").read_text(encoding="utf-8").replace("2026-11", period)
    (folder / "data.csv").write_text(data, encoding="utf-8")
    policy = (GOOD / "policy.perf").read_text(encoding="utf-8").replace("within 14 days", f"within {days} days")
    (folder / "policy.perf").write_text(policy, encoding="utf-8")


# ---- dates ----------------------------------------------------------------------------------------


def test_the_longest_plan_in_the_last_period_has_a_real_due_date(run_cli, good):
    with_period(good, "9989-12")
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=good)
    assert result.exit_code == 0, result.stderr
    dues = {action["due"] for item in json.loads(result.stdout)["results"] for plan in item["plans"]
            for action in plan["actions"]}
    assert "9999-12-29" in dues  # 9989-12-31 + 3650 days
    explained = run_cli("explain", "policy.perf", "data.csv", "--agent", "A006", cwd=good)
    assert explained.exit_code == 0 and "9999-12-29" in explained.stdout


@pytest.mark.parametrize("period", ["9999-12", "0000-01", "9990-01", "9999", "0000-Q1", "9999年12月"])
def test_periods_outside_the_calendar_are_data_problems(good, period):
    with_period(good, period)
    result = perfrules("evaluate", "policy.perf", "data.csv", cwd=good)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert f"column period: '{period}' is not a period" in result.stderr
    given = perfrules("evaluate", "policy.perf", "data.csv", "--period", period, cwd=good)
    assert given.returncode == 2 and given.stderr.count("\n") == 1 and "Traceback" not in given.stderr


def test_a_plan_due_beyond_ten_years_is_a_located_check_error(run_cli, tmp_path):
    policy = tmp_path / "policy.perf"
    policy.write_text(PLAN_DAYS.read_text(encoding="utf-8").replace("7.5 days", "3000000 days"), encoding="utf-8")
    result = run_cli("check", str(policy))
    assert result.exit_code == 1
    assert ":14:27: error PR014: a plan action is due within at most 3650 days, not 3000000" in result.stderr
    policy.write_text(PLAN_DAYS.read_text(encoding="utf-8").replace("7.5 days", "3650 days"), encoding="utf-8")
    assert run_cli("check", str(policy)).exit_code == 0


@pytest.mark.parametrize("digits, ok", [("12", True), ("13", False), ("2147483648", False), ("99999999999", False)])
def test_round_keeps_at_most_twelve_digits(run_cli, tmp_path, digits, ok):
    policy = tmp_path / "policy.perf"
    policy.write_text((CASES / "check" / "pr207-round-too-many-digits" / "policy.perf").read_text(encoding="utf-8")
                      .replace("2147483648", digits), encoding="utf-8")
    (tmp_path / "data.csv").write_text("agent_id,period,role,complaint_rate\nA1,2026-11,agent,0.5%\n", encoding="utf-8")
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=tmp_path)
    if ok:
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["results"][0]["score"] == 90
    else:
        assert result.exit_code == 1 and f"error PR207: round() keeps 0 to 12 digits, not {digits}" in result.stderr


# ---- files that are not policy files -----------------------------------------------------------


def test_a_fifo_a_device_or_a_link_loop_given_as_a_policy(tmp_path):
    os.mkfifo(tmp_path / "pipe.perf")
    os.symlink("loop-b.perf", tmp_path / "loop-a.perf")
    os.symlink("loop-a.perf", tmp_path / "loop-b.perf")
    for argument in ("pipe.perf", "/dev/zero"):
        result = perfrules("check", argument, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"{argument}:1:1: error PR010: cannot read the file: this is not a regular file" in result.stderr
    result = perfrules("check", "loop-a.perf", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_fifo_a_device_and_a_link_loop_in_a_policy_folder(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(GOOD / "policy.perf", folder / "good.perf")
    os.mkfifo(folder / "pipe.perf")
    os.symlink("/dev/zero", folder / "zero.perf")
    os.symlink("loop-b.perf", folder / "loop-a.perf")
    os.symlink("loop-a.perf", folder / "loop-b.perf")
    result = perfrules("check", "policies", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for name, reason in (("pipe", "this is not a regular file"), ("zero", "this is a link to a file that is not a policy"),
                         ("loop-a", "Too many levels of symbolic links"), ("loop-b", "Too many levels")):
        assert f"policies/{name}.perf:1:1: error PR010: cannot read the file: {reason}" in result.stderr
    assert "checked 5 policy files: 4 errors" in result.stderr
    evaluated = perfrules("evaluate", "policies", str(GOOD / "data.csv"), cwd=tmp_path)
    assert evaluated.returncode == 1 and "nothing was evaluated" in evaluated.stderr


def test_a_link_to_metric_definitions_is_followed_and_a_link_to_another_file_is_not(tmp_path):
    """As a policy link is followed to a policy only, a definitions link is followed to
    definitions only: ``calls.perfm -> shared/calls.perfm`` was refused as "not a policy"."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "calls.perfm").write_text(
        'metrics "calls" {\n    period month\n    role "agent"\n    source calls "calls.csv" {\n'
        '        column day: timestamp "YYYY-MM-DD"\n        agent who\n        period by day\n    }\n'
        '    metric calls: count = count of calls\n}\n', encoding="utf-8")
    (tmp_path / "calls.csv").write_text("who,day\nA1,2026-11-02\nA1,2026-11-03\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("TOKEN=s3cr3t\n", encoding="utf-8")
    os.symlink("shared/calls.perfm", tmp_path / "calls.perfm")
    os.symlink("secret.txt", tmp_path / "secret.perfm")
    result = perfrules("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "agent_id,period,role,name,team,supervisor,calls\n"
                                                     "A1,2026-11,agent,,,,2\n"), result.stderr
    assert perfrules("check", "calls.perfm", cwd=tmp_path).returncode == 0
    refused = perfrules("metrics", "secret.perfm", cwd=tmp_path)
    assert (refused.returncode, refused.stderr) == (1, (
        "secret.perfm:1:1: error PR010: cannot read the file: this is a link to a file that is not metric "
        "definitions (*.perfm); perfrules does not follow it\n\nchecked 1 definitions file: 1 error: nothing was "
        "computed\n"))


# ---- line breaks --------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_cr_only_and_crlf_policies_have_the_right_line_numbers(run_cli, tmp_path, newline):
    text = PLAN_DAYS.read_text(encoding="utf-8")
    (tmp_path / "lf.perf").write_text(text, encoding="utf-8")
    (tmp_path / "other.perf").write_bytes(text.replace("\n", newline).encode("utf-8"))
    expected = run_cli("check", "lf.perf", cwd=tmp_path)
    result = run_cli("check", "other.perf", cwd=tmp_path)
    assert result.exit_code == expected.exit_code == 1
    assert "other.perf:14:27: error PR014" in result.stderr and "\r" not in result.stderr
    assert result.stderr.replace("other.perf", "lf.perf") == expected.stderr


def test_a_folder_named_like_metric_definitions_is_said_to_be_a_folder(tmp_path):
    """`check x.perfm` said "no such file" of a folder, `metrics` and `evaluate` "not a policy file"."""
    (tmp_path / "calls.perfm").mkdir()
    shutil.copy(GOOD / "policy.perf", tmp_path / "policy.perf")
    expected = "calls.perfm:1:1: error PR010: this is a folder, not a metric definitions file\n"
    for command, summary in ((("check", "calls.perfm"), "checked 1 policy file: 1 error, 0 warnings\n"),
                             (("metrics", "calls.perfm"), "checked 1 definitions file: 1 error: nothing was computed\n"),
                             (("evaluate", "policy.perf", "calls.perfm"),
                              "checked 1 definitions file: 1 error: nothing was computed\n")):
        result = perfrules(*command, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (1, expected + "\n" + summary), command
    (tmp_path / "CALLS.PERFM").mkdir()  # the suffix in any case, as `check` and `evaluate` take it
    upper = perfrules("check", "CALLS.PERFM", cwd=tmp_path)
    assert (upper.returncode, upper.stderr) == (1, expected.replace("calls.perfm", "CALLS.PERFM") + "\n"
                                                + "checked 1 policy file: 1 error, 0 warnings\n")
    missing = perfrules("check", "none.perfm", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (2, "perfrules: error: none.perfm: no such file\n")
