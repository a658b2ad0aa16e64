"""Every policy of the language spec, and every policy in policies/, checks as the spec says."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from conftest import POLICIES, POLICY_FILES, SHARED_SPEC, SPEC
from perfrules import ast
from perfrules.layout.printer import canonical_layout
from perfrules.parser import parse_policy, policy_parser
from perfrules.source import SourceFile
from perfrules.workspace import load_policies

SPEC_TEXT = (SPEC / "language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```\n(.*?)```", SPEC_TEXT, re.S)


def check_text(tmp_path, text: str, name: str = "policy.perf"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_policies([str(path)])


@pytest.mark.skipif(not SHARED_SPEC.is_dir(), reason="shared/spec is not beside this clone")
@pytest.mark.parametrize("name", ["language.md", "cli.md"])
def test_the_copy_of_the_spec_is_current(name):
    assert (SPEC / name).read_text(encoding="utf-8") == (SHARED_SPEC / name).read_text(encoding="utf-8")


def test_the_spec_has_the_examples_this_file_expects():
    assert BLOCKS[0].startswith("# policies/after_sales_agent.perf")
    assert 'kpi "平均处理时长" weight 20%' in BLOCKS[1]


def test_complete_example_of_section_2_checks_clean(tmp_path):
    result = check_text(tmp_path, BLOCKS[0])
    assert result.diagnostics == []


def test_bundled_example_is_the_spec_example():
    bundled = (POLICIES / "after_sales_agent.perf").read_text(encoding="utf-8")
    spec_policy = BLOCKS[0].split("\n", 1)[1]
    # The bundled policy is the spec's, with the SMART targets and awards of §13/§14 added at its end.
    assert bundled.startswith(spec_policy.rstrip().removesuffix("}")) or spec_policy.rstrip().removesuffix("}") in bundled
    assert bundled.rstrip().endswith("}")


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_bundled_policies_check_clean(path):
    assert load_policies([str(path)]).diagnostics == []


def test_bundled_policies_check_clean_together():
    result = load_policies([str(POLICIES)])
    assert len(result.files) == 4
    assert result.diagnostics == []


def test_inheritance_example_of_section_12_is_bundled_and_adds_up():
    block = next(block for block in BLOCKS if block.startswith("# policies/vip_supervisor.perf"))
    bundled = (POLICIES / "vip_supervisor.perf").read_text(encoding="utf-8")
    # the spec writes each KPI on one line; the bundled file is that policy in the canonical layout
    assert canonical_layout(policy_parser(), block.split("\n", 1)[1]) in bundled
    loaded = load_policies([str(POLICIES / "vip_supervisor.perf")])
    assert loaded.diagnostics == []
    merged = loaded.files[0].policy
    # the parent's KPI order, 排班准确率 replaced in its place, 团队客户满意度 added, 员工流失率 removed
    assert [(kpi.name.value, kpi.weight) for kpi in merged.kpis] == [
        ("培训完成率", Decimal("0.2")), ("团队回复时间", Decimal("0.2")), ("投诉处理率", Decimal("0.2")),
        ("排班准确率", Decimal("0.1")), ("团队客户满意度", Decimal("0.3"))]
    assert [parent.display for parent in loaded.files[0].parents] == [str(POLICIES / "supervisor.perf")]


def test_kpi_forms_of_section_6_check_clean(tmp_path):
    policy = (
        'policy "示例" {\n version "1"\n roles agent\n'
        ' metric resolution_rate: percent higher is better\n'
        ' metric aht: duration in min lower is better\n'
        ' metric complaint_rate: percent lower is better\n'
        ' levels { excellent = 100 fail = 0 }\n'
        ' kpi "客户满意" weight 70% { resolution_rate >= 99% => excellent else => fail }\n'
        + BLOCKS[1] + "}\n"
    )
    # The three KPIs of §6 weigh 30% + 20% + 10%; the first KPI above makes 100%.
    policy = policy.replace("weight 70%", "weight 40%")
    result = check_text(tmp_path, policy)
    assert [d.code for d in result.diagnostics] == []


def test_section_11_diagnostic_is_reproduced_exactly(tmp_path, run_cli):
    text = BLOCKS[0].replace("csat >= 90% => excellent", "csat >= 90 => excellent")
    (tmp_path / "agent.perf").write_text(text, encoding="utf-8")
    result = run_cli("check", "agent.perf", cwd=tmp_path)
    line = text.splitlines().index("        csat >= 90 => excellent") + 1
    assert result.exit_code == 1
    assert result.stderr == (
        f"agent.perf:{line}:17: error PR201: percent metric 'csat' compared with the plain number 90\n"
        "    csat >= 90 => excellent\n"
        "            ^^\n"
        "  hint: did you mean 90%?\n"
        "\n"
        "checked 1 policy file: 1 error, 0 warnings\n"
    )


def test_section_4_kind_mistakes(tmp_path):
    base = BLOCKS[0]
    cases = {
        "reply_within_10min >= 90% => excellent": ("aht <= 10 => excellent", "PR202", "write a unit: 10min"),
        "resolution_rate >= 95% => excellent": ("resolution_rate >= 10min => excellent", "PR203", None),
    }
    for original, (replacement, code, hint) in cases.items():
        result = check_text(tmp_path, base.replace(original, replacement, 1))
        found = [d for d in result.diagnostics if d.code == code]
        assert len(found) == 1, (code, result.diagnostics)
        assert found[0].hint == hint


def test_example_values_are_exact_decimals():
    source = SourceFile("p.perf", BLOCKS[0])
    policy = parse_policy(source).policy
    kpi = policy.kpis[0]
    assert kpi.weight == Decimal("0.3")
    first_rule = kpi.rules[0]
    assert isinstance(first_rule.condition, ast.Compare)
    assert first_rule.condition.right.value == Decimal("0.9")
    aht = next(metric for metric in policy.metrics if metric.name.text == "aht")
    assert (aht.type.text, aht.unit, aht.label, aht.direction) == ("duration", "min", "平均处理时长", "lower")
    csat = next(metric for metric in policy.metrics if metric.name.text == "csat")
    assert csat.sample == ("csat_responses", Decimal(10))
    span = first_rule.condition.right.span
    assert BLOCKS[0][span.start : span.end] == "90%"
    assert policy.language == "zh" and policy.period == "month" and policy.version == "2026.11"
