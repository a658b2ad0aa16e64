"""Conditions 400 levels deep (the most `check` accepts, PR116) in every place a condition stands.

DuckDB's common-subexpression pass takes time exponential in nested ``coalesce((… AND …), false)``
and polynomial of a high degree in any deep SQL expression: an adjustment's `when` of 100
chained `and`s took 68 s, one alternating `and` and `or` in brackets hung.  The engine now
writes a chain of one operator as one n-ary AND/OR and cuts deep expressions into columns
(perfrules.engine.expressions), and these tests hold it there.

Each place gets six conditions of 400 levels, one of each shape (a chain of `and`, of `or`, of
`not`, `and` and `or` alternating in brackets, a sum inside a comparison, a chain of lets),
line i the same truth as ``c >= 7 - i``.  The agents have c = 0..7, so where the first line
that holds decides (KPI rules, veto, grade, bonus) each line decides for one agent, and where
every line counts (adjustments, plans, SWOT notes, awards) each agent shows a different set.
The document must be exactly the one of the same policy written with ``c >= 7 - i`` (lines
included), and the facts worked out by hand below hold.  Each deep evaluation is a child
process with a timeout: a hang fails the test rather than stalling the suite (a run takes
about a second; the timeout is generous for a loaded machine).
"""

from __future__ import annotations

import json

import pytest

import perfrules.cli  # noqa: F401 - the recursion limit the commands run with, for the in-process checks
from perfrules.check.depth import MAX_EXPRESSION_DEPTH
from conftest import CASES
from test_hostile_writes import perfrules

SHAPES = ("and", "or", "not", "alternating", "sum", "lets")
PLACES = ("kpi", "adjust", "veto", "grade", "bonus", "plan", "swot", "award")
AGENTS = range(8)  # agent Ak has c = k
DATA = "agent_id,role,team,period,c\n" + "".join(f"A{k},agent,T{k % 2},2026-11,{k}\n" for k in AGENTS)


def deep_condition(shape: str, threshold: int, lets: list[str], tag: str) -> str:
    """A condition MAX_EXPRESSION_DEPTH levels deep, true exactly when ``c >= threshold``."""
    depth, holds = MAX_EXPRESSION_DEPTH, f"c >= {threshold}"
    if shape == "and":
        return f"{holds} and " * (depth - 1) + holds
    if shape == "or":
        return "c >= 99 or " * (depth - 1) + holds
    if shape == "not":
        return "not " * (depth - 1) + (f"c < {threshold}" if (depth - 1) % 2 else holds)
    if shape == "alternating":  # (((c >= T or c >= 99) and c >= T) or c >= 99) ...
        steps = "".join(f" and {holds})" if step % 2 else " or c >= 99)" for step in range(depth - 1))
        return "(" * (depth - 1) + holds + steps
    if shape == "sum":
        return "c" + " + 0" * (depth - 1) + f" >= {threshold}"
    if shape == "lets":  # tag0 = tag1 and c >= T, ..., each let 2 levels, its use 1 more
        length = (depth - 2) // 2
        lets.extend(f"    let {tag}{index} = {tag}{index + 1} and {holds}" for index in range(length))
        lets.append(f"    let {tag}{length} = {holds}")
        return f"{tag}0"
    raise AssertionError(shape)


def policy(place: str, deep: bool) -> str:
    """The policy with its six conditions at ``place``: deep, or written ``c >= 7 - i``.  The
    lets come last, so both versions have every other statement on the same line."""
    lets: list[str] = []
    conditions = [deep_condition(shape, 7 - line, lets, f"g{line}_") if deep else f"c >= {7 - line}"
                  for line, shape in enumerate(SHAPES)]
    kpi_rules = ["        measure c", "        c >= 0 => 100"]
    grade_rules = [f'        score >= {1006 - line} => "g{line}"' for line in range(len(SHAPES))]  # never hold
    block = []
    if place == "kpi":
        kpi_rules[1:] = [f"        {condition} => {100 - 10 * line}" for line, condition in enumerate(conditions)]
    elif place == "grade":
        grade_rules = [f'        {condition} => "g{line}"' for line, condition in enumerate(conditions)]
    elif place == "adjust":
        block = ['    adjust "a" {', *(f'        +{2 ** line} when {condition} "x{line}"'
                                        for line, condition in enumerate(conditions)), "    }"]
    elif place == "veto":
        block = [f'    veto "v{line}" when {condition} => "g{line}"' for line, condition in enumerate(conditions)]
    elif place == "bonus":
        block = ['    bonus "b" {', *(f"        {condition} => {line + 1}" for line, condition in enumerate(conditions)),
                 "        else => 0", "    }"]
    elif place == "plan":
        for line, condition in enumerate(conditions):
            block += [f'    plan "p{line}" when {condition} {{', f'        "act {line}" within 7 days', "    }"]
    elif place == "swot":
        block = ["    swot {", *(f'        strength "s{line}" when {condition}' for line, condition in enumerate(conditions)),
                 "    }"]
    elif place == "award":
        block = [f'    award "w{line}" when {condition}' for line, condition in enumerate(conditions)]
    lines = ['policy "p" {', '    version "1"', "    roles agent", "    metric c: count higher is better",
             '    kpi "k" weight 100% {', *kpi_rules, "        else => 0", "    }",
             "    grade {", *grade_rules, '        else => "pass"', "    }", *block, *lets, "}"]
    return "\n".join(lines) + "\n"


def holding(c: int) -> list[int]:
    """The lines whose condition holds for an agent with this c: line i is ``c >= 7 - i``."""
    return [line for line in range(len(SHAPES)) if c >= 7 - line]


def first(c: int) -> int | None:
    return holding(c)[0] if holding(c) else None


def masked(document: dict) -> dict:
    """The document without what names the policy file (its name and sha256)."""
    for stamp in document["policies"]:
        stamp["file"] = stamp["sha256"] = "*"
    return document


def test_the_deep_conditions_are_exactly_as_deep_as_check_accepts(tmp_path):
    """Each condition is MAX_EXPRESSION_DEPTH levels, lets written out, and `check` is clean
    (one level more is refused: tests/test_expression_depth.py)."""
    from perfrules.check.depth import _let_depths, expression_depth
    from perfrules.workspace import load_policies

    (tmp_path / "policy.perf").write_text(policy("award", deep=True), encoding="utf-8")
    result = perfrules("check", "policy.perf", cwd=tmp_path)
    assert result.returncode == 0 and ": error " not in result.stderr, result.stderr[-2000:]
    model = load_policies([str(tmp_path / "policy.perf")]).files[0].model
    let_depths = _let_depths(model.symbols)
    assert [expression_depth(award.condition, let_depths) for award in model.awards] == [MAX_EXPRESSION_DEPTH] * 6


@pytest.mark.parametrize("place", PLACES)
def test_deep_conditions_evaluate_in_seconds_to_the_same_results(tmp_path, run_cli, place):
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    (tmp_path / "deep.perf").write_text(policy(place, deep=True), encoding="utf-8")
    (tmp_path / "plain.perf").write_text(policy(place, deep=False), encoding="utf-8")
    deep = perfrules("evaluate", "deep.perf", "data.csv", cwd=tmp_path, timeout=90)
    assert deep.returncode == 0, deep.stderr[-3000:]
    plain = run_cli("evaluate", "plain.perf", "data.csv", cwd=tmp_path)
    assert plain.exit_code == 0, plain.stderr[-3000:]
    document = masked(json.loads(deep.stdout))
    assert document == masked(json.loads(plain.stdout))

    results = {result["agent_id"]: result for result in document["results"]}
    assert sorted(results) == [f"A{c}" for c in AGENTS]
    for c in AGENTS:
        result, decided, held = results[f"A{c}"], first(c), holding(c)
        if place == "kpi":  # line i gives 100 - 10 i points; c < 2: no line holds, `else => 0`
            assert result["score"] == {7: 100, 6: 90, 5: 80, 4: 70, 3: 60, 2: 50}.get(c, 0)
        elif place == "adjust":  # line i adds 2^i to the 100 points of the KPI
            assert [item["label"] for item in result["adjustments"]] == [f"x{line}" for line in held]
            assert result["score"] == {7: 163, 6: 162, 5: 160, 4: 156, 3: 148, 2: 132}.get(c, 100)
        elif place == "veto":
            assert result["veto"] == (None if decided is None else {"name": f"v{decided}", "line": 19 + decided})
            assert result["grade"] == ("pass" if decided is None else f"g{decided}")
        elif place == "grade":
            assert result["grade"] == ("pass" if decided is None else f"g{decided}")
        elif place == "bonus":  # line i pays i + 1
            assert result["bonus_total"] == {7: 1, 6: 2, 5: 3, 4: 4, 3: 5, 2: 6}.get(c, 0)
        elif place == "plan":
            assert [plan["name"] for plan in result["plans"]] == [f"p{line}" for line in held]
        elif place == "award":
            assert [award["name"] for award in result["awards"]] == [f"w{line}" for line in held]
    if place == "swot":  # SWOT notes are not in the document: the packet's model reads them
        assert swot_holds(tmp_path / "deep.perf", tmp_path / "data.csv") == {
            f"A{c}": [c >= 7 - line for line in range(len(SHAPES))] for c in AGENTS}


def swot_holds(policy_path, data_path) -> dict[str, list[bool]]:
    """Which SWOT notes hold for each agent (the child process above proved it does not hang)."""
    from perfrules.engine.run import evaluate_files
    from perfrules.results import build_results
    from perfrules.workspace import load_policies

    policies = load_policies([str(policy_path)])
    evaluation = evaluate_files(policies.evaluated, data_path, "data.csv")
    return {result.agent_id: result.swot_holds for result in build_results(evaluation).results}


# ---- metric definitions (.perfm): the same check (PR116) and the same cut ---------------------------

METRICS_CASE = CASES / "metrics" / "aggregates"


def metrics_with(tmp_path, where: str, share: str) -> None:
    """The definitions of tests/cases/metrics/aggregates with the source's filter and one share
    condition replaced."""
    text = (METRICS_CASE / "defs.perfm").read_text(encoding="utf-8")
    text = text.replace('where outcome == "OK"', f"where {where}").replace(
        "metric within_60s: percent = share where wait <= 60s", f"metric within_60s: percent = share where {share}")
    (tmp_path / "defs.perfm").write_text(text, encoding="utf-8")
    (tmp_path / "calls.csv").write_bytes((METRICS_CASE / "calls.csv").read_bytes())


def test_deep_metric_conditions_compute_in_seconds_to_the_same_snapshot(tmp_path):
    depth = MAX_EXPRESSION_DEPTH
    kept = '(outcome == "OK" or wait > 99999s)'  # alternating: the same rows as outcome == "OK"
    where = "(" * (depth - 2) + kept + "".join(
        ' and outcome == "OK")' if step % 2 else " or wait > 99999s)" for step in range(depth - 2))
    share = "not " * (depth - 2) + "wait <= 60s"  # an even number of `not`
    metrics_with(tmp_path, 'outcome == "OK"', "wait <= 60s")
    plain = perfrules("metrics", "defs.perfm", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    metrics_with(tmp_path, where, share)
    deep = perfrules("metrics", "defs.perfm", cwd=tmp_path, timeout=90)
    assert deep.returncode == 0, deep.stderr[-2000:]
    assert deep.stdout == plain.stdout
    assert "A1,2026-11,agent,,,,4,2,50%,3," in deep.stdout  # tests/cases/metrics/aggregates/notes.md


def test_metric_conditions_too_deep_are_pr116_located_and_without_lets(tmp_path):
    metrics_with(tmp_path, "wait > 1s and " * MAX_EXPRESSION_DEPTH + "wait > 1s", "wait <= 60s")
    result = perfrules("metrics", "defs.perfm", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"defs.perfm:11:15: error PR116: this expression is nested "
                                    f"{MAX_EXPRESSION_DEPTH + 1} levels deep; perfrules can evaluate at most "
                                    f"{MAX_EXPRESSION_DEPTH}\n"), result.stderr[:300]
    assert "  hint: write it less deeply, for example a long run of `and`, `or` or `+` in groups: " \
           "`(a and b) and (c and d)` is 2 levels, `a and b and c and d` is 3\n" in result.stderr
    assert result.stderr.count("error PR116") == 1 and "Traceback" not in result.stderr
