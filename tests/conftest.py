"""Shared fixtures: paths of the repository and a runner for the command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"
POLICIES = REPO / "policies"
# The example policies (their tests, policies/*.test.perf, are not policies: perfrules test runs them).
POLICY_FILES = sorted(path for path in POLICIES.glob("*.perf") if not path.name.endswith(".test.perf"))
# A copy of the contract (shared/spec) kept with the tests, so that a clone alone can run them;
# test_spec_examples.py checks it against shared/spec when that folder is beside the clone.
SPEC = REPO / "tests" / "spec"
SHARED_SPEC = REPO.parent / "shared" / "spec"

UPDATE_GOLDEN = os.environ.get("PERFRULES_UPDATE_GOLDEN") == "1"


@pytest.fixture
def run_cli():
    """Run ``perfrules ARGS`` in-process; returns click's Result (stdout, stderr, exit_code)."""
    from perfrules.cli import main

    def run(*args: str, cwd: Path | None = None, input: bytes | str | None = None):  # input: standard input
        runner = CliRunner()
        old = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            return runner.invoke(main, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(old)

    return run


def command_environment(home: Path) -> dict[str, str]:
    """The environment of a shell in which ``perfrules`` and ``pre-commit`` are the ones under
    test (wrappers in ``home/bin`` running this interpreter), git has a fixed author and time
    (commit ids are the same every run) and reads no configuration of this machine."""
    import sys

    import perfrules

    bin_folder = home / "bin"
    bin_folder.mkdir()
    for name, module in (("perfrules", "perfrules"), ("pre-commit", "pre_commit")):
        wrapper = bin_folder / name
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
    when = "2026-12-01T10:00:00+08:00"
    return {
        "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(Path(perfrules.__file__).resolve().parent.parent),
        "HOME": str(home), "LANG": "C.UTF-8", "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "王人事", "GIT_AUTHOR_EMAIL": "hr@example.com", "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": "王人事", "GIT_COMMITTER_EMAIL": "hr@example.com", "GIT_COMMITTER_DATE": when,
        "PRE_COMMIT_HOME": str(home / "pre-commit-cache"), "PRE_COMMIT_COLOR": "never",
    }
