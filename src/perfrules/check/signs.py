"""The signs pass: legal policies that can score below 0 or pay a negative bonus.

KPI points are 0..100 (PR110), so a base score is never negative; a deduction per count
with no limit can take a score below 0 (without bound), and a bonus formula with a
subtraction can come out below 0.  Neither is a mistake of syntax or kind, and HR may even mean it, but a
negative score or a negative payment on a review is almost always an oversight that
nobody sees until payday: each is a warning with the bound that would prevent it.

The analysis is a small sign inference: can this expression be below 0 for some data?
Metrics of kind ``number`` may be negative (an NPS, a delta); counts, percents,
durations and money read from data are taken as non-negative (the data side rejects a
negative count, and the others are amounts).
"""

from __future__ import annotations

from perfrules import ast
from perfrules.check.symbols import Symbols
from perfrules.diagnostics import DiagnosticSink
from perfrules.values import plain

_NONNEGATIVE_KINDS = {"count", "percent", "duration", "money"}


def check_signs(policy: ast.Policy, symbols: Symbols, sink: DiagnosticSink) -> None:
    _score_below_zero(policy, sink)
    for bonus in policy.of_type(ast.Bonus):
        for rule in bonus.rules:
            amount = rule.amount
            if isinstance(amount, ast.AmountExpression) and _can_be_negative(amount.expression, symbols, set()):
                sink.report(
                    "PR407",
                    f'bonus "{bonus.name.value}" can pay a negative amount: this amount is below 0 for some data',
                    amount.expression.span,
                    "wrap it so that it stops at zero: max(0, ...)",
                )


def _score_below_zero(policy: ast.Policy, sink: DiagnosticSink) -> None:
    """A ``-N per COUNT`` line in a block without ``limit``, and no ``score limit``: the
    deduction grows with the count and nothing stops it (one agent with 30 complaints at
    -5 each scores -150).  Bounded deductions (a block ``limit``) have a known floor that
    explain shows, and the author chose it: they are not reported."""
    if policy.first(ast.ScoreLimit) is not None:
        return
    for adjust in policy.of_type(ast.Adjust):
        if any(isinstance(line, ast.Limit) for line in adjust.lines):
            continue
        line = next((line for line in adjust.lines if isinstance(line, ast.AdjustPer) and line.amount < 0), None)
        if line is None:
            continue
        sink.report(
            "PR406",
            f'the score can fall below 0: adjustment "{adjust.name.value}" deducts {plain(-line.amount)} per '
            f"{_counted(line.per)} with no limit, and the policy has no `score limit`",
            line.span,
            "bound it: a `limit` in the adjustment (like limit -20 to +10) or `score limit 0 to 100` in the policy",
        )


def _counted(expression: ast.Expression) -> str:
    return expression.name if isinstance(expression, ast.Reference) else "count"


def _can_be_negative(expression: ast.Expression, symbols: Symbols, seen: set[str]) -> bool:
    match expression:
        case ast.NumberLiteral(value=value) | ast.PercentLiteral(value=value):
            return value < 0
        case ast.DurationLiteral(seconds=seconds):
            return seconds < 0
        case ast.Reference(name=name):
            if name in symbols.metrics:
                return symbols.metrics[name].type.text not in _NONNEGATIVE_KINDS
            if name in symbols.lets and name not in seen:
                return _can_be_negative(symbols.lets[name].expression, symbols, seen | {name})
            return False
        case ast.Negate(operand=operand):
            return not _is_zero(operand)
        case ast.Arithmetic(operator="-", right=right):
            return not _is_zero(right)
        case ast.Arithmetic(left=left, right=right):
            return _can_be_negative(left, symbols, seen) or _can_be_negative(right, symbols, seen)
        case ast.Call(function=function, arguments=arguments):
            signs = [_can_be_negative(argument, symbols, seen) for argument in arguments]
            match function.text:
                case "max":
                    return all(signs)
                case "abs":
                    return False
                case "clamp" if len(arguments) == 3:
                    return signs[1]
                case "round" if arguments:
                    return signs[0]
            return any(signs)
    return False


def _is_zero(expression: ast.Expression) -> bool:
    return isinstance(expression, ast.NumberLiteral) and expression.value == 0

