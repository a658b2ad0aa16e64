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
- ``arithmetic``: every sum and product it writes is true as written: ``=`` is exact
  (``80 × 30% = 24``, ``28.571429 × 50% = 14.2857145``, ``基础分 = 24 + 24 = 48``,
  ``(24 + 24) ÷ 60% = 80``), ``≈`` is true rounded to two decimals (six for shares:
  ``85.714286 ≈ 85.71``); an adjustment total is the sum of its lines and a limit step
  (``合计 -13 → 上下限 -10 .. +6 → -10``) clamps it; the score is the base plus the block
  totals, then the score limit (``得分 = 97 +9 = 106 → 总分上下限 0 .. 100 → 100``); a tier size
  is ``ceil(P × N)``, a tier share is its formula, ``15% × base_salary 7000.00 = 1050.00`` and
  the bonus total add up; and every number is written one way (no ``100.00`` beside ``100``),
  except money and bonus amounts, always with two decimals.  Values are shown in the metric's
  unit (``92%``, ``480s``, ``11.5min``); the numbers test converts them to the JSON's.

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
        check_arithmetic(result.stdout, money_metrics(case))
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
MONEY = r"-?\d+\.\d{2}"  # money and bonus amounts: always two decimals
PERCENT = r"-?\d+(?:\.\d+)?%"
# A number as the explanation states a result: ``90``, or the exact value and what reports show,
# ``85.714286 ≈ 85.71``.
STATED = rf"(?P<{{0}}>{NUMBER})(?: ≈ (?P<{{0}}_r>{NUMBER}))?"
SOURCE_LINE = re.compile(r"(?:第 \d+ 行|line \d+): .*?(?=  ⇒|\)$|$)")
UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def stated(name: str) -> str:
    return STATED.format(name)


def dec(text: str) -> Decimal:
    return Decimal(text)


def round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def round6(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def shown_number(match: re.Match, name: str) -> tuple[Decimal, Decimal]:
    """(exact, as reports show it) of a ``STATED`` group: the number after ``≈`` when there is one."""
    exact = dec(match.group(name))
    rounded = match.group(f"{name}_r")
    if rounded is not None:
        rounded = dec(rounded)
        assert exact != rounded and round2(exact) == rounded, f"not true as written: {match.group(0)!r}"
        return exact, rounded
    return exact, exact


def approx_true(exact: Decimal, shown: Decimal) -> bool:
    """``exact ≈ shown`` is true: shown is exact rounded to two decimals (or six, for shares)."""
    return shown in (round2(exact), round6(exact))


def equation_true(exact: Decimal, sign: str, shown: Decimal) -> bool:
    return exact == shown if sign == "=" else exact != shown and approx_true(exact, shown)


def json_number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def rule_line(text: str) -> int | None:
    match = re.search(r"(?:第 (\d+) 行|line (\d+)):", text)
    return int(match.group(1) or match.group(2)) if match else None


def parse(text: str) -> dict:
    """The facts an explanation states, in the words of perfrules/explain.py (zh and en)."""
    facts: dict = {"kpis": [], "adjusts": [], "bonus": [], "plans": [], "bonus_total": None, "veto": None,
                   "veto_grade": None, "veto_values": []}
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
                if found := re.match(rf"^({NUMBER}) × (\d+(?:\.\d+)?)% ([=≈]) ({NUMBER})$", body):
                    kpi["points"] = dec(found.group(1))
                    kpi["product"] = (dec(found.group(1)), dec(found.group(2)) / 100, found.group(3),
                                      dec(found.group(4)))
                    kpi["weighted"] = dec(found.group(4))
                elif "不计入" in body or "left out" in body:
                    kpi["excluded"] = True
                elif "when missing" in body:
                    kpi["substituted"] = True
                elif (found := re.match(r"^([^\s=()]+) = (.+)$", body)) and rule_line(body) is None:
                    kpi["values"].append((found.group(1), found.group(2)))
                elif rule_line(body) is not None and kpi["line"] is None:
                    kpi["line"] = rule_line(body)
                    if found := re.search(rf"⇒ (?:.* → )?{stated('points')} (?:分|points)$", body):
                        kpi["rule_points"] = shown_number(found, "points")
                else:
                    raise AssertionError(f"unexpected line in a KPI: {body!r}")
            facts["kpis"].append(kpi)
            continue
        if match := re.match(rf"^(?:基础分|Base score) = (?P<terms>.+?) (?P<sign>[=≈]) {stated('base')}$", line):
            facts["base_exact"], facts["base"] = shown_number(match, "base")
            facts["base_terms"] = match.group("terms")
            facts["base_sign"] = match.group("sign")
        elif match := re.match(r"^(?:加减分|Adjustment) (.+):$", line):
            block = {"name": match.group(1), "lines": [], "total": None, "clamped": None, "limit": None}
            while index < len(lines) and lines[index].startswith("  "):
                body = lines[index].strip()
                index += 1
                if found := re.match(rf"^(?:合计|total) ({SIGNED})(?: → (?:上下限|limit) ({SIGNED}) \.\. ({SIGNED}) → ({SIGNED}))?$", body):
                    block["total"] = dec(found.group(1))
                    if found.group(2):
                        block["limit"] = (dec(found.group(2)), dec(found.group(3)))
                        block["clamped"] = dec(found.group(4))
                elif (found := re.search(rf"⇒ ({SIGNED})$", body)) and rule_line(body) is not None:
                    block["lines"].append((rule_line(body), dec(found.group(1))))
                else:
                    raise AssertionError(f"unexpected line in an adjustment block: {body!r}")
            facts["adjusts"].append(block)
        elif match := re.match(rf"^(?:得分|Score) = (?P<terms>{NUMBER}(?: {SIGNED})*|基础分|Base score) = {stated('sum')}"
                               rf"(?: → (?:总分上下限|score limit) (?P<low>{NUMBER}) \.\. (?P<high>{NUMBER}) → {stated('score')})?$", line):
            terms = match.group("terms")
            facts["score_terms"] = None if terms in ("基础分", "Base score") else [dec(term) for term in terms.split()]
            facts["score_sum_exact"], facts["score_sum"] = shown_number(match, "sum")
            if match.group("low") is not None:
                facts["score_limit"] = (dec(match.group("low")), dec(match.group("high")))
                facts["score_exact"], facts["score"] = shown_number(match, "score")
            else:
                facts["score_limit"] = None
                facts["score_exact"], facts["score"] = facts["score_sum_exact"], facts["score_sum"]
        elif match := re.match(rf"^(?:得分|Score) ", line):
            raise AssertionError(f"a score line not understood: {line!r}")
        elif match := re.match(r"^(?:名次|Rank): (\d+) / (\d+)$", line):
            facts["rank"] = (int(match.group(1)), int(match.group(2)))
        elif match := re.match(r"^(?:一票否决|Veto): (.*)$", line):
            if match.group(1) not in ("无", "none"):
                found = re.match(r"^(?:第 \d+ 行|line \d+): .*?(?: \((?P<values>[^()]*)\))?  ⇒ (?:等级|Grade) (?P<grade>.+)$",
                                 match.group(1))
                assert found, f"a veto line not understood: {line!r}"
                facts["veto"] = rule_line(match.group(1))
                facts["veto_grade"] = found.group("grade")
                facts["veto_values"] = re.findall(r"(\w+) = ([^,]+)", found.group("values") or "")
        elif match := re.match(r"^(?:等级|Grade): (.*)$", line):
            facts["grade"] = match.group(1)
        elif match := re.match(rf"^(?:奖金|Bonus) (.+?): (?:第 \d+ 行|line \d+): .*⇒ ({MONEY})$", line):
            facts["bonus"].append({"name": match.group(1), "line": rule_line(line), "amount": dec(match.group(2)),
                                   "share": None, "of": None})
            section = "bonus"
        elif match := re.match(r"^(?:奖金|Bonus) ", line):
            raise AssertionError(f"a bonus line not understood (the amount has two decimals): {line!r}")
        elif match := re.match(r"^(?:奖金合计|Bonus total) = (.+) = (" + MONEY + r")$", line):
            facts["bonus_total"] = dec(match.group(2))
            facts["bonus_total_terms"] = match.group(1)
        elif match := re.match(r"^(?:奖金合计|Bonus total)\b", line):
            raise AssertionError(f"a bonus total not understood: {line!r}")
        elif section == "bonus" and (match := re.match(rf"^  ({PERCENT}|\(.+\)) × (\S+) ({MONEY}) = ({MONEY})$", line)):
            share = match.group(1)
            if tier := re.fullmatch(rf"\(({PERCENT}) − \(({PERCENT}) − ({PERCENT})\) × \((\d+) − 1\) ÷ \((\d+) − 1\)\)", share):
                # A share six decimals do not hold is written as its formula: worked out exactly here.
                high, high2, low = (dec(tier.group(i)[:-1]) / 100 for i in (1, 2, 3))
                assert high == high2, line
                facts["bonus"][-1]["share"] = high - (high - low) * (int(tier.group(4)) - 1) / (int(tier.group(5)) - 1)
            else:
                facts["bonus"][-1]["share"] = dec(share[:-1]) / 100
            facts["bonus"][-1]["of"] = (match.group(2), dec(match.group(3)))
            facts["bonus"][-1]["product"] = dec(match.group(4))
        elif line in ("改进计划:", "Improvement plans:"):
            section = "plans"
        elif section == "plans" and (match := re.match(r"^  (\S.*?) \((?:第 \d+ 行|line \d+): .*\)$", line)):
            facts["plans"].append({"name": match.group(1), "actions": []})
        elif section == "plans" and (match := re.match(r"^    - (.*) \((?:截止|due) (\d{4}-\d{2}-\d{2})\)$", line)):
            facts["plans"][-1]["actions"].append({"text": match.group(1), "due": match.group(2)})
    return facts


def shown_value(text: str) -> Decimal | None:
    """A measured value as the explanation writes it: 92%, 480s, 8min, 8000.00, 缺失/missing, or a let's
    ``complaints / tickets (complaints = 1, tickets = 300) → 0.003333``.
    Durations come back in seconds (the unit of the JSON); ``x ≈ y`` gives y."""
    if " → " in text:  # a let: its definition and the metrics it reads, then its value as computed
        text = text.rsplit(" → ", 1)[1]
    if text in ("缺失", "missing"):
        return None
    if match := re.fullmatch(rf"({NUMBER}) ≈ ({NUMBER})", text):
        assert round2(dec(match.group(1))) == dec(match.group(2)), f"not true as written: {text!r}"
        return dec(match.group(2))
    if re.fullmatch(rf"{NUMBER}%", text):
        return dec(text[:-1]) / 100
    if match := re.fullmatch(rf"({NUMBER})(s|min|h|d)", text):
        return dec(match.group(1)) * UNIT_SECONDS[match.group(2)]
    assert re.fullmatch(NUMBER, text), f"a value written as {text!r}"
    return dec(text)


def same_value(shown: Decimal | None, value) -> bool:
    """The shown value is the JSON's, or the JSON's as reports round it (two decimals)."""
    expected = json_number(value)
    if shown is None or expected is None:
        return shown is expected
    return shown == expected or shown == round2(expected)


def final_grade(facts: dict) -> str | None:
    """The grade the explanation ends with: the veto's when a veto holds, else the grade line's."""
    return facts["veto_grade"] if facts["veto"] is not None else facts["grade"]


def states_grade(shown: str, grade: str | None) -> bool:
    """The grade line ends with the final grade (a whole word: 合格 is not the end of 不合格)."""
    if grade is None:
        return any(shown == word or shown.endswith((" " + word, "⇒ " + word)) for word in ("无", "none"))
    if shown == grade:
        return True
    return shown.endswith(grade) and shown[-len(grade) - 1] in " :：,，→⇒"


# ---- the numbers are those of evaluate --------------------------------------------------------------


def money_metrics(case: Path) -> set[str]:
    """The policy's metrics of type money: their values are written with two decimals."""
    return set(re.findall(r"^\s*metric (\w+): money\b", (case / "policy.perf").read_text(encoding="utf-8"), re.M))


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
        elif kpi["status"] == "scored":
            # The rule line gives the points as reports show them (``85.714286 ≈ 85.71 分``).
            assert "rule_points" in shown, f"{name}: the rule line does not give the points"
            assert shown["rule_points"][1] == json_number(kpi["points"]), f"{name}: the rule line's points"
        else:
            assert shown["points"] == json_number(kpi["points"]), name
        if kpi["status"] == "scored":
            assert shown["line"] == kpi["line"], name
        # The KPI's value: the one value it reads (a KPI with `measure` shows the metrics it reads).
        assert shown["values"], f"{name}: the explanation does not show the KPI's value"
        if len(shown["values"]) == 1:
            text = shown["values"][0][1]
            expected = json_number(kpi["value"])
            if "≈" in text:  # the exact value, then as reports show it
                assert shown_value(text) == round2(expected), name
            else:
                assert shown_value(text) == expected, f"{name}: {text!r}, JSON {kpi['value']!r}"

    # Base score, adjustments, score: the number as reports show it (after ≈) is the JSON's.
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
        # The limit shows as its own step exactly when the JSON has a limit entry.
        clipped = [entry for entry in listed if entry["label"] in ("上下限", "limit")]
        assert (block["clamped"] is not None) == bool(clipped), block["name"]
        if clipped:
            assert block["clamped"] - block["total"] == json_number(clipped[0]["points"]), block["name"]
    assert set(entries) <= {block["name"] for block in facts["adjusts"]}, "an adjustment block is not shown"
    assert facts["score"] == json_number(result["score"])

    # Rank, veto, grade: the grade rule's line, then the veto that replaces its grade.
    assert facts["rank"] == (result["rank"], result["rank_of"])
    assert facts["veto"] == (result["veto"]["line"] if result["veto"] else None)
    assert "grade" in facts, "the explanation has no grade line"
    if result["veto"]:
        assert facts["veto_grade"] == result["grade"], f"veto sets {facts['veto_grade']!r}, JSON {result['grade']!r}"
        for metric, value in facts["veto_values"]:
            shown_value(value.strip())  # a value written the usual way
    else:
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


def check_arithmetic(text: str, money: set[str] = frozenset()) -> None:
    facts = parse(text)
    for line in text.splitlines():
        for a, b, sign, c in re.findall(rf"({NUMBER}) × (\d+(?:\.\d+)?)% ([=≈]) ({NUMBER})(?![\d.%])", line):
            assert equation_true(dec(a) * dec(b) / 100, sign, dec(c)), f"not true as written: {line.strip()!r}"
        for exact, rounded in re.findall(rf"({NUMBER}) ≈ ({NUMBER})(?![\d.%])", line):
            assert dec(exact) != dec(rounded) and approx_true(dec(exact), dec(rounded)), f"not true as written: {line.strip()!r}"
        if match := re.search(r"ceil\((\d+(?:\.\d+)?)% × (\d+)\) = (\d+)", line):
            assert int(match.group(3)) == math.ceil(dec(match.group(1)) / 100 * int(match.group(2))), line
        if match := re.search(rf"({PERCENT}) − \(({PERCENT}) − ({PERCENT})\) × \((\d+) − 1\) ÷ \((\d+) − 1\) ([=≈]) ({PERCENT})$", line):
            high, high2, low = (dec(match.group(i)[:-1]) / 100 for i in (1, 2, 3))
            assert high == high2, line
            share = high - (high - low) * (int(match.group(4)) - 1) / (int(match.group(5)) - 1)
            assert equation_true(share, match.group(6), dec(match.group(7)[:-1]) / 100), f"not true as written: {line.strip()!r}"
        if name := next((n for n in money if re.search(rf"\b{n} (?:= )?(?!{MONEY}(?![\d%]))-?\d", line)), None):
            raise AssertionError(f"money {name} without two decimals: {line.strip()!r}")
    # Numbers are written one way: never with trailing zeros (100.00, 85.0), except money and bonus
    # amounts, always with two decimals.  Policy text is left out: the header lines (name, version),
    # quoted rule lines and plan actions.
    section = None
    for line in text.splitlines()[2:]:
        if re.match(r"(?:奖金|Bonus|奖金合计|Bonus total) ", line):
            section = "bonus"
        elif line and not line.startswith(" "):
            section = None
        if line.lstrip().startswith("- "):
            continue
        outside = SOURCE_LINE.sub("", line)
        if section == "bonus":
            outside = re.sub(rf"{MONEY}(?![\d%])", "", outside)
        for name in money:
            outside = re.sub(rf"\b{name} (= )?{MONEY}(?![\d%])", "", outside)
        assert not re.search(r"\d\.\d*0(?!\d)", outside), f"a number with trailing zeros: {line.strip()!r}"
    weighted = []
    for kpi in facts["kpis"]:
        if kpi["points"] is not None:
            points, weight, sign, shown = kpi["product"]
            assert weight == kpi["weight"], kpi["name"]
            assert equation_true(points * weight, sign, shown), kpi["name"]
            weighted.append(shown)
        if "rule_points" in kpi:
            assert kpi["rule_points"][0] == kpi["points"], f"{kpi['name']}: the rule line and the product give other points"
    if "base" in facts:
        terms = facts["base_terms"]
        if match := re.fullmatch(rf"\((.+)\) ÷ (\d+(?:\.\d+)?)%", terms):
            listed = [dec(term) for term in match.group(1).split(" + ")]
            total = sum(listed, Decimal(0)) / (dec(match.group(2)) / 100)
            weights = sum((kpi["weight"] for kpi in facts["kpis"] if not kpi["excluded"]), Decimal(0))
            assert dec(match.group(2)) / 100 == weights, f"base score: {terms} (the weights used add up to {weights})"
        else:
            listed = [dec(term) for term in terms.split(" + ")]
            total = sum(listed, Decimal(0))
        assert listed == weighted, f"base score: {terms}, the KPIs give {weighted}"
        assert equation_true(total, facts["base_sign"], facts["base_exact"]), f"base score: {terms} {facts['base_sign']} {facts['base_exact']}"
    for block in facts["adjusts"]:
        raw = sum((points for _, points in block["lines"]), Decimal(0))
        assert block["total"] == raw, f"{block['name']}: the lines add up to {raw}, the total says {block['total']}"
        if block["clamped"] is not None:
            low, high = block["limit"]
            assert block["clamped"] == max(low, min(raw, high)) != raw, block["name"]
    if "score_sum" in facts:
        terms = facts["score_terms"]
        if terms is None:
            assert not facts["adjusts"] and facts["score_sum_exact"] == facts["base_exact"]
        else:
            assert terms[0] == facts["base_exact"]
            assert terms[1:] == [block["clamped"] if block["clamped"] is not None else block["total"]
                                 for block in facts["adjusts"]]
            assert sum(terms, Decimal(0)) == facts["score_sum_exact"], f"score: {terms} does not add up to {facts['score_sum_exact']}"
        if facts["score_limit"] is not None:
            low, high = facts["score_limit"]
            assert facts["score_exact"] == max(low, min(facts["score_sum_exact"], high)) != facts["score_sum_exact"]
    for bonus in facts["bonus"]:
        if bonus["share"] is not None:
            assert round2(bonus["share"] * bonus["of"][1]) == bonus["product"] == bonus["amount"], bonus["name"]
    if facts["bonus_total"] is not None:
        terms = [dec(term) for term in facts["bonus_total_terms"].split(" + ")]
        assert terms == [bonus["amount"] for bonus in facts["bonus"]], facts["bonus_total_terms"]
        assert sum(terms, Decimal(0)) == facts["bonus_total"], facts["bonus_total_terms"]


@pytest.mark.parametrize("case", params("arithmetic", only_successful=True))
def test_explain_arithmetic_is_true_as_written(case, run_cli):
    result = run_explain(run_cli, case)
    assert result.exit_code == 0, result.stderr
    check_arithmetic(result.stdout, money_metrics(case))


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
