"""SMART targets and awards as the review packets and the team summary print them.

Targets (language.md §13) and awards (§14) do not change the score, so the packet shows
them apart from the KPI table: the awards an agent holds on the first page, under the
score; each target's goals beside the improvement plans (the goal in the metric's unit,
the baseline, this period's value, a bar of the progress made from baseline to goal with
a mark at the share of the time elapsed, the status in words and the deadline).  The team
summary counts the agents per status of each target and of each goal line, and lists the
holders of each award (荣誉榜).  Everything here is read from the typed result: the
progress, the time elapsed and the statuses are the engine's; this module only words them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfrules import ast
from perfrules.check.model import PolicyModel
from perfrules.result_model import AgentResult, GoalResult
from perfrules.texts import sentence, texts
from perfrules.values import duration_words, page_text as shown, percent_text, round_half_up

# The order of the statuses in the team summary: those judged, best first, then those that
# cannot be judged yet (no baseline or start day) or at all (no value).
STATUS_ORDER = ("achieved", "on_track", "at_risk", "missed", "not_met", "no_data")
COMPARISONS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


@dataclass
class GoalView:
    """One goal line of a target in a packet, every field ready to print."""

    measure: str  # the metric's label (顾客满意度), or the let's name
    goal: str  # ≥ 94%
    baseline: str
    value: str
    progress: str  # 完成 73%,应完成 66%
    status: str  # the status in words
    state: str  # the status code (a CSS class)
    deadline: str
    since: str | None  # 自 2026-10-01: the day the target was set
    bar: str | None  # the bar's filled width in percent (0 to 100), None without a progress
    mark: str | None  # where the time elapsed is marked, in percent, None without a start day


@dataclass
class TargetView:
    name: str
    status: str
    state: str
    goals: list[GoalView]


@dataclass
class AwardView:
    name: str
    streak: str | None  # 连续 3 期, for an award of several periods


@dataclass
class AgentStanding:
    """The targets and the awards of one agent's packet (empty lists: nothing is printed)."""

    targets: list[TargetView] = field(default_factory=list)
    awards: list[AwardView] = field(default_factory=list)


@dataclass
class StatusRow:
    name: str
    counts: list[int]
    total: int
    goal: bool = False  # a goal line under its target


@dataclass
class Honour:
    name: str
    streak: str | None
    holders: list[str]


@dataclass
class TeamStanding:
    """How many agents per status of each target and goal line, and the holders of each award."""

    statuses: list[str] = field(default_factory=list)
    rows: list[StatusRow] = field(default_factory=list)
    honours: list[Honour] = field(default_factory=list)


class Standing:
    """The targets and awards of one policy run, for its packets and its team summary."""

    def __init__(self, model: PolicyModel, results: list[AgentResult], language: str,
                 display: Callable[[ast.Metric | None, Any], str]):
        self.model = model
        self.display = display  # a metric's value as the packet shows it (report.model.display_value)
        self.results = results
        self.language = language
        self.t = texts(language)

    # ---- one agent ----------------------------------------------------------------------------

    def agent(self, result: AgentResult) -> AgentStanding:
        return AgentStanding(
            targets=[TargetView(name=target.name, status=self.t[target.status], state=target.status,
                                goals=[self._goal(goal) for goal in target.goals])
                     for target in result.targets],
            awards=[AwardView(name=award.name, streak=self._streak(award.periods)) for award in result.awards],
        )

    def _goal(self, goal: GoalResult) -> GoalView:
        progress, expected = _percents(goal.progress, goal.expected)
        if progress is not None and expected is not None:
            said = sentence(self.language, "progress_both", progress=progress, expected=expected)
        elif progress is not None:
            said = sentence(self.language, "progress_only", progress=progress)
        elif expected is not None:
            said = sentence(self.language, "expected_only", expected=expected)
        else:
            said = "—"
        return GoalView(
            measure=self._measure(goal.name),
            goal=f"{COMPARISONS.get(goal.cmp, goal.cmp)} {self._shown(goal, goal.goal)}",
            baseline=self._shown(goal, goal.baseline), value=self._shown(goal, goal.value), progress=said,
            status=self.t[goal.status], state=goal.status, deadline=goal.deadline or "—",
            since=sentence(self.language, "since", start=goal.start) if goal.start else None,
            bar=_width(goal.progress), mark=_width(goal.expected),
        )

    def _measure(self, name: str) -> str:
        metric = self.model.metric(name)
        return (metric.label if metric is not None else None) or name

    def _shown(self, goal: GoalResult, value) -> str:
        """A goal's value as the packet prints its metric's values (``94%``, ``8 分钟``); a let is
        written by its kind."""
        metric = self.model.metric(goal.name)
        if metric is None and isinstance(value, Decimal):
            if goal.value_kind == "duration":
                return duration_words(value, self.language)
            if goal.value_kind == "percent":
                return percent_text(round_half_up(value * 100, 2) / 100)
        return self.display(metric, value)

    def _streak(self, periods: int) -> str | None:
        return sentence(self.language, "award_streak", n=periods) if periods > 1 else None

    # ---- the team -----------------------------------------------------------------------------

    def team(self) -> TeamStanding:
        standing = TeamStanding(statuses=[self.t[status] for status in STATUS_ORDER])
        for target in self.model.targets:
            name = target.name.value
            held = [found for result in self.results for found in result.targets if found.name == name]
            if not held:  # a target for a role nobody in this period has
                continue
            standing.rows.append(self._row(name, [found.status for found in held]))
            for number, line in enumerate(target.lines):
                goals = [found.goals[number] for found in held]
                label = f"{self._measure(line.metric.text)} {self._team_goal(goals)}"
                standing.rows.append(self._row(label, [goal.status for goal in goals], goal=True))
        for award in self.model.awards:
            title = award.title.value
            holders = [self._holder(result) for result in self.results
                       if any(held.name == title for held in result.awards)]
            standing.honours.append(Honour(name=title, streak=self._streak(award.periods or 1), holders=holders))
        return standing

    def _team_goal(self, goals: list[GoalResult]) -> str:
        """``≥ 94%``; a goal from a data column differs between agents: ``≥ 各人目标``."""
        shown = {self._shown(goal, goal.goal) for goal in goals if goal.goal is not None}
        value = self.t["own_goals"] if len(shown) > 1 else (shown.pop() if shown else "—")
        return f"{COMPARISONS.get(goals[0].cmp, goals[0].cmp)} {value}"

    @staticmethod
    def _row(name: str, statuses: list[str], goal: bool = False) -> StatusRow:
        return StatusRow(name=name, counts=[statuses.count(status) for status in STATUS_ORDER],
                         total=len(statuses), goal=goal)

    def _holder(self, result: AgentResult) -> str:
        who = f"{shown(result.name)} ({shown(result.agent_id)})" if result.name else shown(result.agent_id)
        return f"{who} · {shown(result.team)}" if result.team else who


def _percents(progress: Decimal | None, expected: Decimal | None) -> tuple[str | None, str | None]:
    """Progress and time elapsed as percents, whole where that tells the truth (0.6 → 60%,
    0.6593 → 66%), with one or two decimals where whole percents would not: a progress short of
    the goal never reads 100% nor a start 0%, and two different shares never read alike (an
    agent at risk with 0.6590 of the way done against 0.6593 of the time reads 65.9% / 65.93%,
    never 66% / 66%)."""
    shares = [share for share in (progress, expected) if share is not None]
    for places in (0, 1, 2, 4):
        shown = [percent_text(round_half_up(share * 100, places) / 100) for share in shares]
        honest = all((text == "100%") == (share == 1) and (text == "0%") == (share == 0)
                     for share, text in zip(shares, shown))
        if honest and len(set(shown)) == len(set(shares)):
            break
    found = iter(shown)
    return (next(found) if progress is not None else None), (next(found) if expected is not None else None)


def _width(share: Decimal | None) -> str | None:
    """A CSS width in percent, clamped to 0..100 (the engine clamps already; a bar never overflows)."""
    if share is None:
        return None
    return f"{min(max(round_half_up(share * 100, 1), Decimal(0)), Decimal(100))}%"
