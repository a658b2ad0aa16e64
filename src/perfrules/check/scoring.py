"""The scoring pass: weights, the measured value of each KPI, rule coverage, bonus tiers.

KPI weights must add up to exactly 100% (PR401, saying what they add up to).  A
KPI's rules must read one value, or name it with ``measure`` (PR114).  Blocks of
first-match rules on one value (KPI rules, and grade rules on the score) go through
the coverage analysis of :mod:`perfrules.check.coverage`.  ``A%..B%`` bonus tiers
need a single ``top`` condition (PR405).
"""

from __future__ import annotations

from decimal import Decimal

from perfrules import ast
from perfrules.check.coverage import (
    EVERYTHING, Interval, RuleView, Subject, ValueSet, check_linear_direction, check_rules, constant_value,
    metric_subject,
)
from perfrules.check.symbols import Symbols
from perfrules.diagnostics import DiagnosticSink
from perfrules.values import percent_text


def check_scoring(policy: ast.Policy, symbols: Symbols, sink: DiagnosticSink) -> None:
    _weights(policy, sink)
    for kpi in policy.kpis:
        _kpi(kpi, symbols, sink)
    _grades(policy, sink)
    _bonus_ranges(policy, sink)


# The most KPI weights PR401 writes out; a longer sum shows its first ones and how many there are.
MOST_TERMS_SHOWN = 12


def _weights(policy: ast.Policy, sink: DiagnosticSink) -> None:
    kpis = policy.kpis
    if not kpis or policy.is_base:  # a base's KPIs are weighed in each policy that extends it
        return
    total = sum((kpi.weight for kpi in kpis), Decimal(0))
    if total == 1:
        return
    shown = [percent_text(kpi.weight) for kpi in kpis[:MOST_TERMS_SHOWN]]
    if len(kpis) > MOST_TERMS_SHOWN:  # hundreds of weights would make a line of many screens
        shown.append(f"… ({len(kpis)} weights in all)")
    terms = " + ".join(shown)
    difference = percent_text(abs(1 - total))
    direction = "raise" if total < 1 else "lower"
    sink.report(
        "PR401",
        f"the KPI weights add up to {percent_text(total)}, not 100% ({terms})",
        _weights_span(policy),
        f"{direction} the weights by {difference} in total",
    )


def _weights_span(policy: ast.Policy) -> ast.Span:
    """Where the weights are said not to add up: the last KPI, or in a policy that extends
    another, the last `kpi` or `remove kpi` of its own file (what changed the sum), else
    its `extends` (a parent's weights are right on their own)."""
    own = policy.span.file
    if policy.extends is None:
        return policy.kpis[-1].weight_span
    changes = [statement for statement in policy.statements if statement.span.file == own and (
        isinstance(statement, ast.Kpi) or (isinstance(statement, ast.Remove) and statement.kind == "kpi"))]
    if not changes:
        return policy.extends.span
    last = max(changes, key=lambda statement: statement.span.start)
    return last.weight_span if isinstance(last, ast.Kpi) else last.span


def read_values(expression: ast.Expression, symbols: Symbols) -> list[str]:
    """The metric and ``let`` names an expression reads, in order, without repeats."""
    names = []
    for node in ast.walk(expression):
        if isinstance(node, ast.Reference) and (node.name in symbols.metrics or node.name in symbols.lets):
            if node.name not in names:
                names.append(node.name)
    return names


def _line_expressions(line: ast.KpiLine) -> list[ast.Expression]:
    match line:
        case ast.KpiRule(condition=condition) if condition is not None:
            return [condition]
        case ast.PointsLinear():
            return [line.measure]
        case ast.PointsFormula(expression=expression):
            return [expression]
    return []


def measured_value(kpi: ast.Kpi, symbols: Symbols) -> tuple[ast.Expression | None, list[str]]:
    """The expression a KPI measures (its ``measure``, else the one value its rules read),
    and the names its rules read."""
    read: list[str] = []
    for line in kpi.lines:
        for expression in _line_expressions(line):
            read.extend(name for name in read_values(expression, symbols) if name not in read)
    measure = next((line.expression for line in kpi.lines if isinstance(line, ast.Measure)), None)
    if measure is None and len(read) == 1:
        measure = ast.Reference(read[0], kpi.name.span)
    return measure, read


def _kpi(kpi: ast.Kpi, symbols: Symbols, sink: DiagnosticSink) -> None:
    measure, read = measured_value(kpi, symbols)
    if measure is None and len(read) > 1:
        names = ", ".join(read)
        sink.report(
            "PR114",
            f'the rules of KPI "{kpi.name.value}" read several values ({names}); say which one it measures',
            kpi.name.span,
            f"write `measure {read[0]}` (or a formula) as the first line of the block",
        )
        return
    if not isinstance(measure, ast.Reference):
        return
    subject = metric_subject(symbols, measure.name)
    if subject is None:
        return
    points_lines = [line for line in kpi.lines if isinstance(line, (ast.PointsLinear, ast.PointsFormula))]
    for line in points_lines:
        if isinstance(line, ast.PointsLinear):
            _linear(line, subject, sink)
    rules = kpi.rules
    if subject.unit == "number" and _compared_with_percentages(rules):
        subject = Subject(subject.name, subject.domain, "percent", subject.direction)
    if rules and not points_lines:  # both at once is PR109 already
        views = [RuleView(rule.condition, _outcome_points(rule.outcome, symbols), rule.span) for rule in rules]
        check_rules(views, subject, sink, kpi.name.span, "rule")


def _compared_with_percentages(rules: list[ast.KpiRule]) -> bool:
    """True when every constant the rules compare with is a percentage (show values as %)."""
    literals = [node for rule in rules if rule.condition is not None for node in ast.walk(rule.condition)
                if isinstance(node, (ast.PercentLiteral, ast.NumberLiteral, ast.DurationLiteral))]
    return bool(literals) and all(isinstance(node, ast.PercentLiteral) for node in literals)


def _linear(line: ast.PointsLinear, subject: Subject, sink: DiagnosticSink) -> None:
    start, end = constant_value(line.from_value, subject), constant_value(line.to_value, subject)
    if start is not None and start == end:
        sink.report("PR212", "`points linear` needs two different ends", line.span, "write from WORST => 0 to BEST => 100")
        return
    check_linear_direction(line, subject, sink)


def _outcome_points(outcome: ast.Outcome, symbols: Symbols) -> Decimal | None:
    if isinstance(outcome, ast.PointsOutcome):
        return outcome.points
    level = symbols.levels.get(outcome.level.text)
    return level.points if level is not None else None


def _grades(policy: ast.Policy, sink: DiagnosticSink) -> None:
    limit = policy.first(ast.ScoreLimit)
    interval = Interval(limit.limit.low, True, limit.limit.high, True) if limit else EVERYTHING
    subject = Subject("score", ValueSet.of([interval], False), "number", None)
    for grade in policy.of_type(ast.Grade):
        if grade.rules:
            views = [RuleView(rule.condition, None, rule.span) for rule in grade.rules]
            check_rules(views, subject, sink, grade.span, "grade rule")
        else:
            sink.report("PR113", "the grade block is empty", grade.span, 'add rules like: score >= 90 => "优秀"')


def _bonus_ranges(policy: ast.Policy, sink: DiagnosticSink) -> None:
    for bonus in policy.of_type(ast.Bonus):
        if not bonus.rules:
            sink.report("PR113", f'the bonus "{bonus.name.value}" has no rules', bonus.span, "add rules like: top 30% => 10% of base_salary")
        for rule in bonus.rules:
            amount = rule.amount
            if not isinstance(amount, ast.AmountShareRange):
                continue
            if amount.low > amount.high:
                sink.report("PR111", f"the range runs backwards: {percent_text(amount.low)} is more than {percent_text(amount.high)}", amount.span, f"write {percent_text(amount.high)}..{percent_text(amount.low)}: the best position gets the second number")
            condition = rule.condition
            if not (isinstance(condition, ast.RankCondition) and condition.direction == "top"):
                sink.report(
                    "PR405",
                    f"a range like {percent_text(amount.low)}..{percent_text(amount.high)} needs the rule's condition to be a single `top` condition",
                    amount.span,
                    "write for example: top 30% => 10%..20% of base_salary",
                )
