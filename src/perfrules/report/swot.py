"""The derived half of a packet's SWOT: what the numbers themselves say, each line with the
agent's own figure and the comparison that matters.

Strengths are KPIs at their best level or in the top 20% of the group; weaknesses are KPIs
at their lowest level or in the bottom 20% (both said against the team's median);
opportunities are KPIs close to the next level (the distance computed from the rule
thresholds) or improving three periods in a row; threats are what may happen next: a KPI
declining three periods in a row, a level about to be lost (close above its threshold), a red
line one incident away.  Facts of the period (a red line hit, a KPI without data) are kept
apart.  A KPI measured on a small sample is neither a strength nor a weakness.  The policy's
own ``swot`` notes and the supervisor's notes are added by the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from perfrules import ast
from perfrules.check.coverage import Subject, ValueSet, condition_set, metric_subject
from perfrules.check.model import KpiModel, PolicyModel
from perfrules.check.symbols import Symbols
from perfrules.texts import sentence
from perfrules.values import duration_words, plain, round_half_up

KINDS = ("strength", "weakness", "opportunity", "threat")
CLOSE = {"percent": Decimal("0.05"), "count": Decimal(2)}


@dataclass
class KpiFacts:
    """What the SWOT rules need to know of one KPI for one agent."""

    name: str
    status: str
    points: Decimal | None
    rule: int | None  # the ordinal of the rule that decided
    level_label: str | None
    value: Decimal | None
    reason: str | None
    history: list[Decimal | None]  # measured values, oldest first, current last
    group_position: tuple[int, int] | None  # (position among the group, group size), best first
    shown: str = ""  # the value as the KPI table prints it (93.9%, 8.5 分钟)
    median: Median | None = None
    low_sample: bool = False  # a sample far below the group's: kept out of strengths and weaknesses


@dataclass
class Median:
    """The median a KPI's value is compared with: of the agent's team, or of everyone evaluated."""

    scope: str  # "team" | "all"
    value: Decimal
    shown: str


def derive_swot(language: str, kpis: list[KpiFacts], plans: dict, vetoes: list[tuple[str, bool, bool]],
                period: str = "month") -> dict[str, list[str]]:
    """``plans`` maps KPI name to its :class:`KpiThresholds`; ``vetoes`` lists (name, hit, near).

    Every line names the agent's own figure and the comparison that makes it a strength or a
    risk: the level, the median of the team, the last three periods, the next threshold
    (``顾客满意度 93.9%(优秀),高于团队中位数 90.1%,连续三个月提升``).  Besides the four
    SWOT kinds, ``fact`` holds what happened this period and is not an assessment: a red line
    hit, a KPI left out or substituted for want of data.  Threats are what may happen next (a
    decline, a level about to be lost, a red line one incident away), never what already did.
    A KPI at the top of its scale is a strength only when the scale has more than one level
    above the lowest: passing a pass/fail KPI is no distinction.  A KPI measured on a small
    sample (``low_sample``) is neither a strength nor a weakness.
    """
    found: dict[str, list[str]] = {kind: [] for kind in (*KINDS, "fact")}
    for kpi in kpis:
        thresholds = plans.get(kpi.name)
        if kpi.status == "excluded":
            found["fact"].append(sentence(language, "was_excluded", kpi=kpi.name, reason=kpi.reason))
            continue
        if kpi.status == "substituted":
            found["fact"].append(sentence(language, "was_substituted", kpi=kpi.name, reason=kpi.reason))
        best, lowest = (thresholds.best, thresholds.lowest) if thresholds else (None, None)
        steps = thresholds.steps if thresholds else 0
        scored = kpi.status == "scored" and kpi.value is not None
        direction = thresholds.direction if thresholds else None
        trend = _trend(kpi.history, direction)
        trend_clause = _trend_clause(language, kpi.history, direction, period) if trend else None
        median = [_median_clause(language, kpi)] if kpi.median is not None else []
        strength = False
        if not kpi.low_sample:
            if scored and best is not None and steps > 2 and kpi.points == best:
                strength = True
                found["strength"].append(_line(language, kpi, median or [sentence(language, "at_best")],
                                               trend_clause if trend == 1 else None))
            elif kpi.group_position and _in_share(kpi.group_position, best_end=True):
                strength = True
                found["strength"].append(_line(language, kpi, [sentence(language, "in_top")] + median,
                                               trend_clause if trend == 1 else None))
            if scored and lowest is not None and best != lowest and kpi.points == lowest:
                found["weakness"].append(_line(language, kpi, median or [sentence(language, "at_lowest")]))
            elif kpi.group_position and _in_share(kpi.group_position, best_end=False):
                found["weakness"].append(_line(language, kpi, [sentence(language, "in_bottom")] + median))
        if thresholds is not None and scored:
            step = thresholds.next_level(kpi.value, kpi.rule)
            if step is not None:
                change, bound, label = step
                found["opportunity"].append(_line(language, kpi, [sentence(
                    language, "close_to_next", change=thresholds.change_text(change, language), level=label,
                    threshold=thresholds.value_text(bound))]))
            margin = thresholds.margin(kpi.value, kpi.rule)
            if margin is not None:
                change, bound, label = margin
                clause = sentence(language, "on_floor", level=label, threshold=thresholds.value_text(bound)) if change == 0 \
                    else sentence(language, "near_floor", change=thresholds.change_text(change, language, worse=True),
                                  level=label, threshold=thresholds.value_text(bound))
                found["threat"].append(_line(language, kpi, [clause]))
        if trend is not None and (trend < 0 or not strength):
            values = " → ".join(thresholds.value_text(value) for value in kpi.history[-3:])
            found["opportunity" if trend > 0 else "threat"].append(
                _line(language, kpi, [], trend_clause + sentence(language, "trend_values", values=values)))
    for name, hit, near in vetoes:
        if hit:
            found["fact"].append(sentence(language, "veto_hit", name=name))
        elif near:
            found["threat"].append(sentence(language, "veto_near", name=name))
    return found


def _line(language: str, kpi: KpiFacts, clauses: list[str], trend: str | None = None) -> str:
    """``顾客满意度 93.9%(优秀),高于团队中位数 90.1%,连续三个月提升``: the KPI, its value and
    level, then the comparisons."""
    head = sentence(language, "swot_head", kpi=kpi.name, value=kpi.shown or "—")
    if kpi.level_label and kpi.status == "scored":
        head += sentence(language, "swot_level", level=kpi.level_label)
    parts = [head, *clauses] + ([trend] if trend else [])
    return sentence(language, "clause_separator").join(parts)


def _median_clause(language: str, kpi: KpiFacts) -> str:
    median = kpi.median
    scope = sentence(language, f"scope_{median.scope}")
    if median.shown == kpi.shown or kpi.value is None:
        key = "at_median"
    else:
        key = "above_median" if kpi.value > median.value else "below_median"
    return sentence(language, key, scope=scope, median=median.shown)


def _trend_clause(language: str, history: list[Decimal | None], direction: str | None, period: str) -> str:
    """``连续三个月提升``: the movement of the value itself (a handling time 连续三个月下降 is good)."""
    last = history[-3:]
    run = sentence(language, f"run_{period}" if period in ("month", "quarter", "year") else "run_period")
    if last[-1] < last[0]:
        return sentence(language, "trend_down", run=run)
    return sentence(language, "trend_up" if direction == "higher" else "trend_up_plain", run=run)


def _in_share(position: tuple[int, int], best_end: bool, share: Decimal = Decimal("0.2")) -> bool:
    place, size = position
    if size < 5:
        return False
    cutoff = math.ceil(share * size)
    return place <= cutoff if best_end else place > size - cutoff


def _trend(history: list[Decimal | None], direction: str | None) -> int | None:
    """+1 when the last three values improve step by step, -1 when they worsen."""
    last = history[-3:]
    if len(last) < 3 or any(value is None for value in last) or direction is None:
        return None
    sign = 1 if direction == "higher" else -1
    steps = [sign * (later - earlier) for earlier, later in zip(last, last[1:])]
    if all(step > 0 for step in steps):
        return 1
    if all(step < 0 for step in steps):
        return -1
    return None


class KpiThresholds:
    """A KPI's rules read as value ranges: best and lowest points, the next level's distance."""

    def __init__(self, kpi: KpiModel, subject: Subject | None, symbols: Symbols, level_labels: dict[str, str],
                 show=None):
        self.subject = subject
        self.metric = kpi.metric
        self.show = show  # show(metric, value): a value as the packet prints the KPI's values
        self.direction = subject.direction if subject else None
        self.rules: list[tuple[int, Decimal, str, ValueSet | None]] = []
        self.ranges_known = subject is not None
        matched = None
        for identity in kpi.rules:
            rule = identity.node
            if not isinstance(rule, ast.KpiRule):
                continue
            points, label = _outcome(rule.outcome, symbols, level_labels)
            values = None
            if self.ranges_known:
                raw = subject.domain if rule.condition is None else condition_set(rule.condition, subject)
                if raw is None:  # a rule the ranges cannot express: distances would be guesses
                    self.ranges_known = False
                else:
                    values = raw if matched is None else raw.minus(matched, subject.domain)
                    matched = raw if matched is None else matched.union(raw)
            self.rules.append((identity.ordinal, points, label, values))
        outcomes = [points for _, points, _, _ in self.rules if points is not None]
        self.best = max(outcomes) if outcomes else None
        self.lowest = min(outcomes) if outcomes else None
        self.steps = len(set(outcomes))  # distinct points the rules give: 2 is a pass/fail scale

    def next_step(self, value: Decimal, rule: int | None) -> tuple[Decimal, Decimal, str] | None:
        """(distance, threshold, label) of the nearest rule giving more points than rule ``rule``
        (its ordinal) to ``value``: what the agent must reach for the next level."""
        if not self.ranges_known or self.direction is None:
            return None
        current = next((points for ordinal, points, _, _ in self.rules if ordinal == rule), None)
        if current is None:
            return None
        best: tuple[Decimal, Decimal, str] | None = None
        for _, points, label, values in self.rules:
            if points is None or points <= current or values is None or values.is_empty():
                continue
            if self.direction == "higher":
                bound = values.intervals[0].low
                distance = bound - value if bound is not None else None
            else:
                bound = values.intervals[-1].high
                distance = value - bound if bound is not None else None
            if distance is None or distance <= 0:
                continue
            if best is None or distance < best[0]:
                best = (distance, bound, label)
        return best

    def lines(self) -> list[tuple[Decimal, str]]:
        """(threshold, label) where each level above the lowest begins: the lines a trend chart
        draws (90% 优秀, 80% 合格).  Empty when the rules are not ranges of one value."""
        if not self.ranges_known or self.direction is None:
            return []
        found = []
        for _, points, label, values in self.rules:
            if points is None or points == self.lowest or values is None or values.is_empty():
                continue
            bound = values.intervals[0].low if self.direction == "higher" else values.intervals[-1].high
            if bound is not None:
                found.append((bound, label))
        return found

    def next_level(self, value: Decimal, rule: int | None) -> tuple[Decimal, Decimal, str] | None:
        """(distance, threshold, label) of the next level (:meth:`next_step`), only when it is close."""
        step = self.next_step(value, rule)
        if step is None or not self._close(step[0], value):
            return None
        return step

    def margin(self, value: Decimal, rule: int | None) -> tuple[Decimal, Decimal, str] | None:
        """(distance, threshold, label) when ``value`` is close above the threshold of its own
        level (rule ``rule``) and a level with fewer points lies beyond: the level may be lost
        next period.  None at the lowest level or far from the edge."""
        if not self.ranges_known or self.direction is None:
            return None
        own = next(((points, label, values) for ordinal, points, label, values in self.rules if ordinal == rule), None)
        if own is None or own[0] is None or own[0] == self.lowest or own[2] is None or own[2].is_empty():
            return None
        _, label, values = own
        domain = self.subject.domain.intervals[0] if self.subject.domain.intervals else None
        if self.direction == "higher":
            bound = values.intervals[0].low
            edge = domain.low if domain is not None else None
            distance = value - bound if bound is not None else None
        else:
            bound = values.intervals[-1].high
            edge = domain.high if domain is not None else None
            distance = bound - value if bound is not None else None
        # A quarter of the distance that counts as close to the next level (1.25 percentage points;
        # for a count, exactly on the line): a warning for the few on the edge, not for everyone.
        if distance is None or distance < 0 or bound == edge or not self._close(distance * 4, value):
            return None
        return distance, bound, label

    def _close(self, distance: Decimal, value: Decimal) -> bool:
        unit = self.subject.unit
        if unit in CLOSE:
            return distance <= CLOSE[unit]
        reference = abs(value) if value else Decimal(1)
        return distance <= max(reference * Decimal("0.1"), Decimal(1) if self.subject.domain.integral else Decimal(0))

    def value_text(self, value: Decimal | None) -> str:
        if value is None:
            return "-"
        if self.show is not None and self.metric is not None:
            return self.show(self.metric, value)
        return self.subject.text(value) if self.subject else plain(round_half_up(value))

    def change_text(self, change: Decimal, language: str, worse: bool = False) -> str:
        """``提升 1.2 个百分点``, ``缩短 1 分钟`` (towards the better); with ``worse``, the way
        that loses a level (``下降 0.5 个百分点``, ``延长 1 分钟``)."""
        unit = self.subject.unit
        if unit == "percent":
            amount = sentence(language, "percentage_points", value=plain(round_half_up(change * 100, 1)))
        elif unit == "duration":
            amount = duration_words(change, language)
        else:
            amount = plain(round_half_up(change))
        lower = (self.direction == "lower") != worse  # the change that is asked for makes the value smaller
        counted = self.metric is not None and self.metric.type.text == "count"
        if lower:
            key = "less_time" if unit == "duration" else ("less_points" if unit == "percent" else
                                                          "fewer" if counted or not worse else "lower_by")
        else:
            key = "more_time" if unit == "duration" else ("more_points" if unit == "percent" else
                                                          "more" if counted or not worse else "higher_by")
        return sentence(language, key, amount=amount)


def _outcome(outcome: ast.Outcome, symbols: Symbols, labels: dict[str, str]) -> tuple[Decimal | None, str]:
    if isinstance(outcome, ast.PointsOutcome):
        return outcome.points, plain(outcome.points)
    level = symbols.levels.get(outcome.level.text)
    return (level.points if level else None), labels.get(outcome.level.text, outcome.level.text)


def thresholds_for(model: PolicyModel, show=None) -> dict[str, KpiThresholds]:
    """Each KPI's thresholds; ``show(metric, value)`` writes values as the packet does (``10 分钟``)."""
    symbols = model.symbols
    labels = {level.name.text: (level.label.value if level.label else level.name.text) for level in model.policy.levels}
    result = {}
    for kpi in model.kpis:
        measure = kpi.measure
        subject = metric_subject(symbols, measure.name) if isinstance(measure, ast.Reference) else None
        result[kpi.name] = KpiThresholds(kpi, subject, symbols, labels, show)
    return result


def veto_status(veto: ast.Veto, values: dict[str, Decimal | None], hit: bool) -> tuple[str, bool, bool]:
    """(name, hit, one incident away) for a veto on ``count > N`` or ``count >= N``."""
    near = False
    condition = veto.condition
    if not hit and isinstance(condition, ast.Compare) and isinstance(condition.left, ast.Reference) \
            and isinstance(condition.right, ast.NumberLiteral) and condition.operator in (">", ">="):
        value = values.get(condition.left.name)
        if value is not None:
            limit = condition.right.value
            # A zero-tolerance line (`> 0`) is one incident away for everyone: say it only to
            # agents who already have incidents and are one short of the line.
            near = value >= 1 and value == (limit if condition.operator == ">" else limit - 1)
    return veto.name.value, hit, near
