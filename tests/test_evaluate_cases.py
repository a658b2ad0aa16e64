"""Data-driven tests of ``perfrules evaluate``: each folder of tests/cases/evaluate holds

- ``policy.perf``, or a folder ``policies/`` of several policies;
- one data file ``data.csv`` / ``data.xlsx`` / ``data.json`` / ``data.jsonl`` / ``data.parquet``;
- optionally ``args.txt``: extra command-line arguments, one per line (``--period``, ``2026-10``);
- EITHER ``expected.json``: the exact JSON that ``perfrules evaluate POLICY DATA [ARGS]`` prints
  when run from inside the folder (compared as parsed JSON; the values of ``sha256``,
  ``git_commit``, ``git_dirty`` and ``data_sha256`` are written ``"*"``, and the two
  sha256 are checked against the policy and data files);
- OR ``expected_stderr.txt``: the exact stderr of a run that must fail with exit code 3 and
  print nothing on stdout (invalid data, or data that cannot be evaluated), or with exit
  code 1 when it shows a policy error (``: error PR``: nothing was evaluated);
- the policy may ``extends`` other files of the case; their stamps (``policies[].extends``)
  are masked and checked like the policy's own;
- ``notes.md``: the arithmetic done by hand, ending with a fenced ``expect`` block of the facts
  computed by hand.  The block is checked against the golden file on every run, so that a
  golden can never drift away from the hand computation:

  ```expect
  period 2026-11                      # the document's period
  order A2 A1 A3                      # agent_id of the results, in order
  A1 score 90.0                       # AGENT PATH JSON-VALUE
  A1 kpis.顾客满意度.status "excluded"  # a list is indexed by a number, or by an entry's name/label
  stderr data.csv:3: column csat: '9O%' is not a percent   # a line the stderr must hold
  ```

Set PERFRULES_UPDATE_GOLDEN=1 to rewrite the golden files from the current output (the
``expect`` blocks are still checked).  Only do it after checking the new output, number by
number, against the hand arithmetic in each ``notes.md``; never accept an output you have not
verified by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from conftest import CASES, UPDATE_GOLDEN

EVALUATE = CASES / "evaluate"
DATA_NAMES = ("data.csv", "data.xlsx", "data.json", "data.jsonl", "data.parquet")
MASKED = ("sha256", "git_commit", "git_dirty", "data_sha256")

CASE_DIRS = sorted(path for path in EVALUATE.iterdir() if path.is_dir()) if EVALUATE.is_dir() else []


def case_command(case: Path) -> list[str]:
    """The arguments of ``perfrules`` for a case: evaluate POLICY DATA [ARGS...]."""
    if (case / "policy.perf").is_file():
        policy = "policy.perf"
    elif (case / "policies").is_dir():
        policy = "policies"
    else:
        raise AssertionError(f"{case.name}: no policy.perf and no policies/ folder")
    data = [name for name in DATA_NAMES if (case / name).is_file()]
    assert len(data) == 1, f"{case.name}: expected exactly one data file, found {data}"
    extra = []
    args_file = case / "args.txt"
    if args_file.is_file():
        extra = [line for line in args_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return ["evaluate", policy, data[0], *extra]


def failure_code(stderr: str) -> int:
    """The exit code of a failing case: 1 for a policy error, else 3 for the data."""
    return 1 if ": error PR" in stderr else 3


def masked(document):
    """The document with the values of the MASKED keys replaced by "*"."""
    if isinstance(document, dict):
        return {key: "*" if key in MASKED else masked(value) for key, value in document.items()}
    if isinstance(document, list):
        return [masked(item) for item in document]
    return document


# ---- the hand-computed facts of notes.md ----------------------------------------------------------


def expect_lines(case: Path) -> list[str]:
    notes = case / "notes.md"
    assert notes.is_file(), f"{case.name}: notes.md with the hand computation is missing"
    blocks = re.findall(r"^```expect\n(.*?)^```", notes.read_text(encoding="utf-8"), re.S | re.M)
    assert blocks, f"{case.name}: notes.md has no ```expect block"
    lines = []
    for block in blocks:
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip() if not line.startswith("stderr ") else line.rstrip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def resolve(value, path: str):
    for segment in path.split("."):
        if isinstance(value, list):
            if segment.isdigit():
                value = value[int(segment)]
                continue
            matches = [item for item in value
                       if isinstance(item, dict) and segment in (item.get("name"), item.get("label"), item.get("text"))]
            assert matches, f"no entry named {segment!r} in {value!r}"
            value = matches[0]
        elif isinstance(value, dict):
            assert segment in value, f"no key {segment!r} in {value!r}"
            value = value[segment]
        else:
            raise AssertionError(f"cannot look up {segment!r} in {value!r}")
    return value


def check_expectations(case: Path, document: dict | None, stderr: str) -> None:
    """Every line of the ``expect`` block holds for the golden output."""
    stderr_lines = stderr.splitlines()
    for line in expect_lines(case):
        if line.startswith("stderr "):
            wanted = line[len("stderr "):]
            assert wanted in stderr_lines, f"{case.name}: stderr lacks the line {wanted!r}"
            continue
        assert document is not None, f"{case.name}: {line!r} needs a JSON result"
        head, _, rest = line.partition(" ")
        if head == "period":
            assert document["period"] == rest, f"{case.name}: period is {document['period']!r}"
        elif head == "order":
            assert [result["agent_id"] for result in document["results"]] == rest.split(), f"{case.name}: order"
        elif head == "count":
            assert len(document["results"]) == int(rest)
        else:
            path, _, value = rest.partition(" ")
            results = [result for result in document["results"] if result["agent_id"] == head]
            assert len(results) == 1, f"{case.name}: agent {head} appears {len(results)} times"
            actual = resolve(results[0], path)
            assert actual == json.loads(value), f"{case.name}: {head} {path} is {actual!r}, by hand {value}"


# ---- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_DIRS, ids=[path.name for path in CASE_DIRS])
def test_evaluate_output_matches_golden(case, run_cli):
    result = run_cli(*case_command(case), cwd=case)
    json_file, stderr_file = case / "expected.json", case / "expected_stderr.txt"
    if UPDATE_GOLDEN:
        # The hand-computed facts are checked before anything is written: an output that
        # contradicts notes.md never becomes a golden file.
        if stderr_file.exists() or (not json_file.exists() and result.exit_code in (1, 3)):
            assert result.exit_code == failure_code(result.stderr) and result.stdout == "", result.stderr
            check_expectations(case, None, result.stderr)
            stderr_file.write_text(result.stderr, encoding="utf-8")
        else:
            assert result.exit_code == 0, result.stderr
            document = masked(json.loads(result.stdout))
            check_expectations(case, document, result.stderr)
            json_file.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert json_file.exists() != stderr_file.exists(), f"{case.name}: give expected.json or expected_stderr.txt"
    assert "Traceback" not in result.stderr
    if stderr_file.exists():
        assert result.exit_code == failure_code(stderr_file.read_text(encoding="utf-8")), result.stderr
        assert result.stdout == ""
        assert result.stderr == stderr_file.read_text(encoding="utf-8")
        check_expectations(case, None, result.stderr)
    else:
        assert result.exit_code == 0, result.stderr
        actual = json.loads(result.stdout)
        expected = json.loads(json_file.read_text(encoding="utf-8"))
        assert masked(actual) == expected
        for stamp in actual["policies"]:
            for receipt in [stamp, *stamp["extends"]]:
                assert receipt["sha256"] == hashlib.sha256((case / receipt["file"]).read_bytes()).hexdigest()
        data = case / case_command(case)[2]
        assert actual["data_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
        check_expectations(case, expected, result.stderr)


@pytest.mark.parametrize("case", CASE_DIRS, ids=[path.name for path in CASE_DIRS])
def test_csv_streamed_from_the_plan_is_the_stored_csv(case, run_cli, monkeypatch):
    """``evaluate`` to CSV writes straight from the plan and checks each row as it goes
    (docs/evaluation.md); its file, its exit code and every message are the stored route's,
    the route of JSON and XLSX (and of CSV until the writer streamed), to the byte."""
    command = [*case_command(case), "--format", "csv"]
    streamed = run_cli(*command, cwd=case)
    from perfrules.engine import run as engine

    stored = engine.evaluate_files
    monkeypatch.setattr(engine, "evaluate_files", lambda *args, streamed=False, **options: stored(*args, **options))
    expected = run_cli(*command, cwd=case)
    assert (streamed.exit_code, streamed.stdout, streamed.stderr) == (expected.exit_code, expected.stdout, expected.stderr)
    if (case / "expected_stderr.txt").exists():
        assert streamed.stderr == (case / "expected_stderr.txt").read_text(encoding="utf-8")
    else:
        assert streamed.exit_code == 0 and streamed.stdout.startswith("agent_id,"), streamed.stderr


def test_there_are_at_least_thirty_five_cases():
    assert len(CASE_DIRS) >= 35


def test_every_case_has_its_hand_arithmetic():
    for case in CASE_DIRS:
        assert expect_lines(case), case.name


def test_policies_with_and_without_targets_or_awards_are_streamed():
    """The comparison above would pass if nothing streamed: the route each policy takes.  A
    policy with targets and awards streams its plan too; their columns are a narrow table
    joined to it, which the summary does not read."""
    from perfrules.engine.run import evaluate_files
    from perfrules.outputs import flat_query
    from perfrules.workspace import load_policies

    for name, standing in (("within-team", False), ("extends-targets-and-awards", True)):
        case = EVALUATE / name
        policy = case / "policy.perf" if (case / "policy.perf").is_file() else case / "policies"
        policies = load_policies([str(policy)]).evaluated
        data = case / case_command(case)[2]
        evaluation = evaluate_files(policies, data, data.name, streamed=True)
        assert [run.checked for run in evaluation.runs] == [False] * len(evaluation.runs), name
        assert [run.table.endswith("_standing") for run in evaluation.runs] == [standing] * len(evaluation.runs)
        assert [run.plan_results.endswith("_plan") for run in evaluation.runs] == [True] * len(evaluation.runs)
        assert "_standing" not in flat_query(evaluation, "summary")
        assert (" FROM result_0_plan_standing" in flat_query(evaluation, "all")) == standing
        assert all(run.checked for run in evaluate_files(policies, data, data.name).runs)
