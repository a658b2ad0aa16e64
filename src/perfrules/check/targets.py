"""The SMART checks of targets and the checks of awards (language.md §13, §14).

A target's goal line ``NAME CMP VALUE by DATE [from DATE | from VALUE]`` is checked for
what can be judged before any data is read: its roles are the policy's own (PR701), its
deadline does not come before the day it was set (T, PR702), its goal and a given
baseline are of NAME's kind (M, PR703), a goal does not ask for a worse value than its
baseline of a metric that is higher or lower is better (S, PR704, a warning), the value
is one the review reads (R, PR705, a warning), and it compares with ``>= > <= <``
(PR707).  An award's ``for N periods`` is a whole number from 1 to
:data:`MAX_AWARD_PERIODS` (PR706); its condition is checked like a bonus rule's by the
expressions pass.  Achievability (A) needs the data: the engine says it at evaluation.
"""

from __future__ import annotations

import typing
from decimal import Decimal

from perfrules import ast
from perfrules.check.kinds import NUMERIC, Kind, KindChecker, Phase, kind_name
from perfrules.check.symbols import Symbols
from perfrules.diagnostics import DiagnosticSink, did_you_mean
from perfrules.values import plain

GOAL_OPERATORS = (">=", ">", "<=", "<")
MAX_AWARD_PERIODS = 120  # ten years of months: a streak longer than that is a typing mistake


def check_target(target: ast.Target, policy: ast.Policy, checker: KindChecker, sink: DiagnosticSink) -> None:
    """Roles, operators, kinds, deadlines and baselines of one target."""
    roles = [role.text for role in policy.roles]
    for role in target.roles:
        if role.text not in roles:
            hint = did_you_mean(role.text, roles) or (f"the policy's roles are: {', '.join(roles)}" if roles else None)
            sink.report("PR701", f"the target \"{target.name.value}\" is for the role '{role.text}', which the policy does not evaluate",
                        role.span, hint)
    if not target.lines:
        sink.report("PR113", f'the target "{target.name.value}" has no goals', target.span,
                    "add goals like: csat >= 92% by 2026-12-31 from 2026-10-01")
    for line in target.lines:
        _goal_line(line, checker, sink)


def _goal_line(line: ast.TargetLine, checker: KindChecker, sink: DiagnosticSink) -> None:
    name = line.metric.text
    if line.operator not in GOAL_OPERATORS:
        sink.report("PR707", f"a goal compares with >=, >, <= or <, not `{line.operator}`", line.span,
                    f"write for example {name} >= ... for a value to reach")
    kind = checker.value(ast.Reference(name, line.metric.span), Phase.METRICS, "a target")
    if kind is not Kind.UNKNOWN and kind not in NUMERIC:
        sink.report("PR703", f"a goal needs a measurable value, but '{name}' is {kind_name(kind)}", line.metric.span,
                    "set goals on a percent, duration, count, number or money value")
        return
    reported = len(sink.items)
    _same_kind(line, line.value, kind, checker, sink, "the goal")
    baseline = line.baseline
    if isinstance(baseline, ast.DateLiteral):
        if line.deadline is not None and line.deadline < baseline.value:
            sink.report("PR702", f"the deadline {line.deadline.isoformat()} comes before the day the target was set, "
                        f"{baseline.value.isoformat()}", line.span, "a deadline is on or after its `from` date")
    elif baseline is not None:
        _same_kind(line, baseline, kind, checker, sink, "the baseline")
    if not any(item.code == "PR703" for item in sink.items[reported:]):  # 94% is no worse than 6min
        _worse_than_baseline(line, checker.symbols, sink)


def _same_kind(line: ast.TargetLine, expression: ast.Expression, kind: Kind, checker: KindChecker,
               sink: DiagnosticSink, what: str) -> None:
    """M: ``expression`` is of NAME's kind, with the hints of a comparison (``did you mean 92%?``)."""
    found = checker.value(expression, Phase.METRICS, "a target")
    if Kind.UNKNOWN in (kind, found):
        return
    name = ast.Reference(line.metric.text, line.metric.span)
    probe = DiagnosticSink()
    checker.sink, saved = probe, checker.sink
    try:
        checker._comparison(ast.Compare(">=", name, expression, expression.span, expression.span), kind, found)
    finally:
        checker.sink = saved
    for item in probe.items:
        sink.report("PR703", f"{what} of '{line.metric.text}' is of the wrong kind: {item.message}",
                    expression.span, item.hint)


def _constant(expression: ast.Expression | None) -> Decimal | None:
    match expression:
        case ast.NumberLiteral(value=value) | ast.PercentLiteral(value=value):
            return value
        case ast.DurationLiteral(seconds=seconds):
            return seconds
        case ast.Negate(operand=operand):
            value = _constant(operand)
            return -value if value is not None else None
    return None


def _shown(expression: ast.Expression, value: Decimal) -> str:
    return getattr(expression, "text", None) or plain(value)


def _worse_than_baseline(line: ast.TargetLine, symbols: Symbols, sink: DiagnosticSink) -> None:
    """S: for a metric that is higher (lower) is better, a goal below (above) its given baseline,
    or a goal that asks for at most (at least) a value."""
    metric = symbols.metrics.get(line.metric.text)
    direction = metric.direction if metric is not None else None
    if direction is None or line.operator not in GOAL_OPERATORS:
        return
    name = line.metric.text
    asks_higher = line.operator in (">=", ">")
    if asks_higher != (direction == "higher"):
        sink.report("PR704", f"the goal asks for '{name}' {'at least' if asks_higher else 'at most'} a value, "
                    f"but '{name}' is {direction} is better", line.span,
                    f"write {name} {'<=' if asks_higher else '>='} ... for a goal to reach")
        return
    goal, baseline = _constant(line.value), _constant(line.baseline)
    if goal is None or baseline is None:
        return
    if (goal < baseline) if direction == "higher" else (goal > baseline):
        sink.report("PR704", f"the goal {_shown(line.value, goal)} asks for a worse '{name}' than its baseline "
                    f"{_shown(line.baseline, baseline)}: '{name}' is {direction} is better", line.value.span,
                    "swap the goal and the baseline, or check the numbers")


def check_award(award: ast.Award, sink: DiagnosticSink) -> None:
    """``for N periods``: N from 1 to MAX_AWARD_PERIODS (a fraction is reported by the parser)."""
    if award.periods is not None and not 1 <= award.periods <= MAX_AWARD_PERIODS:
        sink.report("PR706", f"an award holds for 1 to {MAX_AWARD_PERIODS} periods, not {plain(Decimal(award.periods))}",
                    award.span, "write for example: for 3 periods")


def check_relevance(policy: ast.Policy, symbols: Symbols, sink: DiagnosticSink) -> None:
    """R: each goal's value is read by a KPI, an adjustment, a veto, the grade or a bonus."""
    read = _reviewed_values(policy, symbols)
    for target in policy.of_type(ast.Target):
        for line in target.lines:
            name = line.metric.text
            if name not in symbols.metrics and name not in symbols.lets:
                continue  # reported as unknown
            through = _reads(ast.Reference(name, line.metric.span), symbols)
            if name not in read and not (through & read & set(symbols.metrics)):
                sink.report("PR705", f"the target \"{target.name.value}\" is on '{name}', which no KPI, adjustment, "
                            f"veto, grade or bonus reads", line.metric.span,
                            "a target should be relevant to the review: set it on a value the KPIs read")


def _reviewed_values(policy: ast.Policy, symbols: Symbols) -> set[str]:
    expressions: list[ast.Expression] = []
    for statement in policy.statements:
        match statement:
            case ast.Kpi(lines=lines):
                for line in lines:
                    expressions += [value for value in vars(line).values() if _is_expression(value)]
            case ast.Adjust(lines=lines):
                for line in lines:
                    if isinstance(line, ast.AdjustPer):
                        expressions.append(line.per)
                    elif isinstance(line, ast.AdjustWhen):
                        expressions.append(line.condition)
            case ast.Veto(condition=condition):
                expressions.append(condition)
            case ast.Grade(rules=rules) | ast.Bonus(rules=rules):
                for rule in rules:
                    if rule.condition is not None:
                        expressions.append(rule.condition)
                    amount = getattr(rule, "amount", None)
                    if amount is not None:
                        expressions += [value for value in vars(amount).values() if _is_expression(value)]
    read: set[str] = set()
    for expression in expressions:
        read |= _reads(expression, symbols)
    return read


EXPRESSION_TYPES = typing.get_args(ast.Expression)


def _is_expression(value) -> bool:
    return isinstance(value, EXPRESSION_TYPES)


def _reads(expression: ast.Expression, symbols: Symbols) -> set[str]:
    """Every metric and let an expression reads, through lets."""
    found: set[str] = set()
    pending = [expression]
    while pending:
        for node in ast.walk(pending.pop()):
            if isinstance(node, ast.Reference) and node.name not in found:
                found.add(node.name)
                if node.name in symbols.lets:
                    pending.append(symbols.lets[node.name].expression)
    return found
