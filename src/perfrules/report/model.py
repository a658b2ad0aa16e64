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
from decimal import Decimal

from perfrules import ast
from perfrules.check.symbols import collect_symbols
from perfrules.diagnostics import DiagnosticSink
from perfrules.engine.run import Evaluation, PolicyRun
from perfrules.report import charts
from perfrules.report.swot import KINDS, KpiFacts, derive_swot, thresholds_for, veto_status
from perfrules.report.texts import texts
from perfrules.results import build_results, fetch_rows, missing_reason
from perfrules.values import DURATION_WORDS, SECONDS_PER_UNIT, percent_text, plain, round_half_up



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
    if kind == "count":
        return plain(value)
    if kind == "bool":
        return str(value)
    return plain(round_half_up(value)) if isinstance(value, Decimal) else str(value)


@dataclass
class KpiLine:
    name: str
    value: str
    thresholds: list[str]
    level: str
    points: str
    weight: str
    weighted: str
    status: str
    reason: str | None


@dataclass
class AgentPacket:
    """Everything one agent's review packet prints."""

    language: str
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
    adjustments: list[dict]
    veto: str | None
    trends: list
    swot: dict[str, list[str]]
    plans: list[dict]
    generated: str
    trend_periods: int = 0


@dataclass
class TeamSummary:
    language: str
    period: str
    policy: dict
    grade_chart: object
    leaderboard: list[dict]
    teams: list[str]
    kpi_names: list[str]
    kpi_averages: list[dict]
    vetoes: list[dict]
    bonus_total: str
    with_plans: list[dict]
    generated: str


@dataclass
class Report:
    packets: list[AgentPacket] = field(default_factory=list)
    summaries: list[TeamSummary] = field(default_factory=list)


def build_report(evaluation: Evaluation, language: str | None = None, agents: set[str] | None = None,
                 notes: dict[str, list[tuple[str, str]]] | None = None) -> Report:
    document = build_results(evaluation)
    report = Report()
    for run in evaluation.runs:
        policy_language = language or run.policy.language
        results = [result for result in document["results"] if result["policy"] == run.policy.name.value]
        stamp = next(item for item in document["policies"] if item["name"] == run.policy.name.value)
        builder = _RunReport(evaluation, run, policy_language, results, stamp, notes or {})
        for result in results:
            if agents is None or result["agent_id"] in agents:
                report.packets.append(builder.packet(result))
        if agents is None:  # a few agents' packets leave the team summary as it is
            report.summaries.append(builder.summary())
    return report


class _RunReport:
    """The packets and the summary of one policy run."""

    def __init__(self, evaluation: Evaluation, run: PolicyRun, language: str, results: list[dict], stamp: dict,
                 notes: dict[str, list[tuple[str, str]]]):
        self.run = run
        self.language = language
        self.t = texts(language)
        self.results = results
        self.notes = notes
        policy = run.policy
        self.symbols = collect_symbols(policy, DiagnosticSink())
        self.metrics = {metric.name.text: metric for metric in policy.metrics}
        self.source_lines = run.loaded.source.text.splitlines()
        self.level_labels = {level.name.text: (level.label.value if level.label else level.name.text) for level in policy.levels}
        self.measures = {plan.kpi.name.value: plan.measure for plan in run.plan.kpis}
        self.thresholds = thresholds_for(policy, self.symbols, self.measures)
        self.rows = {row["_agent"]: row for row in fetch_rows(evaluation.connection, run)}
        self.history = self._history(evaluation)
        self.positions = self._group_positions()
        self.policy = {
            "name": policy.name.value, "version": policy.version, "file": stamp["file"],
            "sha256": (stamp["sha256"] or "")[:12], "git_commit": (stamp["git_commit"] or "")[:10] or None,
            "git_dirty": stamp["git_dirty"],
        }
        self.generated = date.today().isoformat()

    # ---- data across agents ----------------------------------------------------------------

    def _history(self, evaluation: Evaluation) -> tuple[list[str], dict[str, dict[str, list]]]:
        """Periods and, per agent, the score and each KPI's measured value per period."""
        history = self.run.history(evaluation.connection)
        names = ["score"] + [plan.kpi.name.value for plan in self.run.plan.kpis]
        columns = ["_agent", "score"] + [f"{plan.prefix}_value" for plan in self.run.plan.kpis]
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
        for plan in self.run.plan.kpis:
            thresholds = self.thresholds[plan.kpi.name.value]
            if thresholds.direction is None:
                continue
            values = [(agent, row[f"{plan.prefix}_value"]) for agent, row in self.rows.items()
                      if row[f"{plan.prefix}_value"] is not None]
            ordered = sorted((value for _, value in values), reverse=thresholds.direction == "higher")
            first_place = {}
            for place, value in enumerate(ordered, start=1):
                first_place.setdefault(value, place)
            for agent, value in values:
                positions[(agent, plan.kpi.name.value)] = (first_place[value], len(ordered))
        return positions

    # ---- one agent ---------------------------------------------------------------------------

    def packet(self, result: dict) -> AgentPacket:
        row = self.rows[result["agent_id"]]
        agent = result["agent_id"]
        kpi_lines, facts = [], []
        for plan, kpi in zip(self.run.plan.kpis, result["kpis"]):
            kpi_lines.append(self._kpi_line(plan, kpi, row))
            history = self.history[1].get(agent, {}).get(kpi["name"], [])
            facts.append(KpiFacts(
                kpi["name"], kpi["status"], row[f"{plan.prefix}_points"], row[f"{plan.prefix}_line"],
                self.level_labels.get(kpi["level"]) if kpi["level"] else None, row[f"{plan.prefix}_value"],
                self._reason(plan, kpi, row), history, self.positions.get((agent, kpi["name"])),
            ))
        values = {name: row[column] for name, column in self.run.plan.metric_columns.items()}
        vetoes = [veto_status(veto, values, row["veto_line"] == veto.span.line) for veto in self.run.plan.vetoes]
        swot = derive_swot(self.language, facts, self.thresholds, vetoes)
        for index, item in enumerate(self.run.plan.swot_items):
            if row[f"s{index}_holds"]:
                swot[item.kind].append(item.text.value)
        for kind, text in self.notes.get(agent, []):
            swot[kind].append(f"{self.t['note']}:{text}" if self.language != "en" else f"{self.t['note']}: {text}")
        return AgentPacket(
            language=self.language, agent_id=agent, name=result["name"] or agent, role=result["role"],
            team=result["team"], supervisor=row["_supervisor"], period=result["period"], policy=self.policy,
            score=_two(result["score"]), base_score=_two(result["base_score"]), grade=result["grade"] or "—",
            rank=f"{result['rank']} / {result['rank_of']}" if result["rank"] is not None else "—",
            bonus_total=f"{result['bonus_total']:,.2f}",
            bonuses=[{"name": bonus["name"], "amount": f"{bonus['amount']:,.2f}"} for bonus in result["bonus"]],
            kpis=kpi_lines,
            adjustments=[{"block": item["block"], "label": item["label"], "points": _signed(item["points"])}
                         for item in result["adjustments"]],
            veto=result["veto"]["name"] if result["veto"] else None,
            trends=self._trend_charts(agent),
            trend_periods=len(self.history[0]),
            swot={kind: swot[kind] for kind in KINDS},
            plans=result["plans"],
            generated=self.generated,
        )

    def _kpi_line(self, plan, kpi: dict, row: dict) -> KpiLine:
        measure = plan.measure
        metric = self.metrics.get(measure.name) if isinstance(measure, ast.Reference) else None
        thresholds = [self.source_lines[line.span.line - 1].strip() for line in plan.kpi.lines
                      if not isinstance(line, ast.Measure)]
        level = self.level_labels.get(kpi["level"], kpi["level"]) if kpi["level"] else "—"
        points = row[f"{plan.prefix}_points"]
        weighted = "—" if kpi["status"] == "excluded" or points is None else _two(float(points * plan.kpi.weight))
        return KpiLine(
            name=kpi["name"], value=display_value(metric, row[f"{plan.prefix}_value"], self.language),
            thresholds=thresholds, level=level, points="—" if points is None else _two(float(points)),
            weight=percent_text(plan.kpi.weight), weighted=weighted, status=self.t[kpi["status"]],
            reason=self._reason(plan, kpi, row),
        )

    def _reason(self, plan, kpi: dict, row: dict) -> str | None:
        """Why a KPI was excluded or substituted, in the packet's language."""
        if kpi["status"] == "scored":
            return None
        return missing_reason(self.run.policy, plan, row, self.run.plan.metric_columns, self.language)

    def _trend_charts(self, agent: str) -> list:
        periods, series = self.history
        values = series.get(agent)
        if not values or len(periods) < 2:
            return []
        charts_out = [charts.line_chart(self.t["score"], periods, _floats(values["score"]),
                                        [_short(value) for value in values["score"]])]
        for plan in self.run.plan.kpis:
            name = plan.kpi.name.value
            measure = plan.measure
            metric = self.metrics.get(measure.name) if isinstance(measure, ast.Reference) else None
            numbers = values.get(name, [])
            labels = [display_value(metric, value, self.language).replace(" ", "") if value is not None else "" for value in numbers]
            charts_out.append(charts.line_chart(name, periods, _floats(numbers), labels))
        return charts_out

    # ---- the team ------------------------------------------------------------------------------

    def summary(self) -> TeamSummary:
        grades = []
        for rule in self.run.plan.grade_rules:
            if rule.grade.value not in grades:
                grades.append(rule.grade.value)
        for veto in self.run.plan.vetoes:
            if veto.grade.value not in grades:
                grades.append(veto.grade.value)
        counts = [sum(1 for result in self.results if result["grade"] == grade) for grade in grades]
        # Teams in the order of their first agent id (售后一组 before 售后二组), not by code point.
        teams = list(dict.fromkeys(result["team"] or "—" for result in sorted(self.results, key=lambda r: r["agent_id"])))
        kpi_names = [plan.kpi.name.value for plan in self.run.plan.kpis]
        averages = []
        for team in teams + [None]:
            members = [result for result in self.results if team is None or (result["team"] or "—") == team]
            cells = []
            for plan in self.run.plan.kpis:
                measure = plan.measure
                metric = self.metrics.get(measure.name) if isinstance(measure, ast.Reference) else None
                present = [self.rows[result["agent_id"]][f"{plan.prefix}_value"] for result in members]
                present = [value for value in present if value is not None]
                mean = sum(present, Decimal(0)) / len(present) if present else None
                cells.append(display_value(metric, mean, self.language))
            scores = [Decimal(str(result["score"])) for result in members if result["score"] is not None]
            averages.append({"team": team or self.t["all_teams"], "count": len(members), "values": cells,
                             "score": _two(float(sum(scores) / len(scores))) if scores else "—"})
        return TeamSummary(
            language=self.language, period=self.run.period, policy=self.policy,
            grade_chart=charts.bar_chart("", grades, counts),
            leaderboard=[{"rank": result["rank"], "agent_id": result["agent_id"], "name": result["name"] or "",
                          "team": result["team"] or "", "score": _two(result["score"]), "grade": result["grade"] or "",
                          "bonus": f"{result['bonus_total']:,.2f}", "veto": result["veto"]["name"] if result["veto"] else ""}
                         for result in self.results],
            teams=teams, kpi_names=kpi_names, kpi_averages=averages,
            vetoes=[{"agent_id": result["agent_id"], "name": result["name"] or "", "veto": result["veto"]["name"]}
                    for result in self.results if result["veto"]],
            bonus_total=f"{sum(result['bonus_total'] for result in self.results):,.2f}",
            with_plans=[{"agent_id": result["agent_id"], "name": result["name"] or "",
                         "plans": ", ".join(plan["name"] for plan in result["plans"])}
                        for result in self.results if result["plans"]],
            generated=self.generated,
        )


def _two(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _signed(value: float) -> str:
    return f"+{value:.2f}" if value >= 0 else f"{value:.2f}"


def _floats(values: list) -> list[float | None]:
    return [float(value) if value is not None else None for value in values]


def _short(value) -> str:
    return "" if value is None else plain(round_half_up(value, 1))

