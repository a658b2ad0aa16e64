"""The coverage pass: what values each first-match rule really matches (spec §6).

Rules whose conditions compare one value with constants (``csat >= 90%``, joined
with ``and``/``or``/``not``) are turned into exact sets of intervals over that
value's domain (a percent runs from 0% to 100%, a count over whole numbers from 0).
From those sets the pass finds values that no rule matches (PR402), rules that an
earlier rule already covers (PR403), and, for metrics declared ``higher is better``
or ``lower is better``, rules that give more points to a worse value (PR404).
Rules it cannot read this way are left alone: the pass only speaks when it is sure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from perfrules import ast
from perfrules.check.symbols import Symbols
from perfrules.diagnostics import DiagnosticSink
from perfrules.values import duration_text, percent_text, plain

# ---- exact interval sets ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """A range of values; ``None`` bounds are infinite."""

    low: Decimal | None
    low_closed: bool
    high: Decimal | None
    high_closed: bool

    def is_empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (self.low == self.high and not (self.low_closed and self.high_closed))


EVERYTHING = Interval(None, False, None, False)


def _integral(interval: Interval) -> Interval:
    """The same whole numbers, as a closed interval."""
    low, high = interval.low, interval.high
    if low is not None:
        low = Decimal(math.ceil(low)) if interval.low_closed else Decimal(math.floor(low) + 1)
    if high is not None:
        high = Decimal(math.floor(high)) if interval.high_closed else Decimal(math.ceil(high) - 1)
    return Interval(low, low is not None, high, high is not None)


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A union of disjoint intervals, sorted, within a domain."""

    intervals: tuple[Interval, ...]
    integral: bool = False

    @staticmethod
    def of(intervals: Sequence[Interval], integral: bool) -> "ValueSet":
        cleaned = [_integral(i) if integral else i for i in intervals]
        cleaned = sorted((i for i in cleaned if not i.is_empty()), key=_low_key)
        merged: list[Interval] = []
        for interval in cleaned:
            if merged and _touches(merged[-1], interval, integral):
                last = merged[-1]
                high, high_closed = _max_high(last, interval)
                merged[-1] = Interval(last.low, last.low_closed, high, high_closed)
            else:
                merged.append(interval)
        return ValueSet(tuple(merged), integral)

    def is_empty(self) -> bool:
        return not self.intervals

    def union(self, other: "ValueSet") -> "ValueSet":
        return ValueSet.of(self.intervals + other.intervals, self.integral)

    def intersect(self, other: "ValueSet") -> "ValueSet":
        parts = [_intersect(a, b) for a in self.intervals for b in other.intervals]
        return ValueSet.of(parts, self.integral)

    def complement(self, domain: "ValueSet") -> "ValueSet":
        gaps: list[Interval] = []
        low, low_closed = None, False
        for interval in self.intervals:
            if interval.low is not None:
                gaps.append(Interval(low, low_closed, interval.low, not interval.low_closed))
            if interval.high is None:
                return ValueSet.of(gaps, self.integral).intersect(domain)
            low, low_closed = interval.high, not interval.high_closed
        gaps.append(Interval(low, low_closed, None, False))
        return ValueSet.of(gaps, self.integral).intersect(domain)

    def minus(self, other: "ValueSet", domain: "ValueSet") -> "ValueSet":
        return self.intersect(other.complement(domain))

    def covers(self, other: "ValueSet", domain: "ValueSet") -> bool:
        return other.minus(self, domain).is_empty()

    def entirely_below(self, other: "ValueSet") -> bool:
        """Every value of self is at most every value of other."""
        top = self.intervals[-1]
        bottom = other.intervals[0]
        if top.high is None or bottom.low is None:
            return False
        return top.high <= bottom.low


def _low_key(interval: Interval):
    return (interval.low is not None, interval.low if interval.low is not None else 0, not interval.low_closed)


def _touches(left: Interval, right: Interval, integral: bool) -> bool:
    if left.high is None or right.low is None:
        return True
    if integral:
        return right.low <= left.high + 1
    return right.low < left.high or (right.low == left.high and (left.high_closed or right.low_closed))


def _max_high(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.high is None or b.high is None:
        return None, False
    if a.high == b.high:
        return a.high, a.high_closed or b.high_closed
    return (a.high, a.high_closed) if a.high > b.high else (b.high, b.high_closed)


def _intersect(a: Interval, b: Interval) -> Interval:
    if a.low is None:
        low, low_closed = b.low, b.low_closed
    elif b.low is None or a.low > b.low:
        low, low_closed = a.low, a.low_closed
    elif a.low == b.low:
        low, low_closed = a.low, a.low_closed and b.low_closed
    else:
        low, low_closed = b.low, b.low_closed
    if a.high is None:
        high, high_closed = b.high, b.high_closed
    elif b.high is None or a.high < b.high:
        high, high_closed = a.high, a.high_closed
    elif a.high == b.high:
        high, high_closed = a.high, a.high_closed and b.high_closed
    else:
        high, high_closed = b.high, b.high_closed
    return Interval(low, low_closed, high, high_closed)


# ---- the value a block of rules reads ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subject:
    """The one value a block of rules tests, its domain and how to write its values."""

    name: str
    domain: ValueSet
    unit: str  # percent | duration | number
    direction: str | None

    def text(self, value: Decimal) -> str:
        if self.unit == "percent":
            return percent_text(value)
        if self.unit == "duration":
            return duration_text(value)
        return plain(value)


DOMAINS = {
    "percent": (Interval(Decimal(0), True, Decimal(1), True), False),
    "count": (Interval(Decimal(0), True, None, False), True),
    "duration": (Interval(Decimal(0), True, None, False), False),
    "money": (Interval(Decimal(0), True, None, False), False),
    "number": (EVERYTHING, False),
}


def metric_subject(symbols: Symbols, name: str) -> Subject | None:
    metric = symbols.metrics.get(name)
    if metric is None:
        if name in symbols.lets:
            return Subject(name, ValueSet((EVERYTHING,)), "number", None)
        return None
    domain = DOMAINS.get(metric.type.text)
    if domain is None:
        return None
    interval, integral = domain
    unit = metric.type.text if metric.type.text in ("percent", "duration") else "number"
    return Subject(name, ValueSet.of([interval], integral), unit, metric.direction)


def is_fraction(number: Decimal) -> bool:
    """A bare number that stands for a share beside a percent: 0 ≤ n < 1 (``0.95`` is 95%).

    1 itself is refused (PR201): HR may mean 1% or 100%, and a guess could pay the wrong bonus.
    """
    return 0 <= number < 1


def constant_value(expression: ast.Expression, subject: Subject) -> Decimal | None:
    match expression:
        case ast.PercentLiteral(value=value) if subject.unit in ("percent", "number"):
            return value
        case ast.DurationLiteral(seconds=seconds) if subject.unit == "duration":
            return seconds
        case ast.NumberLiteral(value=value) if subject.unit == "number" or (
                subject.unit == "percent" and is_fraction(value)):
            return value  # beside a percent, a bare number between 0 and 1 is a fraction (spec §4)
        case ast.Negate(operand=operand):
            inner = constant_value(operand, subject)
            return -inner if inner is not None else None
    return None


FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


def _is_subject(expression: ast.Expression, subject: Subject) -> bool:
    if isinstance(expression, ast.ScoreValue):
        return subject.name == "score"
    return isinstance(expression, ast.Reference) and expression.name == subject.name


def condition_set(condition: ast.Expression, subject: Subject) -> ValueSet | None:
    """The values of ``subject`` for which the condition holds, or None if unknown."""
    integral = subject.domain.integral
    match condition:
        case ast.Compare(operator=operator, left=left, right=right):
            if _is_subject(left, subject):
                constant = constant_value(right, subject)
            elif _is_subject(right, subject):
                constant, operator = constant_value(left, subject), FLIPPED[operator]
            else:
                return None
            if constant is None:
                return None
            intervals = {
                ">=": [Interval(constant, True, None, False)],
                ">": [Interval(constant, False, None, False)],
                "<=": [Interval(None, False, constant, True)],
                "<": [Interval(None, False, constant, False)],
                "==": [Interval(constant, True, constant, True)],
                "!=": [Interval(None, False, constant, False), Interval(constant, False, None, False)],
            }[operator]
            return ValueSet.of(intervals, integral).intersect(subject.domain)
        case ast.Logical(operator=operator, left=left, right=right):
            left_set, right_set = condition_set(left, subject), condition_set(right, subject)
            if left_set is None or right_set is None:
                return None
            return left_set.intersect(right_set) if operator == "and" else left_set.union(right_set)
        case ast.Not(operand=operand):
            inner = condition_set(operand, subject)
            return inner.complement(subject.domain) if inner is not None else None
    return None


def describe(values: ValueSet, subject: Subject, as_operators: bool = False) -> str:
    """``below 90%``, ``from 80% to below 90%`` (or ``>= 95%`` with ``as_operators``)."""
    domain = subject.domain.intervals[0] if subject.domain.intervals else EVERYTHING
    parts = []
    for interval in values.intervals:
        low = None if interval.low is not None and interval.low == domain.low and interval.low_closed else interval.low
        high = None if interval.high is not None and interval.high == domain.high and interval.high_closed else interval.high
        if low is None and high is None:
            parts.append("every value")
        elif low is not None and high is not None and low == high:
            parts.append(("== " if as_operators else "exactly ") + subject.text(low))
        elif low is None:
            word = ("<=" if interval.high_closed else "<") if as_operators else ("at most" if interval.high_closed else "below")
            parts.append(f"{word} {subject.text(high)}")
        elif high is None:
            text = subject.text(low)
            if as_operators:
                parts.append(f"{'>=' if interval.low_closed else '>'} {text}")
            else:
                parts.append(f"{text} or more" if interval.low_closed else f"above {text}")
        else:
            if interval.low_closed:
                start, end = f"from {subject.text(low)}", "to" if interval.high_closed else "to below"
            else:
                start, end = f"above {subject.text(low)}", "up to" if interval.high_closed else "and below"
            parts.append(f"{start} {end} {subject.text(high)}")
    return " or ".join(parts)


# ---- the analyses -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleView:
    """What the analysis needs of one rule: condition (None for else), points, span."""

    condition: ast.Expression | None
    points: Decimal | None
    span: ast.Span


def check_rules(
    rules: Sequence[RuleView],
    subject: Subject,
    sink: DiagnosticSink,
    unmatched_at: ast.Span,
    unmatched_what: str,
) -> None:
    """PR402, PR403 and PR404 for one first-match block of rules on ``subject``."""
    domain = subject.domain
    matched = ValueSet((), domain.integral)
    all_known = True
    effective: list[tuple[RuleView, ValueSet]] = []
    sets: list[tuple[RuleView, ValueSet]] = []
    for rule in rules:
        if rule.condition is None:
            if all_known:
                effective.append((rule, matched.complement(domain)))
            matched = domain
            break
        values = condition_set(rule.condition, subject)
        if values is None:
            all_known = False
            continue
        if values.is_empty():
            sink.report(
                "PR403",
                f"line {rule.span.line} can never match: {subject.name} is never {_condition_text(rule.condition)}"
                f" ({subject.name} runs {describe(domain, subject)})",
                rule.span,
                "check the threshold",
            )
        elif matched.covers(values, domain):
            _report_unreachable(rule, values, sets, subject, domain, sink)
        if all_known:
            effective.append((rule, values.minus(matched, domain)))
        sets.append((rule, values))
        matched = matched.union(values)
    if all_known:
        uncovered = matched.complement(domain)
        if not uncovered.is_empty():
            what = (f"no value of {subject.name}" if uncovered == domain
                    else f"{subject.name} {describe(uncovered, subject)}")
            sink.report(
                "PR402",
                f"{what} matches no {unmatched_what}",
                unmatched_at,
                "add an else rule, or a rule for those values",
            )
        _report_worse_rewarded(effective, subject, sink)


def _condition_text(condition: ast.Expression) -> str:
    if isinstance(condition, ast.Compare) and hasattr(condition.right, "text"):
        return f"{condition.operator} {condition.right.text}"
    return "true here"


def _report_unreachable(rule, values, earlier, subject, domain, sink) -> None:
    covering = [other for other, other_values in earlier if other_values.covers(values, domain)]
    condition = describe(values, subject, as_operators=True)
    if covering:
        who = f"line {covering[0].span.line} already matches"
    else:
        lines = ", ".join(str(other.span.line) for other, _ in earlier)
        who = f"lines {lines} already match"
    sink.report(
        "PR403",
        f"line {rule.span.line} can never match: {who} every value {condition}",
        rule.span,
        "reorder the rules from the strictest to the loosest",
    )


def _report_worse_rewarded(effective, subject, sink) -> None:
    if subject.direction is None:
        return
    ranked = [(rule, values) for rule, values in effective if not values.is_empty() and rule.points is not None]
    ranked.sort(key=lambda item: _low_key(item[1].intervals[0]))
    for (lower_rule, lower_values), (upper_rule, upper_values) in zip(ranked, ranked[1:]):
        if not lower_values.entirely_below(upper_values):
            continue
        if subject.direction == "higher" and upper_rule.points < lower_rule.points:
            worse, better = lower_rule, upper_rule
        elif subject.direction == "lower" and lower_rule.points < upper_rule.points:
            worse, better = upper_rule, lower_rule
        else:
            continue
        worse_values = lower_values if worse is lower_rule else upper_values
        better_values = upper_values if worse is lower_rule else lower_values
        sink.report(
            "PR404",
            f"line {worse.span.line} gives {plain(worse.points)} points to {subject.name} "
            f"{describe(worse_values, subject)}, more than line {better.span.line} gives to the better values "
            f"{describe(better_values, subject)} ({plain(better.points)}); {subject.name} is declared "
            f"{subject.direction} is better",
            worse.span,
            "check the order of the thresholds and the levels they give",
        )


def check_linear_direction(line: ast.PointsLinear, subject: Subject, sink: DiagnosticSink) -> None:
    start, end = constant_value(line.from_value, subject), constant_value(line.to_value, subject)
    if start is None or end is None or start == end or subject.direction is None:
        return
    rising = (line.to_points - line.from_points) / (end - start)
    if (subject.direction == "higher" and rising < 0) or (subject.direction == "lower" and rising > 0):
        sink.report(
            "PR404",
            f"this line gives more points to worse values; {subject.name} is declared {subject.direction} is better",
            line.span,
            "swap the points of the two ends",
        )


