"""The expressions pass: every expression of a policy checked in its context.

Each statement says what its expressions must be (a condition, an amount of money,
points) and how far evaluation has got when they run (:class:`Phase`).  This pass
walks them all through :class:`~perfrules.check.kinds.KindChecker` and checks the
names that stand outside expressions: levels given by KPI rules, grades given by
vetoes, the count metric of a ``sample``.
"""

from __future__ import annotations

from perfrules import ast
from perfrules.check.kinds import DIMENSIONLESS, METRIC_KINDS, Kind, KindChecker, Phase, kind_name
from perfrules.check.symbols import Symbols, grade_declared, level_declared
from perfrules.check.targets import check_award, check_target
from perfrules.diagnostics import DiagnosticSink, did_you_mean


def kpi_levels(policy: ast.Policy) -> dict[str, set[str]]:
    """The levels each KPI can give, by KPI name."""
    result: dict[str, set[str]] = {}
    for kpi in policy.kpis:
        levels = {rule.outcome.level.text for rule in kpi.rules if isinstance(rule.outcome, ast.LevelOutcome)}
        if isinstance(kpi.missing, ast.MissingLevel):
            levels.add(kpi.missing.level.text)
        result.setdefault(kpi.name.value, set()).update(levels)
    return result


def check_expressions(policy: ast.Policy, symbols: Symbols, sink: DiagnosticSink) -> dict[str, Kind]:
    """Check every expression; return the kind of every metric and let, for the policy model."""
    checker = KindChecker(symbols, sink, kpi_levels(policy))
    kinds = {name: METRIC_KINDS.get(metric.type.text, Kind.UNKNOWN) for name, metric in symbols.metrics.items()}
    for name in symbols.lets:
        kinds[name] = checker.let_kind(name)[0]
    for statement in policy.statements:
        match statement:
            case ast.Metric():
                _sample(statement, symbols, sink)
            case ast.Kpi():
                _kpi(statement, checker, symbols, sink)
            case ast.Adjust():
                for line in statement.lines:
                    if isinstance(line, ast.AdjustPer):
                        kind = checker.value(line.per, Phase.KPIS, "an adjustment")
                        if kind not in DIMENSIONLESS | {Kind.UNKNOWN}:
                            sink.report("PR213", f"`per` counts something, but this is {kind_name(kind)}", line.per.span, "use a count, for example per qa_commendations")
                    elif isinstance(line, ast.AdjustWhen):
                        checker.condition(line.condition, Phase.KPIS, "an adjustment")
            case ast.Veto():
                checker.condition(statement.condition, Phase.RANK, "a veto")
                grade_declared(statement.grade, symbols, sink)
            case ast.Grade():
                for rule in statement.rules:
                    if rule.condition is not None:
                        checker.condition(rule.condition, Phase.RANK, "a grade rule")
            case ast.Bonus():
                for rule in statement.rules:
                    if rule.condition is not None:
                        checker.condition(rule.condition, Phase.GRADE, "a bonus rule")
                    _amount(rule.amount, checker, sink)
            case ast.Plan():
                checker.condition(statement.condition, Phase.GRADE, "a plan condition")
            case ast.Swot():
                for item in statement.items:
                    checker.condition(item.condition, Phase.GRADE, "a swot note")
            case ast.Award():
                checker.condition(statement.condition, Phase.GRADE, "an award")
                check_award(statement, sink)
            case ast.Target():
                check_target(statement, policy, checker, sink)
    return kinds


def _sample(metric: ast.Metric, symbols: Symbols, sink: DiagnosticSink) -> None:
    option = metric.option("sample")
    if option is None:
        return
    name: ast.Name = option.value
    counted = symbols.metrics.get(name.text)
    if counted is None:
        sink.report("PR301", f"unknown metric '{name.text}'", name.span, did_you_mean(name.text, symbols.metrics) or "declare it: metric NAME: count")
    elif counted.type.text != "count":
        sink.report("PR211", f"the sample size '{name.text}' must be a count metric, not {counted.type.text}", name.span, f"declare it as: metric {name.text}: count")


def _kpi(kpi: ast.Kpi, checker: KindChecker, symbols: Symbols, sink: DiagnosticSink) -> None:
    where = "a KPI rule"
    if isinstance(kpi.missing, ast.MissingLevel):
        level_declared(kpi.missing.level, symbols, sink)
    for line in kpi.lines:
        match line:
            case ast.Measure(expression=expression):
                checker.value(expression, Phase.METRICS, where)
            case ast.KpiRule(condition=condition, outcome=outcome):
                if condition is not None:
                    checker.condition(condition, Phase.METRICS, where)
                if isinstance(outcome, ast.LevelOutcome):
                    level_declared(outcome.level, symbols, sink)
            case ast.PointsLinear():
                checker.value(line.measure, Phase.METRICS, where)
                for end in (line.from_value, line.to_value):
                    checker.linear_end(line.measure, end)
            case ast.PointsFormula(expression=expression):
                kind = checker.value(expression, Phase.METRICS, "a points formula")
                if kind not in DIMENSIONLESS | {Kind.UNKNOWN}:
                    sink.report("PR213", f"points are a plain number, but this formula gives {kind_name(kind)}", expression.span, "divide by a unit to get a number, for example aht / 1min")


def _amount(amount: ast.Amount, checker: KindChecker, sink: DiagnosticSink) -> None:
    if isinstance(amount, ast.AmountExpression):
        expression = amount.expression
        kind = checker.value(expression, Phase.GRADE, "a bonus rule")
    else:
        expression = amount.of
        kind = checker.value(expression, Phase.GRADE, "a bonus rule")
    if kind not in (Kind.MONEY, Kind.NUMBER, Kind.UNKNOWN):
        sink.report("PR208", f"a bonus is an amount of money, but this is {kind_name(kind)}", expression.span, "use a money metric, for example 10% of base_salary, or a number like 500")
