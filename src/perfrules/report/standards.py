"""A KPI's standard in words for the packet's first page, and the rule text for its appendix.

People who hold the feedback meeting do not read policy syntax: ``reply_within_10min >= 90%
=> excellent`` is shown as ``≥ 90% 优秀`` under the metric's label (10分钟内回复占比), with
values in the units the KPI table uses and the levels' labels.  A rule whose condition is not
a range of the one value the KPI measures (``csat >= 90% and fcr >= 80%``) cannot be put in
words without guessing, so its condition is shown as written.  The rules exactly as written
go to the appendix, with the role codes, for those who want them.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfrules import ast
from perfrules.check.coverage import ValueSet, condition_set, metric_subject
from perfrules.check.model import KpiModel, PolicyModel
from perfrules.texts import sentence
from perfrules.values import plain


@dataclass
class Standard:
    """What the KPI table's 考核标准 cell shows: what is measured, then one line per rule."""

    measures: str | None  # the metric's label when it says more than the KPI's name
    lines: list[str]


def kpi_standard(model: PolicyModel, kpi: KpiModel, level_labels: dict[str, str], language: str,
                 show_value) -> Standard:
    """``show_value(metric, value)`` writes a threshold as the KPI's values are written."""
    metric = kpi.metric
    subject = metric_subject(model.symbols, kpi.measure.name) if isinstance(kpi.measure, ast.Reference) else None
    lines = []
    for rule in kpi.rules:
        node = rule.node
        if not isinstance(node, ast.KpiRule):  # points linear / formula: as written
            lines.append(model.written(node))
            continue
        outcome = _outcome_text(node.outcome, level_labels, language)
        if node.condition is None:
            lines.append(sentence(language, "standard_else", outcome=outcome))
            continue
        values = condition_set(node.condition, subject) if subject is not None else None
        words = _range_words(values, subject, metric, language, show_value) if values is not None else None
        condition = words if words is not None else model.written(node.condition)
        lines.append(sentence(language, "standard_line", condition=condition, outcome=outcome))
    label = metric.label if metric is not None else None
    return Standard(measures=label if label and label != kpi.name else None, lines=lines)


def _outcome_text(outcome: ast.Outcome, level_labels: dict[str, str], language: str) -> str:
    if isinstance(outcome, ast.PointsOutcome):
        return sentence(language, "points_outcome", points=plain(outcome.points))
    return level_labels.get(outcome.level.text, outcome.level.text)


def _range_words(values: ValueSet, subject, metric, language: str, show_value) -> str | None:
    """``≥ 90%``, ``≤ 10 分钟``, ``≥ 80% 且 < 90%``; None for an empty set."""
    if values.is_empty():
        return None
    domain = subject.domain.intervals[0] if subject.domain.intervals else None
    parts = []
    for interval in values.intervals:
        low, high = interval.low, interval.high
        if domain is not None and low is not None and low == domain.low and interval.low_closed:
            low = None
        if domain is not None and high is not None and high == domain.high and interval.high_closed:
            high = None
        if low is not None and high is not None and low == high:
            parts.append(f"= {show_value(metric, low)}")
            continue
        bounds = []
        if low is not None:
            bounds.append(f"{'≥' if interval.low_closed else '>'} {show_value(metric, low)}")
        if high is not None:
            bounds.append(f"{'≤' if interval.high_closed else '<'} {show_value(metric, high)}")
        parts.append(sentence(language, "standard_and").join(bounds) if bounds else sentence(language, "standard_any"))
    return sentence(language, "standard_or").join(parts)


def appendix_rules(model: PolicyModel) -> list[dict]:
    """Every KPI's rules as written in the policy, for the packet's appendix."""
    return [{"name": kpi.name, "lines": [model.written(rule.node) for rule in kpi.rules]} for kpi in model.kpis]
