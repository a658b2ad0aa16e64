"""Data-driven tests of ``perfrules diff``: each folder of tests/cases/diff holds

- the two versions: ``old.perf`` and ``new.perf``, or folders ``old/`` and ``new/``;
- one data file ``data.csv``;
- optionally ``args.txt``: extra arguments, one per line (``--team``, ``售后二组``);
- ``expected.json``: the exact JSON of ``perfrules diff OLD NEW data.csv --format json [ARGS]``
  run from inside the folder (the values of ``sha256``, ``git_commit``, ``git_dirty`` and
  ``data_sha256`` are written ``"*"``; the sha256 are checked against the files);
- optionally ``expected_table.txt``: the exact output of the same run with ``--format table``;
- ``notes.md``: the arithmetic done by hand, ending with a fenced ``expect`` block of facts
  checked against the golden JSON on every run:

  ```expect
  periods ["2026-11"]                      # a key of the document (a dotted path) and its JSON value
  summary.bonus_delta -77.78
  order B4 A3 A1                           # agent_id of `agents`, in order
  change kpi "顾客满意度": weight 60% → 50%  # a policy change, word for word
  A3 new.grade "优秀"                        # AGENT PATH JSON-VALUE in `agents`
  ```

Set PERFRULES_UPDATE_GOLDEN=1 to rewrite the golden files from the current output (the
``expect`` blocks are still checked first); read the diff before committing it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import CASES, UPDATE_GOLDEN
from test_evaluate_cases import expect_lines, masked, resolve

DIFF = CASES / "diff"
CASE_DIRS = sorted(path for path in DIFF.iterdir() if path.is_dir()) if DIFF.is_dir() else []


def case_command(case: Path, output_format: str) -> list[str]:
    versions = []
    for name in ("old", "new"):
        if (case / f"{name}.perf").is_file():
            versions.append(f"{name}.perf")
        else:
            assert (case / name).is_dir(), f"{case.name}: no {name}.perf and no {name}/ folder"
            versions.append(name)
    extra = []
    if (case / "args.txt").is_file():
        extra = [line for line in (case / "args.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return ["diff", *versions, "data.csv", "--format", output_format, *extra]


def check_expectations(case: Path, document: dict) -> None:
    for line in expect_lines(case):
        head, _, rest = line.partition(" ")
        if head == "order":
            assert [agent["agent_id"] for agent in document["agents"]] == rest.split(), f"{case.name}: order"
        elif head == "change":
            changes = [change["change"] for change in document["policy_changes"]]
            assert rest in changes, f"{case.name}: no change {rest!r} in {changes}"
        elif head == "changes":
            assert len(document["policy_changes"]) == int(rest), f"{case.name}: {document['policy_changes']}"
        elif head[0].isupper():
            path, _, value = rest.partition(" ")
            agents = [agent for agent in document["agents"] if agent["agent_id"] == head]
            assert len(agents) == 1, f"{case.name}: agent {head} appears {len(agents)} times"
            actual = resolve(agents[0], path)
            assert actual == json.loads(value), f"{case.name}: {head} {path} is {actual!r}, by hand {value}"
        else:
            actual = resolve(document, head)
            assert actual == json.loads(rest), f"{case.name}: {head} is {actual!r}, by hand {rest}"


@pytest.mark.parametrize("case", CASE_DIRS, ids=[path.name for path in CASE_DIRS])
def test_diff_output_matches_golden(case, run_cli):
    result = run_cli(*case_command(case, "json"), cwd=case)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    golden = case / "expected.json"
    if UPDATE_GOLDEN:
        check_expectations(case, masked(document))
        golden.write_text(json.dumps(masked(document), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert masked(document) == json.loads(golden.read_text(encoding="utf-8"))
    check_expectations(case, document)
    for version in ("old", "new"):
        for stamp in document[version]["policies"]:
            for receipt in [stamp, *stamp["extends"]]:
                assert receipt["sha256"] == hashlib.sha256((case / receipt["file"]).read_bytes()).hexdigest()
    assert document["data_sha256"] == hashlib.sha256((case / "data.csv").read_bytes()).hexdigest()


TABLE_CASES = [case for case in CASE_DIRS if (case / "expected_table.txt").is_file()]


@pytest.mark.parametrize("case", TABLE_CASES, ids=[path.name for path in TABLE_CASES])
def test_diff_table_matches_golden(case, run_cli):
    result = run_cli(*case_command(case, "table"), cwd=case)
    assert result.exit_code == 0, result.stderr
    golden = case / "expected_table.txt"
    if UPDATE_GOLDEN:
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_there_are_diff_cases_with_tables():
    assert len(CASE_DIRS) >= 5 and len(TABLE_CASES) >= 2


def test_every_numbers_of_the_summary_add_up():
    """Teams add up to the total, old + delta is new, the grade matrix counts every agent."""
    from decimal import Decimal

    for case in CASE_DIRS:
        summary = json.loads((case / "expected.json").read_text(encoding="utf-8"))["summary"]

        def money(value) -> Decimal:
            return Decimal(str(value))

        assert money(summary["bonus_total_old"]) + money(summary["bonus_delta"]) == money(summary["bonus_total_new"])
        for key in ("agents", "grade_changed", "rank_changed", "bonus_changed"):
            assert sum(team[key] for team in summary["teams"]) == summary[key], (case.name, key)
        for key in ("bonus_total_old", "bonus_total_new", "bonus_delta"):
            assert sum(money(team[key]) for team in summary["teams"]) == money(summary[key]), (case.name, key)
        assert sum(sum(row.values()) for row in summary["grades"].values()) == summary["agents"], case.name
        changed = sum(count for old, row in summary["grades"].items() for new, count in row.items() if old != new)
        assert changed == summary["grade_changed"], case.name
