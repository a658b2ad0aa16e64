"""Every command's standard output on a full disk or closed (``perfrules ... >&-``).

test_hostile_writes.py covers evaluate, check and explain on a full disk; here every command
that prints to standard output: schema, test, diff, fmt, metrics, the help and the version
too.  A full disk is exit 2 with one line naming standard output and the reason; a standard
output the shell closed is the same, never an internal error; nothing but that line on
stderr.  (``--help`` and ``--version`` on a closed standard output print nothing, exit 0:
click's choice.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_hostile_writes import ENV, GOOD, assert_one_line_error, full_device  # noqa: F401 - a fixture

from conftest import POLICIES

DEFINITIONS = """metrics "calls" {
    period month
    role "agent"
    source calls "calls.csv" {
        column day: timestamp "YYYY-MM-DD"
        agent who
        period by day
    }
    metric calls: count = count of calls
}
"""

RUNS = {
    "schema": ["schema", "result"],
    "test": ["test", "policies"],
    "test-json": ["test", "policies", "--format", "json"],
    "diff": ["diff", "policy.perf", "policy.perf", "data.csv"],
    "diff-csv": ["diff", "policy.perf", "policy.perf", "data.csv", "--format", "csv"],
    "fmt-diff": ["fmt", "--diff", "messy.perf"],
    "fmt-stdin": ["fmt", "-"],
    "metrics": ["metrics", "calls.perfm"],
    "metrics-json": ["metrics", "calls.perfm", "--format", "json"],
    "evaluate": ["evaluate", "policy.perf", "data.csv"],
    "explain": ["explain", "policy.perf", "data.csv", "--agent", "A001"],
    "check-json": ["check", "policy.perf", "--format", "json"],
    "help": ["--help"],
    "command-help": ["check", "--help"],
    "version": ["--version"],
}


@pytest.fixture
def workspace(tmp_path) -> Path:
    folder = tmp_path / "work"
    shutil.copytree(GOOD, folder)
    shutil.copytree(POLICIES, folder / "policies")
    (folder / "messy.perf").write_text((GOOD / "policy.perf").read_text(encoding="utf-8").replace("    ", "  "),
                                       encoding="utf-8")
    (folder / "calls.perfm").write_text(DEFINITIONS, encoding="utf-8")
    (folder / "calls.csv").write_text("who,day\nA1,2026-11-02\nA2,2026-11-03\n", encoding="utf-8")
    return folder


def run(arguments: list[str], cwd: Path, stdout, close_stdout: bool = False) -> subprocess.CompletedProcess:
    with open(cwd / "messy.perf", "rb") as stdin:
        return subprocess.run([sys.executable, "-m", "perfrules", *arguments], cwd=cwd, env=ENV, stdin=stdin,
                              stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
                              preexec_fn=(lambda: os.close(1)) if close_stdout else None)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_stdout_on_a_full_disk_is_exit_2(workspace, full_device, name):
    with open(full_device, "w") as stdout:
        result = run(RUNS[name], workspace, stdout)
    assert_one_line_error(result, "standard output", "No space left on device")


# --help and --version on a closed standard output: click prints nothing and exits 0.
@pytest.mark.parametrize("name", sorted(set(RUNS) - {"help", "command-help", "version"}))
def test_stdout_closed_is_exit_2(workspace, name):
    result = run(RUNS[name], workspace, subprocess.DEVNULL, close_stdout=True)
    assert_one_line_error(result)
    assert result.stderr == ("perfrules: error: cannot write the results: standard output is closed (hint: send it "
                             "to a file with > FILE, or to nowhere with > /dev/null)\n")


# ---- standard error on a full disk (`2>> cron.log` on a full disk) ----------------------------------

STDERR_RUNS = [  # (arguments, the exit code the run has whatever stderr does)
    (["evaluate", "policy.perf", "data.csv", "-o", "out.json"], 0),
    (["check", "broken.perf"], 1),
    (["check", "no-such.perf"], 2),
    (["evaluate", "policy.perf", "bad.csv"], 3),
    (["test", "policies"], 0),
]


@pytest.mark.parametrize(("arguments", "code"), STDERR_RUNS, ids=[" ".join(run[0]) for run in STDERR_RUNS])
def test_stderr_on_a_full_disk_keeps_the_exit_code(workspace, full_device, arguments, code):
    """The diagnostics are lost (nothing can say so), but the exit code is the command's own,
    never the interpreter's 1 ("a policy has errors") or 120, and results are written as ever."""
    (workspace / "broken.perf").write_text('policy "x" {\n', encoding="utf-8")
    (workspace / "bad.csv").write_text((workspace / "data.csv").read_text(encoding="utf-8").replace("92%", "9O%"),
                                       encoding="utf-8")
    with open(full_device, "w") as stderr, open(workspace / "messy.perf", "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "perfrules", *arguments], cwd=workspace, env=ENV, stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=stderr, timeout=120)
    assert result.returncode == code
    if "-o" in arguments:
        assert (workspace / "out.json").read_text(encoding="utf-8").startswith("{")
