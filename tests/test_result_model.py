"""The typed result: the JSON Schema of `perfrules schema result`, the document it describes,
and the packet's weighted points adding up (apportion)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from conftest import POLICIES, REPO

from perfrules.results import apportion


def test_schema_result_describes_the_document(run_cli):
    shown = run_cli("schema", "result")
    assert shown.exit_code == 0, shown.stderr
    schema = json.loads(shown.stdout)
    assert schema["title"] == "perfrules result document"
    assert schema["required"] == ["perfrules", "period", "policies", "results", "warnings"]
    result = schema["$defs"]["AgentResult"]
    assert list(result["properties"]) == [
        "agent_id", "name", "role", "team", "period", "policy", "kpis", "base_score", "adjustments", "score",
        "rank", "rank_of", "veto", "grade", "bonus", "bonus_total", "plans", "targets", "awards"]
    goal = schema["$defs"]["GoalResult"]["properties"]
    assert list(goal) == ["name", "cmp", "goal", "deadline", "start", "baseline", "value", "progress", "expected",
                          "status", "line"]
    assert list(schema["$defs"]["AwardResult"]["properties"]) == ["name", "line", "periods"]
    # what only explain and the packet read is not in the document, nor in its schema
    assert "effective_weight" not in schema["$defs"]["KpiResult"]["properties"]
    assert schema["$defs"]["KpiResult"]["properties"]["points"]["anyOf"][0] == {"type": "number"}


def test_the_example_document_validates_against_the_schema(run_cli):
    import jsonschema

    schema = json.loads(run_cli("schema", "result").stdout)
    evaluated = run_cli("evaluate", str(POLICIES), str(REPO / "examples" / "agents.csv"))
    assert evaluated.exit_code == 0, evaluated.stderr
    jsonschema.validate(json.loads(evaluated.stdout), schema)


def test_schema_of_an_unknown_document_is_a_usage_error(run_cli):
    shown = run_cli("schema", "nonsense")
    assert shown.exit_code == 2


@pytest.mark.parametrize("parts,total,expected", [
    # 33.333333 × 3 rounds to 33.33 each (99.99), but the base score shown is 100.00
    (["33.333333", "33.333333", "33.333334"], "100.00", ["33.33", "33.33", "33.34"]),
    (["30", "40", "30"], "100.00", ["30.00", "40.00", "30.00"]),
    (["12.345", None, "40.005"], "52.35", ["12.35", None, "40.00"]),  # a tie: the earlier KPI
    (["12.345", "40.004"], None, ["12.35", "40.00"]),  # no total: each rounded half up
])
def test_apportion_adds_up_to_the_total(parts, total, expected):
    as_decimal = [Decimal(part) if part is not None else None for part in parts]
    shown = apportion(as_decimal, Decimal(total) if total else None)
    assert shown == [Decimal(value) if value is not None else None for value in expected]
    if total:
        assert sum(value for value in shown if value is not None) == Decimal(total)
