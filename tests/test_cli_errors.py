"""How the command line fails: every failure is one line on stderr with the exit code of
cli.md, never a traceback (issue 8).

- an unexpected exception anywhere is a bug: exit 4, one line naming it; ``--debug`` (or
  PERFRULES_DEBUG=1) adds the traceback;
- Ctrl-C exits 130 with one line; a reader closing the pipe (``| head -1``) exits 141
  without a word;
- click's own mistakes (missing argument, unknown option) exit 2 on one line; only policy
  errors exit 1;
- ``evaluate -o`` needs an extension it knows, or --format, and the two must agree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import CASES, REPO

GOOD = CASES / "evaluate" / "spec-complete-example"
BUG = ("perfrules: internal error: ValueError: boom\\nsecond line "
       "(this is a bug in perfrules; run again with --debug for the traceback)\n")


def explode(*args, **kwargs):
    raise ValueError("boom\nsecond line")


@pytest.fixture
def broken_results(monkeypatch):
    import perfrules.results

    monkeypatch.setattr(perfrules.results, "build_results", explode)


def test_an_unexpected_exception_is_one_line_and_exit_4(run_cli, broken_results):
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=GOOD)
    assert (result.exit_code, result.stdout, result.stderr) == (4, "", BUG)


def test_debug_shows_the_traceback(run_cli, broken_results):
    result = run_cli("--debug", "evaluate", "policy.perf", "data.csv", cwd=GOOD)
    assert result.exit_code == 4
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert 'raise ValueError("boom\\nsecond line")' in result.stderr
    assert result.stderr.endswith(BUG)


def test_a_bug_in_every_command_is_exit_4(run_cli, monkeypatch, tmp_path):
    import perfrules.workspace

    monkeypatch.setattr(perfrules.workspace, "load_policies", explode)
    for arguments in (["check", "policy.perf"], ["evaluate", "policy.perf", "data.csv"],
                      ["explain", "policy.perf", "data.csv", "--agent", "A001"],
                      ["report", "policy.perf", "data.csv", "-o", str(tmp_path / "packets")]):
        result = run_cli(*arguments, cwd=GOOD)
        assert (result.exit_code, result.stderr) == (4, BUG), arguments


def test_a_keyboard_interrupt_exits_130(run_cli, monkeypatch):
    import perfrules.results

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(perfrules.results, "build_results", interrupt)
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=GOOD)
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "perfrules: interrupted\n")


@pytest.mark.parametrize("arguments, message", [
    (["check"], "Missing argument 'PATHS...' (hint: see perfrules check --help)"),
    (["evaluate", "policy.perf"], "Missing argument 'DATA' (hint: see perfrules evaluate --help)"),
    (["nosuch"], "No such command 'nosuch' (hint: see perfrules --help)"),
    (["check", "--format", "xml", "a.perf"],
     "Invalid value for '--format': 'xml' is not one of 'text', 'json' (hint: see perfrules check --help)"),
    (["evaluate", "policy.perf", "data.csv", "-o", "out.txt"],
     "-o out.txt: unknown output type '.txt'; use .json, .csv or .xlsx, or give --format"),
    (["evaluate", "policy.perf", "data.csv", "-o", "out"],
     "-o out: the file name has no extension; use .json, .csv or .xlsx, or give --format"),
    (["evaluate", "policy.perf", "data.csv", "-o", "out.csv", "--format", "json"],
     "-o out.csv is a .csv file but --format is json; name the file for its format, or leave out --format"),
    (["evaluate", "policy.perf", "data.csv", "-o", "OUT.XLSX", "--format", "table"],
     "-o OUT.XLSX is a .xlsx file but --format is table; name the file for its format, or leave out --format"),
])
def test_command_line_mistakes_are_one_line_and_exit_2(run_cli, tmp_path, arguments, message):
    for name in ("policy.perf", "data.csv"):
        (tmp_path / name).write_bytes((GOOD / name).read_bytes())
    result = run_cli(*arguments, cwd=tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"perfrules: error: {message}\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.csv", "policy.perf"]


def test_an_unknown_option_is_one_line_and_exit_2(run_cli):
    result = run_cli("--bogus")  # click words it "No such option: --bogus" before 8.3, "No such option '--bogus'" after
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("perfrules: error: No such option") and "--bogus" in result.stderr
    assert result.stderr.endswith(" (hint: see perfrules --help)\n") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("name, output_format, written", [
    ("out.txt", "json", "{"), ("out", "csv", "agent_id,"), ("out.txt", "table", ""), ("OUT.JSON", "json", "{"),
])
def test_an_unknown_extension_is_fine_with_format(run_cli, tmp_path, name, output_format, written):
    for source in ("policy.perf", "data.csv"):
        (tmp_path / source).write_bytes((GOOD / source).read_bytes())
    result = run_cli("evaluate", "policy.perf", "data.csv", "-o", name, "--format", output_format, cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (0, f"wrote {name} (1 policy)\n")
    assert (tmp_path / name).read_text(encoding="utf-8").startswith(written)


# ---- the same, as a user's shell sees it --------------------------------------------------------


def perfrules(*arguments: str, prelude: str = "", **options) -> subprocess.Popen:
    """``perfrules ARGS`` in a new process (``prelude``: Python run first, to break something)."""
    code = f"{prelude}\nfrom perfrules.cli import main\nmain(prog_name='perfrules')"
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), **options.pop("env", {})}
    return subprocess.Popen([sys.executable, "-c", code, *arguments], cwd=GOOD, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


BREAK = "import perfrules.results\ndef explode(*a, **k): raise ValueError('boom\\nsecond line')\n" \
        "perfrules.results.build_results = explode"


def test_a_bug_in_a_real_process(tmp_path):
    process = perfrules("evaluate", "policy.perf", "data.csv", prelude=BREAK)
    stdout, stderr = process.communicate(timeout=120)
    assert (process.returncode, stdout, stderr) == (4, "", BUG)


def test_perfrules_debug_variable_shows_the_traceback():
    process = perfrules("evaluate", "policy.perf", "data.csv", prelude=BREAK, env={"PERFRULES_DEBUG": "1"})
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 4
    assert stderr.startswith("Traceback (most recent call last):\n") and stderr.endswith(BUG)


def test_a_closed_pipe_exits_quietly():
    """``perfrules evaluate ... | head -1``: the reader is gone before anything is printed."""
    process = perfrules("evaluate", "policy.perf", "data.csv")
    process.stdout.close()
    stderr = process.stderr.read()
    assert (process.wait(timeout=120), stderr) == (141, "")


def test_ctrl_c_in_a_real_process():
    prelude = ("import os, signal, perfrules.results\n"
               "def interrupt(*a, **k): os.kill(os.getpid(), signal.SIGINT)\n"
               "perfrules.results.build_results = interrupt")
    process = perfrules("evaluate", "policy.perf", "data.csv", prelude=prelude,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stdout, stderr = process.communicate(timeout=120)
    assert (process.returncode, stdout, stderr) == (130, "", "perfrules: interrupted\n")


# ---- --agent near misses ------------------------------------------------------------------------

@pytest.mark.parametrize("agent, hint", [
    ("a001", " (hint: did you mean 'A001'?)"),      # case
    ("Ａ００１", " (hint: did you mean 'A001'?)"),  # full-width, as a Chinese input method types it
    ("A 001", " (hint: did you mean 'A001'?)"),     # a space
    ("A01", " (hint: did you mean 'A001'?)"),       # edit distance
    ("M9", ""),                                     # nothing close
])
def test_explain_suggests_the_agent_meant(run_cli, agent, hint):
    result = run_cli("explain", "policy.perf", "data.csv", "--agent", agent, cwd=GOOD)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"perfrules: error: no agent '{agent}' in data.csv for period 2026-11{hint}\n"


def test_report_suggests_the_agents_meant(run_cli, tmp_path):
    packets = tmp_path / "packets"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(packets),
                     "--agent", "A002", "--agent", "a001", "--agent", "M9", "--agent", "a 003", cwd=GOOD)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "perfrules: error: no agents 'M9', 'a 003', 'a001' in data.csv for period 2026-11 "
        "(hint: for 'a 003', did you mean 'A003'?; for 'a001', did you mean 'A001'?)\n")
    assert not packets.exists()


def test_report_one_unknown_agent(run_cli, tmp_path):
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(tmp_path / "p"), "--agent", "a006", cwd=GOOD)
    assert (result.exit_code, result.stderr) == (
        2, "perfrules: error: no agent 'a006' in data.csv for period 2026-11 (hint: did you mean 'A006'?)\n")


def test_ctrl_c_while_the_arguments_are_read(run_cli, monkeypatch):
    """Before any command runs, click alone would print "Aborted!" and exit 1."""
    import click

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "parse_args", interrupt)
    result = run_cli("check", "policy.perf", cwd=GOOD)
    assert (result.exit_code, result.stderr) == (130, "perfrules: interrupted\n")


def test_a_missing_dependency_says_reinstall(run_cli, monkeypatch):
    import perfrules.results

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'dulwich'", name="dulwich")

    monkeypatch.setattr(perfrules.results, "build_results", missing)
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=GOOD)
    assert (result.exit_code, result.stderr) == (4, "perfrules: internal error: ModuleNotFoundError: No module named "
                                                    "'dulwich' (perfrules is installed without a package it needs; "
                                                    "reinstall it with pip)\n")
