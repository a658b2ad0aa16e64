"""Golden tests of ``perfrules explain``: each folder of tests/cases/explain holds

- ``policy.perf`` and ``data.csv``;
- ``args.txt``: the further arguments, one per line (at least ``--agent`` and the id;
  ``--period P``, ``--lang en``...).  The command run, from inside the folder, is
  ``perfrules explain policy.perf data.csv ARGS...``;
- ``expected.txt``: the exact stdout;
- for a run that must fail: ``exit_code.txt`` (the exit code, written by hand) and
  ``expected_stderr.txt`` (the exact stderr);
- OR, instead of ``expected.txt``, ``bug.md``: the explanation this case shows is wrong or
  unclear today, so it is not encoded.  bug.md describes the bug and holds a line
  ``xfail: golden, numbers, arithmetic`` (the tests below that fail because of it, marked
  strict xfail) and a fenced ``must`` block of regular expressions (searched line by line,
  multiline mode) that the fixed explanation must match; a ``must-not`` block lists
  expressions it must not match.  Once the bug is fixed those tests pass, strict xfail turns
  them into failures, and the fix is finished by deleting bug.md and writing expected.txt with
  PERFRULES_UPDATE_GOLDEN=1, then reading it.

Besides the exact text, every explanation that succeeds is checked two more ways:

- ``numbers``: the facts it states (each KPI's value, status, weight and points, the base
  score, each adjustment line and block total, the score, rank and group size, veto, grade,
  each bonus block's rule line and amount, the bonus total when there are several blocks,
  the plans and their due dates) are parsed out of the text and compared with the JSON of
  ``perfrules evaluate`` for the same data and period;
- ``arithmetic``: every sum and product it writes is true as written (``80 × 30% = 24``,
  ``基础分 = 24 + 24 = 48``, ``(24 + 24) ÷ 60% = 80`` to two decimals, an adjustment total
  is the sum of its lines, the score is the base plus the block totals, a tier size is
  ``ceil(P × N)``), and every number is written one way (no ``100.00`` beside ``100``).

Set PERFRULES_UPDATE_GOLDEN=1 to rewrite expected.txt (and expected_stderr.txt of a failing
run) from the current output; cases with a bug.md are never written.  Read every rewritten
file line by line against the policy and the data before keeping it.
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from conftest import CASES, UPDATE_GOLDEN

EXPLAIN = CASES / "explain"
CASE_DIRS = sorted(path for path in EXPLAIN.iterdir() if path.is_dir()) if EXPLAIN.is_dir() else []
KINDS = ("golden", "numbers", "arithmetic")


# ---- the case folders ------------------------------------------------------------------------------


def case_args(case: Path) -> list[str]:
    args_file = case / "args.txt"
    assert args_file.is_file(), f"{case.name}: args.txt is missing"
    args = [line.strip() for line in args_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert "--agent" in args, f"{case.name}: args.txt needs --agent ID"
    return args


def explain_command(case: Path) -> list[str]:
    return ["explain", "policy.perf", "data.csv", *case_args(case)]


def evaluate_command(case: Path) -> list[str]:
    """``evaluate`` over the same data and period: the explain arguments without --agent and --lang."""
    args, kept = case_args(case), []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--agent", "--lang"):
            skip = True
        else:
            kept.append(arg)
    return ["evaluate", "policy.perf", "data.csv", *kept]


def agent_of(case: Path) -> str:
    args = case_args(case)
    return args[args.index("--agent") + 1]


def expected_exit(case: Path) -> int:
    exit_file = case / "exit_code.txt"
    return int(exit_file.read_text(encoding="utf-8").strip()) if exit_file.is_file() else 0


class Bug:
    """A case whose explanation is wrong today: its bug.md."""

    def __init__(self, case: Path):
        text = (case / "bug.md").read_text(encoding="utf-8")
        match = re.search(r"^xfail: *(.*)$", text, re.M)
        assert match, f"{case.name}: bug.md needs a line 'xfail: golden, numbers, arithmetic'"
        self.kinds = {kind.strip() for kind in match.group(1).split(",") if kind.strip()}
        assert self.kinds <= set(KINDS), f"{case.name}: unknown kinds in {self.kinds}"
        assert "golden" in self.kinds, f"{case.name}: a case without a golden file fails its golden test"
        self.title = text.splitlines()[0].lstrip("# ").strip()
        self.must = _block(text, "must")
        self.must_not = _block(text, "must-not")


def _block(text: str, name: str) -> list[str]:
    lines = []
    for block in re.findall(rf"^```{name}\n(.*?)^```", text, re.S | re.M):
        lines += [line for line in block.splitlines() if line.strip()]
    return lines


def bug_of(case: Path) -> Bug | None:
    return Bug(case) if (case / "bug.md").is_file() else None


def params(kind: str, only_successful: bool = False):
    """The cases as pytest parameters, strict xfail where bug.md says this kind fails."""
    result = []
    for case in CASE_DIRS:
        if only_successful and expected_exit(case) != 0:
            continue
        bug = bug_of(case)
        marks = [pytest.mark.xfail(strict=True, reason=f"bug.md: {bug.title}")] if bug and kind in bug.kinds else []
        result.append(pytest.param(case, id=case.name, marks=marks))
    return result


def run_explain(run_cli, case: Path):
    result = run_cli(*explain_command(case), cwd=case)
    assert "Traceback" not in result.stderr
    return result


# ---- golden text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("golden"))
def test_explain_output_matches_golden(case, run_cli):
    result = run_explain(run_cli, case)
    expected_file, stderr_file = case / "expected.txt", case / "expected_stderr.txt"
    bug = bug_of(case)
    if bug is not None:
        assert not expected_file.exists(), f"{case.name}: bug.md and expected.txt exclude each other"
        assert result.exit_code == 0, result.stderr
        for pattern in bug.must:
            assert re.search(pattern, result.stdout, re.M), f"{case.name}: no line matches {pattern!r}"
        for pattern in bug.must_not:
            assert not re.search(pattern, result.stdout, re.M), f"{case.name}: a line matches {pattern!r}"
        check_arithmetic(result.stdout)
        return
    code = expected_exit(case)
    if UPDATE_GOLDEN:
        assert result.exit_code == code, f"{case.name}: exit {result.exit_code}, exit_code.txt says {code}\n{result.stderr}"
        expected_file.write_text(result.stdout, encoding="utf-8")
        if code != 0:
            stderr_file.write_text(result.stderr, encoding="utf-8")
    assert expected_file.is_file(), f"{case.name}: expected.txt is missing (or give bug.md)"
    assert result.exit_code == code, result.stderr
    assert result.stdout == expected_file.read_text(encoding="utf-8")
    if code != 0:
        assert result.stderr == stderr_file.read_text(encoding="utf-8")


# ---- parsing an explanation ------------------------------------------------------------------------

NUMBER = r"-?\d+(?:\.\d+)?"
SIGNED = r"[+-]\d+(?:\.\d+)?"
SOURCE_LINE = re.compile(r"(?:第 \d+ 行|line \d+): .*?(?=  ⇒|\)$|$)")


def dec(text: str) -> Decimal:
    return Decimal(text)


def round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def json_number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def rule_line(text: str) -> int | None:
    match = re.search(r"(?:第 (\d+) 行|line (\d+)):", text)
    return int(match.group(1) or match.group(2)) if match else None


def parse(text: str) -> dict:
    """The facts an explanation states, in the words of perfrules/explain.py (zh and en)."""
    facts: dict = {"kpis": [], "adjusts": [], "bonus": [], "plans": [], "bonus_total": None}
    lines = text.splitlines()
    index = 0
    section = None
    while index < len(lines):
        line = lines[index]
        index += 1
        if match := re.match(r"^(?:指标|KPI) (.+) \((?:权重|weight) (\d+(?:\.\d+)?)%\)$", line):
            kpi = {"name": match.group(1), "weight": dec(match.group(2)) / 100, "values": [], "points": None,
                   "excluded": False, "substituted": False, "line": None, "weighted": None}
            while index < len(lines) and lines[index].startswith("  "):
                body = lines[index].strip()
                index += 1
                if found := re.match(rf"^({NUMBER}) × (\d+(?:\.\d+)?)% = ({NUMBER})$", body):
                    kpi["points"] = dec(found.group(1))
                    kpi["weighted"] = dec(found.group(3))
                elif "不计入" in body or "left out" in body:
                    kpi["excluded"] = True
                elif "when missing" in body:
                    kpi["substituted"] = True
                elif (found := re.match(r"^([^\s=()]+) = (.+)$", body)) and rule_line(body) is None:
                    kpi["values"].append((found.group(1), found.group(2)))
                elif rule_line(body) is not None and kpi["line"] is None:
                    kpi["line"] = rule_line(body)
            facts["kpis"].append(kpi)
            continue
        if match := re.match(r"^(?:基础分|Base score) = (.+) = (" + NUMBER + r")$", line):
            facts["base"] = dec(match.group(2))
            facts["base_terms"] = match.group(1)
        elif match := re.match(r"^(?:加减分|Adjustment) (.+):$", line):
            block = {"name": match.group(1), "lines": [], "total": None, "clamped": None, "limit": None}
            while index < len(lines) and lines[index].startswith("  "):
                body = lines[index].strip()
                index += 1
                if found := re.match(rf"^(?:合计|total) ({SIGNED})(?: → ({SIGNED}))?(?: \((?:上下限|limit) ({NUMBER}) \.\. \+?({NUMBER})\))?$", body):
                    block["total"] = dec(found.group(1))
                    block["clamped"] = dec(found.group(2)) if found.group(2) else None
                    if found.group(3):
                        block["limit"] = (dec(found.group(3)), dec(found.group(4)))
                elif (found := re.search(rf"⇒ ({SIGNED})$", body)) and rule_line(body) is not None:
                    block["lines"].append((rule_line(body), dec(found.group(1))))
                else:
                    raise AssertionError(f"unexpected line in an adjustment block: {body!r}")
            facts["adjusts"].append(block)
        elif match := re.match(rf"^(?:得分|Score) = ({NUMBER}(?: {SIGNED})*) = ({NUMBER})(.*)$", line):
            facts["score_terms"] = [dec(term) for term in match.group(1).split()]
            facts["score_sum"] = dec(match.group(2))
            rest = re.sub(r"\([^)]*\)", "", match.group(3))
            later = re.findall(NUMBER, rest)
            facts["score"] = dec(later[-1]) if later else facts["score_sum"]
        elif match := re.match(r"^(?:名次|Rank): (\d+) / (\d+)$", line):
            facts["rank"] = (int(match.group(1)), int(match.group(2)))
        elif match := re.match(r"^(?:一票否决|Veto): (.*)$", line):
            facts["veto"] = None if match.group(1) in ("无", "none") else rule_line(match.group(1))
        elif match := re.match(r"^(?:等级|Grade): (.*)$", line):
            facts["grade"] = match.group(1)
        elif match := re.match(rf"^(?:奖金|Bonus) (.+?): (?:第 \d+ 行|line \d+): .*⇒ ({NUMBER})$", line):
            facts["bonus"].append({"name": match.group(1), "line": rule_line(line), "amount": dec(match.group(2))})
            section = "bonus"
        elif match := re.match(rf"^(?:奖金合计|Bonus total)\b.*?({NUMBER})$", line):
            facts["bonus_total"] = dec(match.group(1))
        elif line in ("改进计划:", "Improvement plans:"):
            section = "plans"
        elif section == "plans" and (match := re.match(r"^  (\S.*?) \((?:第 \d+ 行|line \d+): .*\)$", line)):
            facts["plans"].append({"name": match.group(1), "actions": []})
        elif section == "plans" and (match := re.match(r"^    - (.*) \((?:截止|due) (\d{4}-\d{2}-\d{2})\)$", line)):
            facts["plans"][-1]["actions"].append({"text": match.group(1), "due": match.group(2)})
    return facts


def shown_value(text: str) -> Decimal | None:
    """A measured value as the explanation writes it: 92%, 480s, 8000, 缺失/missing."""
    if text in ("缺失", "missing"):
        return None
    if re.fullmatch(rf"{NUMBER}%", text):
        return dec(text[:-1]) / 100
    if re.fullmatch(rf"{NUMBER}s", text):
        return dec(text[:-1])
    assert re.fullmatch(NUMBER, text), f"a value written as {text!r}"
    return dec(text)


def states_grade(shown: str, grade: str | None) -> bool:
    """The grade line ends with the final grade (a whole word: 合格 is not the end of 不合格)."""
    if grade is None:
        return any(shown == word or shown.endswith((" " + word, "⇒ " + word)) for word in ("无", "none"))
    if shown == grade:
        return True
    return shown.endswith(grade) and shown[-len(grade) - 1] in " :：,，→⇒"


# ---- the numbers are those of evaluate --------------------------------------------------------------


@pytest.mark.parametrize("case", params("numbers", only_successful=True))
def test_explain_numbers_equal_evaluate_json(case, run_cli):
    explained = run_explain(run_cli, case)
    assert explained.exit_code == 0, explained.stderr
    evaluated = run_cli(*evaluate_command(case), cwd=case)
    assert evaluated.exit_code == 0, evaluated.stderr
    results = [result for result in json.loads(evaluated.stdout)["results"] if result["agent_id"] == agent_of(case)]
    assert len(results) == 1
    result = results[0]
    facts = parse(explained.stdout)

    # KPIs, in the order of the policy.
    assert [kpi["name"] for kpi in facts["kpis"]] == [kpi["name"] for kpi in result["kpis"]]
    for shown, kpi in zip(facts["kpis"], result["kpis"]):
        name = kpi["name"]
        assert shown["weight"] == json_number(kpi["weight"]), name
        assert shown["excluded"] == (kpi["status"] == "excluded"), name
        assert shown["substituted"] == (kpi["status"] == "substituted"), name
        if kpi["status"] == "excluded":
            assert shown["points"] is None, name
        else:
            assert shown["points"] == json_number(kpi["points"]), name
        if kpi["status"] == "scored":
            assert shown["line"] == kpi["line"], name
        # The KPI's value: the one value it reads (a KPI with `measure` shows the metrics it reads).
        assert shown["values"], f"{name}: the explanation does not show the KPI's value"
        if len(shown["values"]) == 1:
            assert shown_value(shown["values"][0][1]) == json_number(kpi["value"]), name

    # Base score, adjustments, score.
    assert facts["base"] == json_number(result["base_score"])
    entries = {}
    for entry in result["adjustments"]:
        entries.setdefault(entry["block"], []).append(entry)
    for block in facts["adjusts"]:
        listed = entries.get(block["name"], [])
        shown_lines = [(line, points) for line, points in block["lines"] if points != 0]
        assert shown_lines == [(entry["line"], json_number(entry["points"])) for entry in listed
                               if entry["label"] not in ("上下限", "limit")], block["name"]
        final = block["clamped"] if block["clamped"] is not None else block["total"]
        assert final == sum((json_number(entry["points"]) for entry in listed), Decimal(0)), block["name"]
    assert facts["score"] == json_number(result["score"])

    # Rank, veto, grade.
    assert facts["rank"] == (result["rank"], result["rank_of"])
    assert facts["veto"] == (result["veto"]["line"] if result["veto"] else None)
    assert states_grade(facts["grade"], result["grade"]), f"grade line {facts['grade']!r}, JSON {result['grade']!r}"

    # Bonus: each block's rule line and amount, and the total when there are several blocks.
    assert [(bonus["name"], bonus["line"], bonus["amount"]) for bonus in facts["bonus"]] == [
        (bonus["name"], bonus["line"], json_number(bonus["amount"])) for bonus in result["bonus"]]
    if len(result["bonus"]) > 1:
        assert facts["bonus_total"] is not None, "several bonus blocks: the explanation does not give the total"
    if facts["bonus_total"] is not None:
        assert facts["bonus_total"] == json_number(result["bonus_total"])

    # Plans and their due dates.
    assert facts["plans"] == result["plans"]


# ---- the arithmetic is true as written --------------------------------------------------------------


def check_arithmetic(text: str) -> None:
    facts = parse(text)
    for line in text.splitlines():
        for a, b, c in re.findall(rf"({NUMBER}) × (\d+(?:\.\d+)?)% = ({NUMBER})\b", line):
            assert round2(dec(a) * dec(b) / 100) == dec(c), f"not true as written: {line.strip()!r}"
        if match := re.search(r"= (\d+) = ceil\((\d+(?:\.\d+)?)% × (\d+)\)", line):
            assert int(match.group(1)) == math.ceil(dec(match.group(2)) / 100 * int(match.group(3))), line
    # Numbers are written one way: never with trailing zeros (100.00, 85.0).  Policy text is left
    # out: the header lines (name, version), quoted rule lines and plan actions.
    for line in text.splitlines()[2:]:
        if line.lstrip().startswith("- "):
            continue
        outside = SOURCE_LINE.sub("", line)
        assert not re.search(r"\d\.\d*0(?!\d)", outside), f"a number with trailing zeros: {line.strip()!r}"
    for kpi in facts["kpis"]:
        if kpi["points"] is not None:
            assert kpi["weighted"] == round2(kpi["points"] * kpi["weight"]), kpi["name"]
    if "base" in facts:
        terms = facts["base_terms"]
        if match := re.fullmatch(rf"\((.+)\) ÷ (\d+(?:\.\d+)?)%", terms):
            total = sum((dec(term) for term in match.group(1).split(" + ")), Decimal(0))
            assert round2(total / (dec(match.group(2)) / 100)) == facts["base"], f"base score: {terms}"
        else:
            total = sum((dec(term) for term in terms.split(" + ")), Decimal(0))
            assert total == facts["base"], f"base score: {terms} = {facts['base']}"
    for block in facts["adjusts"]:
        raw = sum((points for _, points in block["lines"]), Decimal(0))
        assert block["total"] == raw, f"{block['name']}: the lines add up to {raw}, the total says {block['total']}"
        if block["clamped"] is not None:
            low, high = block["limit"]
            assert block["clamped"] == max(low, min(raw, high)), block["name"]
    if "score_terms" in facts:
        terms = facts["score_terms"]
        assert terms[0] == facts["base"]
        assert terms[1:] == [block["clamped"] if block["clamped"] is not None else block["total"]
                             for block in facts["adjusts"]]
        assert sum(terms, Decimal(0)) == facts["score_sum"], f"score: {terms} does not add up to {facts['score_sum']}"


@pytest.mark.parametrize("case", params("arithmetic", only_successful=True))
def test_explain_arithmetic_is_true_as_written(case, run_cli):
    result = run_explain(run_cli, case)
    assert result.exit_code == 0, result.stderr
    check_arithmetic(result.stdout)


# ---- the set of cases -------------------------------------------------------------------------------


def test_there_are_at_least_ten_cases_with_a_golden_file():
    assert len([case for case in CASE_DIRS if (case / "expected.txt").is_file()]) >= 10


def test_every_case_is_complete():
    for case in CASE_DIRS:
        assert (case / "policy.perf").is_file() and (case / "data.csv").is_file(), case.name
        case_args(case)
        assert (case / "expected.txt").is_file() != (case / "bug.md").is_file(), case.name
        if expected_exit(case) != 0:
            assert (case / "expected_stderr.txt").is_file(), case.name
        if (case / "bug.md").is_file():
            assert Bug(case).kinds
