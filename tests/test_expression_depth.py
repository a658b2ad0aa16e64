"""Expressions nested deeper than evaluation can go (PR116, perfrules.check.depth).

DuckDB refuses SQL nested more than 1,000 deep; before PR116 a policy 500 `and`s deep
passed `check` and `evaluate` failed (exit 3) with DuckDB's words and no location.  These
tests hold the bound to the engine: a policy with an expression exactly
MAX_EXPRESSION_DEPTH levels deep in the places of the first stages (KPI rules, measures, points,
`per`, `top ... by`, a bonus amount) evaluates (so the bound is safe for the SQL the engine
really writes, lets written out), and one level more is refused by `check` at each of them.
Deep conditions in the later stages (adjust `when`, veto, grade, bonus, plan, swot, award) are
checked the same way and evaluated, of six shapes, by tests/test_hostile_conditions.py.  Inputs
tens of thousands of levels deep
give the same located message from every command, never a RecursionError.
"""

from __future__ import annotations

import json

import pytest

from perfrules.check.depth import MAX_EXPRESSION_DEPTH

DATA = "agent_id,role,team,period,m,c,pay\n" + "".join(
    f"A{agent},agent,T{agent % 2},2026-11,{80 + agent}%,{agent % 3},{5000 + 100 * agent}\n" for agent in range(1, 7))


def condition(kind: str, depth: int) -> str:
    """A condition exactly ``depth`` levels deep."""
    if kind == "and":
        return "c >= 1 and " * (depth - 1) + "c >= 1"
    if kind == "or":
        return "c >= 9 or " * (depth - 1) + "c >= 1"
    if kind == "not":
        return "not " * (depth - 1) + "c >= 1"
    return value(kind, depth - 1, "c") + " >= 1"


def value(kind: str, depth: int, leaf: str) -> str:
    """A value exactly ``depth`` levels deep, of the kind of ``leaf``."""
    if kind == "plus":
        return f"{leaf} + " * depth + leaf
    if kind == "times":
        return f"{leaf} * " + "1 * " * (depth - 1) + "1"
    if kind == "divide":
        return f"{leaf} / " + "1 / " * (depth - 1) + "1"
    if kind == "minus":
        return "(" + "- " * depth + leaf + ")"  # brackets: a line may not start with a sign (it continues the last)
    if kind == "max":
        return "max(" * depth + leaf + f", {leaf})" * depth
    if kind == "clamp":
        return "clamp(" * depth + leaf + ", 0, 100000)" * depth
    if kind == "abs":
        return "abs(" * depth + leaf + ")" * depth
    if kind in ("and", "or", "not"):
        return value("plus", depth, leaf)
    raise AssertionError(kind)


def policy(kind: str, depth: int) -> str:
    """Every place an expression stands, each ``depth`` levels deep."""
    deep_condition = condition(kind, depth)
    count, money = value(kind, depth, "c"), value(kind, depth, "pay")
    ranked_by = value(kind, depth - 1, "c")  # `top 50% by` is a level
    return f"""policy "p" {{
    version "1"
    roles agent
    metric m: percent higher is better
    metric c: count higher is better
    metric pay: money
    kpi "rule" weight 20% {{
        {deep_condition} => 100
        else => 0
    }}
    kpi "measure" weight 20% {{
        measure {count}
        c >= 1 => 100
        else => 0
    }}
    kpi "formula" weight 20% {{
        points {count}
    }}
    kpi "linear" weight 20% {{
        points linear {count} from 0 => 0 to 10 => 100
    }}
    kpi "level" weight 20% {{
        m >= 50% => 100
        else => 0
    }}
    adjust "a" {{
        +1 per {count} "x"
        limit 0 to 5
    }}
    grade {{
        else => "fail"
    }}
    bonus "b" {{
        top 50% by {ranked_by} => 2% of pay
        else => {money}
    }}
}}
"""


PLACES = 7  # expressions in policy() that are `depth` deep
KINDS = ["and", "not", "plus", "divide", "minus", "max"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_deepest_accepted_expressions_evaluate_everywhere(run_cli, tmp_path, kind):
    (tmp_path / "policy.perf").write_text(policy(kind, MAX_EXPRESSION_DEPTH), encoding="utf-8")
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    checked = run_cli("check", "policy.perf", cwd=tmp_path)
    assert ": error " not in checked.stderr, checked.stderr[-3000:]
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert len(json.loads(result.stdout)["results"]) == 6


@pytest.mark.parametrize("kind", KINDS)
def test_one_level_more_is_refused_at_each_place(run_cli, tmp_path, kind):
    (tmp_path / "policy.perf").write_text(policy(kind, MAX_EXPRESSION_DEPTH + 1), encoding="utf-8")
    result = run_cli("check", "policy.perf", cwd=tmp_path)
    assert result.exit_code == 1
    found = [line for line in result.stderr.splitlines() if ": error " in line]
    assert len(found) == PLACES, result.stderr[-3000:]
    assert all(f" error PR116: this expression is nested {MAX_EXPRESSION_DEPTH + 1} levels deep; perfrules can "
               f"evaluate at most {MAX_EXPRESSION_DEPTH}" in line for line in found), result.stderr[-3000:]


def let_chain(length: int, step: str) -> str:
    """`let a0 = a1 STEP` ... `let aN = c`, the rule reading a0."""
    lets = "".join(f"    let a{index} = a{index + 1}{step}\n" for index in range(length)) + f"    let a{length} = c\n"
    return f"""policy "p" {{
    version "1"
    roles agent
    metric c: count higher is better
{lets}    kpi "k" weight 100% {{
        a0 >= 1 => 100
        else => 0
    }}
}}
"""


@pytest.mark.parametrize("step, levels_per_let", [("", 1), (" + 1", 2)])
def test_lets_are_written_out_so_a_chain_of_lets_is_as_deep_as_one_expression(run_cli, tmp_path, step, levels_per_let):
    # The rule `a0 >= 1` is 2 levels above a0; a0 is `levels_per_let` levels per let of the chain.
    longest = (MAX_EXPRESSION_DEPTH - 2) // levels_per_let
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    (tmp_path / "policy.perf").write_text(let_chain(longest, step), encoding="utf-8")
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr[-3000:]
    (tmp_path / "policy.perf").write_text(let_chain(longest + 1, step), encoding="utf-8")
    result = run_cli("check", "policy.perf", cwd=tmp_path)
    assert result.exit_code == 1
    # Reported once, at the first let whose chain is too deep; what uses it is not reported again.
    deepest = MAX_EXPRESSION_DEPTH + 1 if levels_per_let == 1 else MAX_EXPRESSION_DEPTH + 2
    line = 5 + longest + 1 - (MAX_EXPRESSION_DEPTH // levels_per_let) + 0
    assert result.stderr.count("error PR116") == 1, result.stderr
    assert (f"error PR116: this expression is nested {deepest} levels deep once the `let` values it uses are "
            f"written out; perfrules can evaluate at most {MAX_EXPRESSION_DEPTH}") in result.stderr
    assert "make the chain shorter" in result.stderr
    assert line >= 4


@pytest.mark.parametrize("command", [
    ("check", "policy.perf"), ("evaluate", "policy.perf", "data.csv"), ("fmt", "--check", "policy.perf"),
    ("fmt", "policy.perf"), ("diff", "policy.perf", "policy.perf", "data.csv"), ("test", "policy.test.perf"),
])
def test_ten_thousand_levels_give_the_located_message_in_every_command(run_cli, tmp_path, command):
    """tests/cases/check/pr116-nested-10000-deep: `max(` 10,000 deep, refused before anything recurses."""
    from conftest import CASES

    case = CASES / "check" / "pr116-nested-10000-deep"
    (tmp_path / "policy.perf").write_bytes((case / "policy.perf").read_bytes())
    (tmp_path / "policy.test.perf").write_text('tests for "policy.perf" {\n}\n', encoding="utf-8")
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    result = run_cli(*command, cwd=tmp_path)
    assert result.exit_code == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    located = ("policy.perf:6:9: error PR116: this expression is nested 10001 levels deep; "
               f"perfrules can evaluate at most {MAX_EXPRESSION_DEPTH}")
    if command[0] != "test":
        assert result.stderr.count("error PR116") == 1  # diff: the old and the new version say it once
        assert result.stderr.startswith(located), result.stderr[:500]
    else:
        assert "error PR901: policy.perf has 1 error, so its tests cannot run" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 400
