"""Golden tests: each folder of tests/cases/check holds a policy and the exact text
``perfrules check policy.perf`` prints for it (expected.txt, run from that folder).
A case of several files (a policy that extends another) may hold an ``args.txt``: the
arguments of ``perfrules check`` instead of ``policy.perf``, one per line.

Set PERFRULES_UPDATE_GOLDEN=1 to write expected.txt from the current output; read
the diff before committing it.
"""

from __future__ import annotations

import pytest

from conftest import CASES, UPDATE_GOLDEN

CHECK_CASES = sorted(path for path in (CASES / "check").iterdir() if path.is_dir())


def check_arguments(case) -> list[str]:
    arguments = case / "args.txt"
    if arguments.is_file():
        return [line for line in arguments.read_text(encoding="utf-8").splitlines() if line.strip()]
    return ["policy.perf"]


@pytest.mark.parametrize("case", CHECK_CASES, ids=[path.name for path in CHECK_CASES])
def test_check_output_matches_golden(case, run_cli):
    result = run_cli("check", *check_arguments(case), cwd=case)
    expected_file = case / "expected.txt"
    if UPDATE_GOLDEN:
        expected_file.write_text(result.stderr, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert result.stderr == expected
    has_error = any(": error PR" in line for line in expected.splitlines())
    assert result.exit_code == (1 if has_error else 0)
    assert result.stdout == ""


def test_there_are_at_least_thirty_broken_policies():
    broken = [case for case in CHECK_CASES if "error PR" in (case / "expected.txt").read_text(encoding="utf-8")]
    assert len(broken) >= 30
