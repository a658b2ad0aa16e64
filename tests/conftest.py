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

    def run(*args: str, cwd: Path | None = None):
        runner = CliRunner()
        old = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            return runner.invoke(main, list(args), catch_exceptions=False)
        finally:
            os.chdir(old)

    return run
