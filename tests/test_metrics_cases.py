"""Golden cases of `perfrules metrics` (tests/cases/metrics/*): each folder holds metric
definitions, raw files, `args` (the command line) and `notes.md` (the values worked by hand);
`expected.txt` is the exit code, standard output and standard error.  Refresh with
PERFRULES_UPDATE_GOLDEN=1 and read the diff against the notes."""

from __future__ import annotations

import shlex

import pytest

from conftest import CASES, UPDATE_GOLDEN

FOLDER = CASES / "metrics"
NAMES = sorted(path.name for path in FOLDER.iterdir() if (path / "args").is_file())


def outcome(result) -> str:
    return f"exit {result.exit_code}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


@pytest.mark.parametrize("name", NAMES)
def test_metrics_case(name, run_cli):
    case = FOLDER / name
    args = shlex.split((case / "args").read_text(encoding="utf-8"))
    actual = outcome(run_cli(*args, cwd=case))
    golden = case / "expected.txt"
    if UPDATE_GOLDEN or not golden.exists():
        golden.write_text(actual, encoding="utf-8")
        if not UPDATE_GOLDEN:
            pytest.fail(f"wrote {golden}: read it, then run again")
    assert actual == golden.read_text(encoding="utf-8")
