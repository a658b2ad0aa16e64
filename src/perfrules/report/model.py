"""What a review packet and a team summary say, as plain data for the templates.

:func:`build_report` reads an evaluation (the result document of ``evaluate`` and
the same result rows) and, for each policy run, the earlier periods' results for
the trends.  It returns :class:`AgentPacket` and :class:`TeamSummary` objects whose
fields are ready to print: values with their units, thresholds as written in the
policy, the SWOT lines, plans with due dates.  No number is computed twice: scores,
levels, points, ranks and bonuses come from the evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from decimal import Decimal

from perfrules import ast
from perfrules.check.model import KpiModel
from perfrules.engine.run import Evaluation, PolicyRun
from perfrules.report import charts
from perfrules.report.notes import Note
from perfrules.report.peers import MIN_GROUP, Peers, floor_text
from perfrules.report.standards import Standard, appendix_rules, kpi_standard
from perfrules.report.swot import KINDS, KpiFacts, Median, derive_swot, thresholds_for, veto_status
from perfrules.texts import sentence, texts
from perfrules.result_model import AgentResult, KpiResult, PlanDue, PolicyStamp
from perfrules.results import build_results, missing_reason
from perfrules.report.standing import AgentStanding, Standing, TeamStanding
from perfrules.values import DURATION_WORDS, SECONDS_PER_UNIT, page_text as shown, percent_text, plain, round_half_up


# The most characters the SWOT boxes hold laid out two by two (AgentPacket.swot_stacked).
SWOT_GRID_MOST = 800


def display_value(metric: ast.Metric | None, value, language: str) -> str:
    """A metric value as people read it: 92.5%, 8.5 分钟, 8,000.00, 3."""
    if value is None:
        return "—"
    if metric is None:
        return plain(round_half_up(value)) if isinstance(value, Decimal) else str(value)
    kind = metric.type.text
    if kind == "percent":
        return percent_text(round_half_up(value * 100, 2) / 100)
    if kind == "duration":
        unit = metric.unit or "s"
        amount = round_half_up(value / SECONDS_PER_UNIT[unit], 2)
        return f"{plain(amount)} {DURATION_WORDS['en' if language == 'en' else 'zh'][unit]}"
    if kind == "money":
        return f"{round_half_up(value):,.2f}"
    if kind == "count":  # a whole number; an average of counts to two decimals
        return plain(round_half_up(value))
    if kind == "bool":
        return str(value)
    return plain(round_half_up(value)) if isinstance(value, Decimal) else str(value)


def average_text(metric: ast.Metric | None, values: list[Decimal], places: int, language: str) -> str:
    """The mean of ``values`` as the metric's values are shown, with exactly ``places`` decimals
    (a column reads alike: 91.8%, 95.0%; an average of counts 0.7, never 2/3 in 28 digits)."""
    if not values:
        return "—"
    mean = sum(values, Decimal(0)) / len(values)
    kind = metric.type.text if metric is not None else None
    if kind == "percent":
        return f"{round_half_up(mean * 100, places):.{places}f}%"
    if kind == "duration":
        unit = metric.unit or "s"
        amount = round_half_up(mean / SECONDS_PER_UNIT[unit], places)
        return f"{amount:.{places}f} {DURATION_WORDS['en' if language == 'en' else 'zh'][unit]}"
    if kind == "money":
        return f"{round_half_up(mean):,.2f}"
    return f"{round_half_up(mean, places):.{places}f}"


def _places(metric: ast.Metric | None, shown: list[str]) -> int:
    """Decimals for averages: as many as the values shown carry (at most two); an average of
    whole counts or numbers gets one, so that 2/3 reads 0.7 rather than 1."""
    decimals = max((len(text.split(".", 1)[1].rstrip("%").split(" ")[0]) if "." in text else 0 for text in shown),
                   default=0)
    whole = metric is None or metric.type.text in ("count", "number")
    return max(min(2, decimals), 1 if whole else 0)


@dataclass
class KpiLine:
    name: str
    value: str
    sample: str | None
    standard: Standard
    level: str
    points: str
    weight: str
    weighted: str
    status: str
    reason: str | None
    small_sample: str | None = None  # "样本少:低于全员中位数 12 的 25%": kept out of strengths and weaknesses


@dataclass
class AgentPacket:
    """Everything one agent's review packet prints."""

    language: str
    file_stem: str  # the PDF's name: the whole id and name, which the page may show cut (MOST_SHOWN)
    agent_id: str
    name: str
    role: str
    team: str | None
    supervisor: str | None
    period: str
    policy: dict
    score: str
    base_score: str
    grade: str
    rank: str
    bonus_total: str
    bonuses: list[dict]
    kpis: list[KpiLine]
    standing: AgentStanding  # SMART targets and the awards held
    adjustments: list[dict]
    veto: str | None
    trends: list
    swot: dict[str, list[str]]
    plans: list[dict]
    generated: str
    trend_periods: int = 0
    facts: list[str] = field(default_factory=list)  # this period's facts: a red line hit, KPIs without data
    # The four SWOT boxes one below the other instead of two by two: long notes in WeasyPrint's
    # grid took seconds per packet (2,000 characters: 12 s), and a box of a grid cannot run on
    # to the next page.
    swot_stacked: bool = False
    rank_note: str | None = None  # why the rank does not count (a red line hit)
    bonus_note: str | None = None
    # Why the base score and the adjustments shown do not add up to the score shown: a score
    # limit, or cents of rounding (each number is rounded on its own, evaluation.md §6.23).
    score_note: str | None = None
    last_actions: list[dict] = field(default_factory=list)  # agreed last time (--notes kind action), and how the KPI moved
    appendix: dict = field(default_factory=dict)  # the rules as written and the role code


@dataclass
class TeamSummary:
    language: str
    period: str
    policy: dict
    grade_chart: object
    standing: TeamStanding  # agents per status of each target, 荣誉榜
    leaderboard: list[dict]
    teams: list[str]
    kpi_names: list[str]
    kpi_averages: list[dict]
    vetoes: list[dict]
    bonus_total: str
    with_plans: list[dict]
    generated: str
    volume_names: list[str] = field(default_factory=list)  # the sample counts shown per team (满意度回访样本数)
    notes: list[str] = field(default_factory=list)  # small teams, the small-sample floor


@dataclass
class Report:
    packets: list[AgentPacket] = field(default_factory=list)
    summaries: list[TeamSummary] = field(default_factory=list)


def build_report(evaluation: Evaluation, language: str | None = None, agents: set[str] | None = None,
                 notes: dict[str, list[Note]] | None = None) -> Report:
    document = build_results(evaluation)
    report = Report()
    for run, stamp in zip(evaluation.runs, document.policies):
        policy_language = language or run.policy.language
        results = [result for result in document.results if result.policy == stamp.name]
        builder = _RunReport(evaluation, run, policy_language, results, stamp, notes or {})
        for result in results:
            if agents is None or result.agent_id in agents:
                report.packets.append(builder.packet(result))
        if agents is None:  # a few agents' packets leave the team summary as it is
            report.summaries.append(builder.summary())
    return report


def kpi_names_by_agent(evaluation: Evaluation) -> dict[str, list[str]]:
    """The KPI names of each evaluated agent's policy (a notes file's agreed actions name one)."""
    found: dict[str, list[str]] = {}
    for run in evaluation.runs:
        names = [kpi.name for kpi in run.plan.model.kpis]
        for (agent,) in evaluation.connection.execute(f"SELECT _agent FROM {run.table}").fetchall():
            found[agent] = names
    return found


class _RunReport:
    """The packets and the summary of one policy run."""

    def __init__(self, evaluation: Evaluation, run: PolicyRun, language: str, results: list[AgentResult],
                 stamp: PolicyStamp, notes: dict[str, list[Note]]):
        self.run = run
        self.model = run.plan.model
        self.language = language
        self.t = texts(language)
        self.results = results
        self.by_agent = {result.agent_id: result for result in results}
        self.notes = notes
        policy = run.policy
        self.level_labels = {level.name.text: (level.label.value if level.label else level.name.text) for level in policy.levels}
        show = partial(display_value, language=language)  # a value as the KPI table prints it
        self.thresholds = thresholds_for(self.model, show)
        self.history = self._history(evaluation)
        self.positions = self._group_positions()
        self.peers = Peers(self.model, results)
        self.standards = [kpi_standard(self.model, kpi, self.level_labels, language, show) for kpi in self.model.kpis]
        self.rules_written = appendix_rules(self.model)
        self.policy = {
            "name": policy.name.value, "version": policy.version, "file": stamp.file,
            "sha256": (stamp.sha256 or "")[:12], "git_commit": (stamp.git_commit or "")[:10] or None,
            "git_dirty": stamp.git_dirty,
            "extends": [Path(parent.file).name for parent in stamp.extends],  # the footer's "extends supervisor.perf"
        }
        self.generated = date.today().isoformat()
        self.standing = Standing(self.model, results, language, lambda metric, value: display_value(metric, value, language))

    # ---- data across agents ----------------------------------------------------------------

    def _history(self, evaluation: Evaluation) -> tuple[list[str], dict[str, dict[str, list]]]:
        """Periods and, per agent, the score and each KPI's measured value per period."""
        history = self.run.history(evaluation.connection)
        names = ["score"] + [kpi.name for kpi in self.model.kpis]
        columns = ["_agent", "score"] + [f"{kpi.prefix}_value" for kpi in self.model.kpis]
        series: dict[str, dict[str, list]] = {}
        for index, (_, table) in enumerate(history):
            for row in evaluation.connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall():
                agent = series.setdefault(row[0], {name: [None] * len(history) for name in names})
                for name, value in zip(names, row[1:]):
                    agent[name][index] = value
        return [period for period, _ in history], series

    def _group_positions(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(agent, KPI) -> (position, group size) by the KPI's value, best first, ties shared."""
        positions = {}
        for index, kpi in enumerate(self.model.kpis):
            thresholds = self.thresholds[kpi.name]
            if thresholds.direction is None:
                continue
            values = [(result.agent_id, result.kpis[index].value) for result in self.results
                      if result.kpis[index].value is not None]
            ordered = sorted((value for _, value in values), reverse=thresholds.direction == "higher")
            first_place = {}
            for place, value in enumerate(ordered, start=1):
                first_place.setdefault(value, place)
            for agent, value in values:
                positions[(agent, kpi.name)] = (first_place[value], len(ordered))
        return positions

    # ---- one agent ---------------------------------------------------------------------------

    def packet(self, result: AgentResult) -> AgentPacket:
        agent = result.agent_id
        kpi_lines, facts = [], []
        for kpi, outcome in zip(self.model.kpis, result.kpis):
            reason = self._reason(kpi, outcome, result)
            line = self._kpi_line(kpi, outcome, reason, result.metrics)
            kpi_lines.append(line)
            history = self.history[1].get(agent, {}).get(kpi.name, [])
            facts.append(KpiFacts(
                kpi.name, outcome.status, outcome.points, outcome.rule,
                self.level_labels.get(outcome.level) if outcome.level else None, outcome.value,
                reason, history, self.positions.get((agent, kpi.name)),
                shown=line.value, median=self._median(kpi, result), low_sample=line.small_sample is not None,
            ))
        vetoes = [veto_status(veto.node, result.metrics, result.veto_rule == veto.ordinal) for veto in self.model.vetoes]
        swot = derive_swot(self.language, facts, self.thresholds, vetoes, self.run.policy.period)
        for item, holds in zip(self.model.swot_items, result.swot_holds):
            if holds:
                swot[item.kind].append(item.text.value)
        for note in self.notes.get(agent, []):
            if note.kind in KINDS:
                swot[note.kind].append(sentence(self.language, "note_line", note=self.t["note"], text=note.text))
        return AgentPacket(
            language=self.language, file_stem=f"{agent}-{result.name or agent}", agent_id=shown(agent),
            name=shown(result.name or agent), role=result.role, team=shown(result.team),
            supervisor=shown(result.supervisor), period=result.period, policy=self.policy,
            score=_two(result.score), base_score=_two(result.base_score), grade=result.grade or "—",
            rank=f"{result.rank} / {result.rank_of}" if result.rank is not None else "—",
            bonus_total=_money(result.bonus_total),
            bonuses=[{"name": bonus.name, "amount": _money(bonus.amount)} for bonus in result.bonus],
            kpis=kpi_lines,
            standing=self.standing.agent(result),
            adjustments=[{"block": item.block, "label": item.label, "points": _signed(item.points)}
                         for item in result.adjustments],
            veto=result.veto.name if result.veto else None,
            trends=self._trend_charts(agent),
            trend_periods=len(self.history[0]),
            swot={kind: swot[kind] for kind in KINDS},
            swot_stacked=sum(len(line) for kind in KINDS for line in swot[kind]) > SWOT_GRID_MOST,
            facts=swot["fact"],
            rank_note=self.t["veto_rank"] if result.veto else None,
            bonus_note=self.t["veto_bonus"] if result.veto and result.bonus_total == 0 else None,
            score_note=self._score_note(result),
            plans=[self._plan(plan, result) for plan in result.plans],
            generated=self.generated,
            last_actions=[self._last_action(note, result) for note in self.notes.get(agent, []) if note.kind == "action"],
            appendix={"rules": self.rules_written, "role": result.role, "file": self.policy["file"]},
        )

    def _score_note(self, result: AgentResult) -> str | None:
        """A line under the adjustments when the base score and the adjustments shown do not add
        up to the score shown, as a person checking the packet adds them."""
        if result.score is None or result.base_score is None:
            return None
        shown = Decimal(_two(result.base_score)) + sum((Decimal(_two(item.points)) for item in result.adjustments),
                                                      Decimal(0))
        if shown == Decimal(_two(result.score)):
            return None
        if result.raw_score is not None and result.raw_score != result.score:
            return self.t["score_limited"].format(raw=_two(result.raw_score), score=_two(result.score))
        return self.t["score_rounding"].format(sum=f"{shown:.2f}", score=_two(result.score))

    def _median(self, kpi: KpiModel, result: AgentResult) -> Median | None:
        found = self.peers.median(kpi.index, result.team)
        if found is None:
            return None
        scope, value = found
        return Median(scope, value, display_value(kpi.metric, value, self.language))

    def _last_action(self, note: Note, result: AgentResult) -> dict:
        """An action agreed at the last meeting and, when it names a KPI, how that KPI moved from
        the period before to this one (``响应时间:上期 70% → 本期 78%,有改善``)."""
        moved = None
        kpi = next((kpi for kpi in self.model.kpis if kpi.name == note.kpi), None) if note.kpi else None
        if kpi is not None:
            history = self.history[1].get(result.agent_id, {}).get(kpi.name, [])
            after = result.kpis[kpi.index].value
            before = history[-2] if len(history) >= 2 else None
            shown_after = display_value(kpi.metric, after, self.language)
            if before is None or after is None:
                moved = sentence(self.language, "action_now", kpi=kpi.name, after=shown_after)
            else:
                direction = self.thresholds[kpi.name].direction
                shown_before = display_value(kpi.metric, before, self.language)
                if shown_before == shown_after:
                    movement = "moved_same"
                elif direction is None:
                    movement = "moved_changed"
                else:
                    movement = "moved_better" if (after > before) == (direction == "higher") else "moved_worse"
                moved = sentence(self.language, "action_moved", kpi=kpi.name, before=shown_before, after=shown_after,
                                 movement=self.t[movement])
        return {"text": note.text, "moved": moved}

    def _plan(self, due: PlanDue, result: AgentResult) -> dict:
        """A plan due, with what "done" means for this agent: for each KPI its condition reads,
        the agent's value → the threshold of the next level, by the plan's last due date
        (``响应时间 88.8% → 90%(优秀),2026-12-30 前``)."""
        node = next(plan for plan in self.model.plans if plan.name.value == due.name)
        last = max((action.due for action in due.actions), default=None)
        goals = []
        for kpi, outcome in zip(self.model.kpis, result.kpis):
            if outcome.value is None or not _reads_kpi(node.condition, kpi):
                continue
            thresholds = self.thresholds[kpi.name]
            step = thresholds.next_step(outcome.value, outcome.rule)
            if step is None:
                continue
            goals.append(sentence(self.language, "plan_goal", kpi=kpi.name,
                                  value=display_value(kpi.metric, outcome.value, self.language),
                                  target=thresholds.value_text(step[1]), level=step[2], due=last or "—"))
        return {**due.model_dump(), "goals": goals}

    def _kpi_line(self, kpi: KpiModel, outcome: KpiResult, reason: str | None, counts: dict) -> KpiLine:
        """One row of the KPI table: the value with its sample size where the policy declares
        one (``92.5%`` over ``样本 20``: a rate from 3 surveys is read as such), the declared and the
        effective weight, and the points the KPI adds to the base score (two decimals adding up
        to the base score shown); the standard in words (``≥ 90% 为优秀``), and a mark when the
        sample is small beside the group's (:mod:`perfrules.report.peers`)."""
        level = self.level_labels.get(outcome.level, outcome.level) if outcome.level else "—"
        points = outcome.points
        weight = percent_text(kpi.weight)
        effective = percent_text(round_half_up(outcome.effective_weight, 4))
        sample = kpi.metric.sample if kpi.metric is not None else None
        count = counts.get(sample[0]) if sample else None
        small = self.peers.small_sample(kpi, counts) if outcome.value is not None else None
        return KpiLine(
            name=kpi.name, value=display_value(kpi.metric, outcome.value, self.language),
            sample=sentence(self.language, "sample_size", count=plain(count)) if count is not None else None,
            standard=self.standards[kpi.index],
            small_sample=sentence(self.language, "small_sample", median=plain(round_half_up(small.median, 1)))
            if small is not None else None,
            level=level, points="—" if points is None else _two(points),
            weight=weight if effective == weight or outcome.status == "excluded" else f"{weight} → {effective}",
            weighted="—" if outcome.contribution_shown is None else _two(outcome.contribution_shown),
            status=self.t[outcome.status], reason=reason,
        )

    def _reason(self, kpi: KpiModel, outcome: KpiResult, result: AgentResult) -> str | None:
        """Why a KPI was excluded or substituted, in the packet's language."""
        if outcome.status == "scored":
            return None
        return missing_reason(self.model, kpi, result.metrics, self.language)

    def _trend_charts(self, agent: str) -> list:
        periods, series = self.history
        values = series.get(agent)
        if not values or len(periods) < 2:
            return []
        charts_out = [charts.line_chart(self.t["score"], periods, _floats(values["score"]),
                                        [_short(value) for value in values["score"]])]
        for kpi in self.model.kpis:
            numbers = values.get(kpi.name, [])
            labels = [display_value(kpi.metric, value, self.language).replace(" ", "") if value is not None else ""
                      for value in numbers]
            lower = kpi.metric is not None and kpi.metric.direction == "lower"
            lines = tuple((float(bound), label) for bound, label in self.thresholds[kpi.name].lines())
            charts_out.append(charts.line_chart(kpi.name, periods, _floats(numbers), labels, lower_is_better=lower,
                                                note=self.t["lower_is_better"] if lower else "", thresholds=lines))
        return charts_out

    # ---- the team ------------------------------------------------------------------------------

    def summary(self) -> TeamSummary:
        grades = []
        for rule in self.model.grade_rules + self.model.vetoes:
            if rule.node.grade.value not in grades:
                grades.append(rule.node.grade.value)
        counts = [sum(1 for result in self.results if result.grade == grade) for grade in grades]
        # Teams in the order of their first agent id (售后一组 before 售后二组), not by code point.
        teams = list(dict.fromkeys(result.team or "—" for result in sorted(self.results, key=lambda r: r.agent_id)))
        averages = []
        places = [_places(kpi.metric, [display_value(kpi.metric, result.kpis[index].value, self.language)
                                       for result in self.results]) for index, kpi in enumerate(self.model.kpis)]
        volumes = list(self.peers.floors.values())
        for team in teams + [None]:
            members = [result for result in self.results if team is None or (result.team or "—") == team]
            cells = []
            for index, kpi in enumerate(self.model.kpis):
                present = [result.kpis[index].value for result in members if result.kpis[index].value is not None]
                cells.append(average_text(kpi.metric, present, places[index], self.language))
            scores = [result.score for result in members if result.score is not None]
            volume = [plain(sum((result.metrics.get(floor.count) or Decimal(0) for result in members), Decimal(0)))
                      for floor in volumes]
            averages.append({"team": shown(team) or self.t["all_teams"], "count": len(members), "values": cells,
                             "score": _two(sum(scores, Decimal(0)) / len(scores)) if scores else "—",
                             "volume": volume, "small": team is not None and len(members) < MIN_GROUP})
        notes = [sentence(self.language, "small_team", count=MIN_GROUP)] if any(row["small"] for row in averages) else []
        notes += [sentence(self.language, "sample_floor", count=self._metric_label(floor.count),
                           median=plain(round_half_up(floor.median, 1)), floor=floor_text(floor.floor))
                  for floor in volumes]
        return TeamSummary(
            language=self.language, period=self.run.period, policy=self.policy,
            grade_chart=charts.bar_chart("", grades, counts),
            standing=self.standing.team(),
            leaderboard=[{"rank": result.rank, "agent_id": shown(result.agent_id), "name": shown(result.name) or "",
                          "team": shown(result.team) or "", "score": _two(result.score), "grade": result.grade or "",
                          "bonus": _money(result.bonus_total), "veto": result.veto.name if result.veto else ""}
                         for result in self.results],
            teams=teams, kpi_names=[kpi.name for kpi in self.model.kpis], kpi_averages=averages,
            vetoes=[{"agent_id": shown(result.agent_id), "name": shown(result.name) or "", "veto": result.veto.name}
                    for result in self.results if result.veto],
            bonus_total=_money(sum((result.bonus_total for result in self.results), Decimal(0))),
            with_plans=[{"agent_id": shown(result.agent_id), "name": shown(result.name) or "",
                         "plans": ", ".join(plan.name for plan in result.plans)}
                        for result in self.results if result.plans],
            generated=self.generated,
            volume_names=[sentence(self.language, "volume_total", count=self._metric_label(floor.count))
                          for floor in volumes],
            notes=notes,
        )

    def _metric_label(self, name: str) -> str:
        metric = self.model.symbols.metrics.get(name)
        return (metric.label if metric is not None else None) or name


def _reads_kpi(condition: ast.Expression, kpi: KpiModel) -> bool:
    """Whether a plan's condition is about this KPI: its level, or a value the KPI measures."""
    for node in ast.walk(condition):
        if isinstance(node, ast.KpiIs) and node.kpi.value == kpi.name:
            return True
        if isinstance(node, ast.Reference) and (node.name in kpi.reads or node == kpi.measure):
            return True
    return False


def _two(value: Decimal | None) -> str:
    """Two decimals, rounded half up as the results are (never a float's rounding)."""
    return "—" if value is None else f"{round_half_up(value, 2):.2f}"


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{round_half_up(value, 2):,.2f}"


def _signed(value: Decimal) -> str:
    return f"+{_two(value)}" if value >= 0 else _two(value)


def _floats(values: list) -> list[float | None]:
    return [float(value) if value is not None else None for value in values]


def _short(value) -> str:
    return "" if value is None else plain(round_half_up(value, 1))

