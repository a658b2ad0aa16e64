"""`--source NAME=PATH` with metric definitions given as DATA (evaluate, explain, report, diff):
the same option, validation and messages as `perfrules metrics --source`; refused when DATA is
a data file; and no `-o` of these commands may overwrite a raw export the definitions read.

The numbers, by hand: calls.csv (November) gives A1 1 call of 60 s (aht 1min) and A2 2 calls
of 600 s and 60 s (aht 330 s = 5.5min); december.csv gives A1 2 calls of 120 s and 240 s
(aht (120 + 240) / 2 = 180 s = 3min) and A2 1 call of 420 s (7min). The KPI gives 100 points at aht <= 5min,
else 50; grade A at a score >= 60, else B; ranks by score, higher first.
"""

from __future__ import annotations

import pytest
from test_metrics_cli import DEFINITIONS

POLICY = """policy "calls" {
    version "t"
    roles agent

    metric calls: count "calls" higher is better
    metric aht: duration in min "aht" lower is better

    kpi "aht" weight 100% {
        aht <= 5min => 100
        else => 50
    }

    grade {
        score >= 60 => "A"
        else => "B"
    }
}
"""

SUMMARY = "agent_id,period,policy,score,grade,rank,rank_of,veto,bonus_total\n"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "calls.perfm").write_text(DEFINITIONS, encoding="utf-8")
    (tmp_path / "policy.perf").write_text(POLICY, encoding="utf-8")
    (tmp_path / "calls.csv").write_text("who,day,talk\nA1,2026-11-02,60\nA2,2026-11-03,600\nA2,2026-11-04,60\n",
                                        encoding="utf-8")
    (tmp_path / "december.csv").write_text("who,day,talk\nA1,2026-12-02,120\nA1,2026-12-03,240\nA2,2026-12-02,420\n",
                                           encoding="utf-8")
    return tmp_path


def summary(run_cli, folder, *extra):
    return run_cli("evaluate", "policy.perf", "calls.perfm", "--format", "csv", "--columns", "summary", *extra,
                   cwd=folder)


def test_evaluate_reads_the_source_from_the_path_given(folder, run_cli):
    november = summary(run_cli, folder)
    assert (november.exit_code, november.stdout) == (0, SUMMARY + "A1,2026-11,calls,100.00,A,1,2,,0.00\n"
                                                                  "A2,2026-11,calls,50.00,B,2,2,,0.00\n")
    december = summary(run_cli, folder, "--source", "calls=december.csv")
    assert (december.exit_code, december.stderr) == (0, "")
    assert december.stdout == SUMMARY + ("A1,2026-12,calls,100.00,A,1,2,,0.00\n"
                                         "A2,2026-12,calls,50.00,B,2,2,,0.00\n")


def test_explain_says_the_overriding_file(folder, run_cli):
    result = run_cli("explain", "policy.perf", "calls.perfm", "--source", "calls=december.csv", "--agent", "A1",
                     "--lang", "en", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "  aht = 3min\n    ← average of talk over 2 calls of december.csv\n" in result.stdout


def test_report_reads_the_source_from_the_path_given(folder, run_cli):
    result = run_cli("report", "policy.perf", "calls.perfm", "--source", "calls=december.csv", "-o", "out",
                     cwd=folder)
    assert (result.exit_code, result.stderr) == (0, "wrote 3 PDF files to out\n")
    assert sorted(path.relative_to(folder / "out").as_posix() for path in (folder / "out").rglob("*.pdf")) == [
        "2026-12/A1-A1.pdf", "2026-12/A2-A2.pdf", "2026-12/team-summary.pdf"]


def test_diff_reads_the_source_from_the_path_given(folder, run_cli):
    (folder / "new.perf").write_text(POLICY.replace("aht <= 5min", "aht <= 8min"), encoding="utf-8")
    result = run_cli("diff", "policy.perf", "new.perf", "calls.perfm", "--source", "calls=december.csv",
                     "--format", "csv", cwd=folder)
    assert (result.exit_code, result.stderr) == (0, "")
    # A2's 7min: 50 points under the old policy, 100 under the new one (<= 8min); A1 (3min) does not move.
    assert result.stdout == ("agent_id,name,team,period,old_score,old_grade,old_rank,old_bonus_total,new_score,"
                             "new_grade,new_rank,new_bonus_total,bonus_delta\n"
                             "A2,,,2026-12,50.00,B,2,0.00,100.00,A,1,0.00,0.00\n")


@pytest.mark.parametrize("command", [
    ("evaluate", "policy.perf", "DATA"),
    ("explain", "policy.perf", "DATA", "--agent", "A1"),
    ("report", "policy.perf", "DATA", "-o", "out"),
    ("diff", "policy.perf", "policy.perf", "DATA"),
])
def test_the_option_is_checked_as_metrics_checks_it(folder, run_cli, command):
    def run(data, *source):
        return run_cli(*[data if part == "DATA" else part for part in command], "--source", *source, cwd=folder)

    unknown = run("calls.perfm", "call=december.csv")
    assert (unknown.exit_code, unknown.stderr) == (2, "perfrules: error: --source call=...: calls.perfm has no "
                                                      "source 'call' (its sources: calls)\n")
    malformed = run("calls.perfm", "december.csv")
    assert (malformed.exit_code, malformed.stderr) == (2, "perfrules: error: --source december.csv: write "
                                                          "NAME=PATH, for example --source calls=august.csv\n")
    twice = run("calls.perfm", "calls=december.csv", "--source", "calls=january.csv")
    assert (twice.exit_code, twice.stderr) == (2, "perfrules: error: --source calls=january.csv: source calls is "
                                                  "given twice (also --source calls=december.csv); give each source "
                                                  "once\n")
    missing = run("calls.perfm", "calls=january.csv")
    assert (missing.exit_code, missing.stderr) == (3, "january.csv: no such file (hint: source calls of calls.perfm "
                                                      "(line 4); give another path with --source calls=PATH)\n"
                                                      "1 data problem: nothing was written\n")
    (folder / "snapshot.csv").write_text("agent_id,period,role,calls,aht\nA1,2026-11,agent,1,1min\n", encoding="utf-8")
    not_definitions = run("snapshot.csv", "calls=december.csv")
    assert (not_definitions.exit_code, not_definitions.stderr) == (
        2, "perfrules: error: --source calls=december.csv: DATA snapshot.csv is a data file; --source applies to "
           "metric definitions (*.perfm) given as DATA\n")
    assert not (folder / "out").exists()


@pytest.mark.parametrize("output, source", [("calls.csv", ()), ("december.csv", ("--source", "calls=december.csv"))])
def test_evaluate_never_writes_over_a_raw_export(folder, run_cli, output, source):
    """`evaluate policy.perf calls.perfm -o calls.csv` replaced the raw export with the results."""
    raw = (folder / output).read_text(encoding="utf-8")
    result = summary(run_cli, folder, "-o", output, *source)
    assert (result.exit_code, result.stderr) == (2, f"perfrules: error: -o {output}: is an input of this run "
                                                    f"({output}); write the results to another file\n")
    assert (folder / output).read_text(encoding="utf-8") == raw


def test_diff_never_writes_over_a_raw_export(folder, run_cli):
    raw = (folder / "calls.csv").read_text(encoding="utf-8")
    result = run_cli("diff", "policy.perf", "policy.perf", "calls.perfm", "-o", "calls.csv", "--format", "csv",
                     cwd=folder)
    assert (result.exit_code, result.stderr) == (2, "perfrules: error: -o calls.csv: is an input of this run "
                                                    "(calls.csv); write the results to another file\n")
    assert (folder / "calls.csv").read_text(encoding="utf-8") == raw


def test_a_path_too_long_for_the_file_system_is_a_data_problem(folder, run_cli):
    """It raised OSError (exit 4), with `perfrules metrics --source` too."""
    name = "a" * 300 + ".csv"
    for command in (("metrics", "calls.perfm"), ("evaluate", "policy.perf", "calls.perfm")):
        result = run_cli(*command, "--source", f"calls={name}", cwd=folder)
        assert (result.exit_code, result.stdout, result.stderr) == (
            3, "", f"{name}: cannot be read: File name too long (hint: source calls of calls.perfm (line 4); "
                   f"give another path with --source calls=PATH)\n1 data problem: nothing was written\n")
