"""Coverage of a policy's decision lines by its tests (``perfrules test --coverage``).

The decision lines (cli.md) are every KPI rule and ``else``, ``points`` line, adjustment
line (and an adjustment block's ``limit``), veto, grade rule, bonus rule, plan, award and
target goal line.  Each has an identity that does not depend on where it is written (its
block and ordinal, like the engine's rules).  A line is covered when it decided, or for
vetoes, plans, awards, adjustments and limits applied to, at least one agent of some test:
a KPI rule that gave the agent's points, a grade rule that gave the final grade (not one a
veto overrode), an adjustment line that gave points, a limit that clamped.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfrules import ast
from perfrules.check.model import PolicyModel
from perfrules.result_model import AgentResult


@dataclass(frozen=True)
class DecisionLine:
    key: tuple
    node: object

    @property
    def line(self) -> int:
        return self.node.span.line


def decision_lines(model: PolicyModel) -> list[DecisionLine]:
    """The policy's decision lines in the order of the policy's blocks."""
    lines = []
    for kpi in model.kpis:
        lines += [DecisionLine(("kpi", kpi.index, rule.ordinal), rule.node) for rule in kpi.rules]
    for adjust in model.adjusts:
        lines += [DecisionLine(("adjust", adjust.index, number), line) for number, line in enumerate(adjust.lines)]
        if adjust.limit is not None:
            lines.append(DecisionLine(("limit", adjust.index), adjust.limit))
    lines += [DecisionLine(("veto", rule.ordinal), rule.node) for rule in model.vetoes]
    lines += [DecisionLine(("grade", rule.ordinal), rule.node) for rule in model.grade_rules]
    for bonus in model.bonuses:
        lines += [DecisionLine(("bonus", bonus.index, rule.ordinal), rule.node) for rule in bonus.rules]
    lines += [DecisionLine(("plan", plan.name.value), plan) for plan in model.plans]
    lines += [DecisionLine(("award", award.title.value), award) for award in model.policy.of_type(ast.Award)]
    for target in model.policy.of_type(ast.Target):
        lines += [DecisionLine(("target", target.name.value, number), line) for number, line in enumerate(target.lines)]
    return lines


def covered_lines(model: PolicyModel, result: AgentResult) -> set[tuple]:
    """The keys of the decision lines that decided or applied to this agent."""
    keys: set[tuple] = set()
    for kpi, entry in zip(model.kpis, result.kpis):
        if entry.status == "scored" and entry.rule is not None:
            keys.add(("kpi", kpi.index, entry.rule))
    for adjust, points, total in zip(model.adjusts, result.adjust_lines, result.adjust_totals):
        keys |= {("adjust", adjust.index, number) for number, amount in enumerate(points) if amount}
        if adjust.limit is not None and total is not None and total != sum(points):
            keys.add(("limit", adjust.index))
    if result.veto_rule:
        keys.add(("veto", result.veto_rule))
    elif result.grade_rule:
        keys.add(("grade", result.grade_rule))
    for bonus, entry in zip(model.bonuses, result.bonus):
        if entry.rule:
            keys.add(("bonus", bonus.index, entry.rule))
    keys |= {("plan", plan.name) for plan in result.plans}
    keys |= {("award", award.name) for award in getattr(result, "awards", None) or ()}
    for target in getattr(result, "targets", None) or ():
        keys |= {("target", target.name, number) for number, _ in enumerate(target.goals)}
    return keys
