"""Policies wide rather than deep: a thousand KPIs, thousands of adjustment lines or blocks.

The plan adds up the KPIs' weighted points and weights, each block's adjustment lines and the
blocks' totals.  Written ``a + b + c + …`` each sum was nested once per term and DuckDB
refuses SQL nested more than 1,000 deep: 1,000 KPIs or 3,000 adjustment lines passed `check`
and `evaluate` failed.  The sums are balanced trees now (perfrules.engine.sql.sum_of); decimal
addition is exact, so the numbers are those of the sum in any order.
"""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb

from perfrules.engine.plan import compile_plan
from perfrules.engine.sql import decimal_literal, sum_of
from test_hostile_writes import perfrules

DATA = "agent_id,role,team,period,c\n" + "".join(f"A{c},agent,T1,2026-11,{c}\n" for c in range(4))


def test_a_balanced_sum_is_exact_and_missing_when_a_term_is():
    values = [Decimal("999999999999.999999"), Decimal("-0.000001"), Decimal("0.000001")] * 1000 + [Decimal("0.5")]
    terms = [decimal_literal(value) for value in values]
    connection = duckdb.connect()
    (total,) = connection.execute(f"SELECT {sum_of(terms)}").fetchone()
    assert total == Decimal("1000000000000000.499000")  # 1,000 × (10^12 − 10^-6) + 0.5, exactly
    assert total == sum(values)
    (missing,) = connection.execute(f"SELECT {sum_of(terms[:1500] + ['NULL'] + terms[1500:])}").fetchone()
    assert missing is None
    assert sum_of(["a", "b", "c"]) == "((a + b) + c)" and sum_of(["a"]) == "a"


def wide_policy(kpis: int, blocks: int, lines: int) -> str:
    weight = Decimal(100) / kpis
    parts = ['policy "wide" {', '    version "1"', "    roles agent", "    metric c: count higher is better"]
    parts += [f'    kpi "k{number}" weight {weight:f}% {{\n        c >= 0 => 100\n        else => 0\n    }}'
              for number in range(kpis)]
    for block in range(blocks):  # even lines: 0.01 when c >= 1; odd lines: 0.5 per c
        parts.append(f'    adjust "a{block}" {{')
        parts += [f'        +0.01 when c >= 1 "x{line}"' if line % 2 == 0 else f'        +0.5 per c "y{line}"'
                  for line in range(lines)]
        parts.append("    }")
    parts += ["    score limit 0 to 100000", '    grade {\n        else => "pass"\n    }', "}"]
    return "\n".join(parts) + "\n"


def test_the_plan_of_1200_kpis_and_1100_adjustment_blocks_is_within_duckdbs_nesting(tmp_path):
    """Parsed by DuckDB's parser (which counts the nesting) without running: the run of so wide a
    plan takes minutes in DuckDB's optimizer (docs/performance.md), the nesting is what failed."""
    import perfrules.cli  # noqa: F401 - the recursion limit the commands run with
    from perfrules.workspace import load_policies

    (tmp_path / "policy.perf").write_text(wide_policy(kpis=1200, blocks=1100, lines=1), encoding="utf-8")
    loaded = load_policies([str(tmp_path / "policy.perf")])
    assert not [item for item in loaded.diagnostics if item.severity == "error"]
    sql = compile_plan(loaded.files[0].model).sql("typed_0", "2026-11")
    assert len(duckdb.extract_statements(sql)) == 1


def test_1100_adjustment_lines_evaluate_exactly(tmp_path):
    """550 lines of +0.01 when c >= 1 and 550 of +0.5 per c: 100, and 5.50 + 275 × c when c >= 1
    (the document shows two decimals; the sum's exactness to six: the test above)."""
    (tmp_path / "policy.perf").write_text(wide_policy(kpis=1, blocks=1, lines=1100), encoding="utf-8")
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    result = perfrules("evaluate", "policy.perf", "data.csv", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(result.stdout, parse_float=Decimal)["results"]
    scores = {item["agent_id"]: item["score"] for item in results}
    assert scores == {"A0": Decimal("100.0"), "A1": Decimal("380.5"), "A2": Decimal("655.5"), "A3": Decimal("930.5")}
    assert [len(item["adjustments"]) for item in results] == [1100, 1100, 1100, 0]  # A0: every line adds 0, none is listed
