"""Building the typed result (:mod:`perfrules.result_model`) from an evaluation.

:func:`build_results` reads the result tables of an :class:`~perfrules.engine.run.Evaluation`
and builds one :class:`~perfrules.result_model.AgentResult` per agent, results sorted by
policy, rank and agent, with the policies' stamps.  Rules are found by their identity
(the ordinal the engine wrote), never by their line.  The JSON document, explain and
the review packet derive from these models; CSV and XLSX are written from the same
result tables by DuckDB, for speed at a million agents.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from perfrules import __version__, ast
from perfrules.check.model import KpiModel, PolicyModel, rank_key
from perfrules.engine.run import Evaluation, PolicyRun
from perfrules.result_model import (
    Adjustment, AgentResult, AwardPeriod, AwardResult, BonusResult, GoalResult, KpiResult, PlanAction, PlanDue,
    PolicyStamp, ResultDocument, TargetResult, VetoHit,
)
from perfrules.texts import reason
from perfrules.values import period_end, plain, round_half_up


def build_results(evaluation: Evaluation, warnings: list[str] | None = None, *,
                  with_results: bool = True) -> ResultDocument:
    """The typed result document of an evaluation (every output derives from it).

    ``with_results=False`` leaves ``results`` empty, for writing them as a stream
    (:func:`iter_results` and :meth:`ResultDocument.json_chunks`).
    """
    return ResultDocument(
        perfrules=__version__, period=evaluation.period, data_sha256=evaluation.data_sha256,
        policies=[PolicyStamp(**policy_stamp(run)) for run in evaluation.runs],
        results=list(iter_results(evaluation)) if with_results else [],
        warnings=list(warnings or []),
    )


def iter_results(evaluation: Evaluation, batch: int = 2048) -> Iterator[AgentResult]:
    """Every agent's typed result, policy by policy in rank order, a batch of rows at a time."""
    for run in evaluation.runs:
        for row in result_rows(evaluation.connection, run, batch):
            yield agent_result(run, row)


def policy_stamp(run: PolicyRun) -> dict:
    return {
        "name": run.policy.name.value,
        "version": run.policy.version,
        **file_stamp(run.loaded),
        "extends": [file_stamp(parent) for parent in run.loaded.parents],  # nearest parent first
    }


def file_stamp(loaded) -> dict:
    """``file``, ``sha256``, ``git_commit``, ``git_dirty`` of a policy file (a LoadedPolicy
    or an inherited PolicyFile), from its origin: a file on disk (if it went away after it was
    read, of what was read), or a file of a git revision (that revision's commit)."""
    origin = loaded.origin.provenance(loaded.source.text)
    return {"file": loaded.display, "sha256": origin.sha256, "git_commit": origin.git_commit,
            "git_dirty": origin.git_dirty}


def result_rows(connection, run: PolicyRun, batch: int = 2048) -> Iterator[dict]:
    """The rows of a run's result table in the results' order (rank, then agent), a batch at a time."""
    cursor = connection.execute(f"SELECT * FROM {run.table} ORDER BY rank NULLS LAST, _agent")
    columns = [description[0] for description in cursor.description]
    while rows := cursor.fetchmany(batch):
        for row in rows:
            yield dict(zip(columns, row))


def agent_result(run: PolicyRun, row: dict) -> AgentResult:
    plan, model = run.plan, run.plan.model
    kpis, counted_weight = _kpi_results(run, row)
    adjust_lines = [[row[f"a{adjust.index}_{number}"] or Decimal(0) for number in range(len(adjust.lines))]
                    for adjust in model.adjusts]
    bonuses = []
    for bonus in model.bonuses:
        ordinal = row[f"b{bonus.index}_rule"]
        rule = bonus.rule(ordinal)
        position = group = size = share = None
        if rule is not None and isinstance(rule.node.amount, ast.AmountShareRange):
            rank_index = next(index for index, condition in enumerate(model.rank_conditions)
                              if rank_key(condition) == rank_key(rule.node.condition))
            position, group = row[f"r{rank_index}_position"], row[f"r{rank_index}_size"]
            size, share = _tier_share(rule.node, position, group)
        elif rule is not None and isinstance(rule.node.amount, ast.AmountShare):
            share = rule.node.amount.share
        bonuses.append(BonusResult(name=bonus.name, amount=row[f"b{bonus.index}_amount"],
                                   line=rule.line if rule else ordinal, rule=ordinal,
                                   tier_position=position, tier_group=group, tier_size=size, share=share))
    veto = model.vetoes[row["veto_rule"] - 1] if row["veto_rule"] is not None else None
    adjust_totals = [row[f"a{adjust.index}_total"] for adjust in model.adjusts]
    base = row["base_score"]
    raw_score = None if base is None or None in adjust_totals else base + sum(adjust_totals, Decimal(0))
    awards = _awards(model, row, run.period)
    return AgentResult(
        agent_id=row["_agent"], name=row["_name"], role=row["_role"], team=row["_team"], period=row["_period"],
        policy=model.name, kpis=kpis, base_score=row["base_score"],
        adjustments=_adjustments(model, row, adjust_lines), score=row["score"],
        rank=row["rank"], rank_of=row["rank_of"],
        veto=VetoHit(name=veto.node.name.value, line=veto.line) if veto else None,
        grade=row["grade"], bonus=bonuses,
        bonus_total=sum((bonus.amount or Decimal(0) for bonus in bonuses), Decimal(0)),
        plans=_plans(model, row, run.period),
        targets=_targets(model, row), awards=[award for award in awards if award.held],
        award_streaks=awards,
        supervisor=row.get("_supervisor"),
        metrics={name: row[column] for name, column in plan.metric_columns.items()},
        counted_weight=counted_weight,
        raw_score=raw_score, adjust_totals=adjust_totals, adjust_lines=adjust_lines,
        grade_rule=row.get("grade_rule"), veto_rule=row["veto_rule"],
        swot_holds=[bool(row[f"s{index}_holds"]) for index in range(len(model.swot_items))],
        rank_positions=[(row[f"r{rank.index}_position"], row[f"r{rank.index}_size"]) for rank in plan.ranks],
    )


def _kpi_results(run: PolicyRun, row: dict) -> tuple[list[KpiResult], Decimal]:
    """Each KPI's result, with its effective weight and the points it adds to the base score,
    and the weights counted.

    A KPI left out (``when missing exclude``) weighs nothing and the others' weights are
    scaled up, so the effective weight of a KPI is its weight over the weights counted.
    Contributions are shown in two decimals that add up to the base score shown (the
    largest remainders take the odd cent), the way a reader adds the column.
    """
    model = run.plan.model
    metric_values = {name: row[column] for name, column in run.plan.metric_columns.items()}
    counted = sum((kpi.weight for kpi in model.kpis if row[f"{kpi.prefix}_status"] in ("scored", "substituted")),
                  Decimal(0))
    entries = []
    for kpi in model.kpis:
        prefix = kpi.prefix
        status = row[f"{prefix}_status"]
        ordinal = row[f"{prefix}_rule"]
        rule = kpi.rule(ordinal) if status == "scored" else None
        points = row[f"{prefix}_points"]
        counts = status in ("scored", "substituted") and points is not None and counted > 0
        effective = kpi.weight / counted if counts else Decimal(0)
        entries.append(dict(
            name=kpi.name, value=row[f"{prefix}_value"], level=row[f"{prefix}_level"], points=points,
            weight=kpi.weight, status=status, line=rule.line if rule else kpi.node.span.line,
            reason=None if status == "scored" else missing_reason(model, kpi, metric_values),
            value_kind=kpi.metric.type.text if kpi.metric else None, rule=ordinal if rule else None,
            weighted=row[f"{prefix}_weighted"] if counts else None,
            effective_weight=effective, contribution=points * effective if counts else None,
        ))
    base = row["base_score"]
    shown = apportion([entry["contribution"] for entry in entries], round_half_up(base) if base is not None else None)
    return [KpiResult(**entry, contribution_shown=value) for entry, value in zip(entries, shown)], counted


def _tier_share(rule: ast.BonusRule, position: int | None, group: int | None) -> tuple[int | None, Decimal | None]:
    """The size of an ``A%..B%`` tier among ``group`` agents and the share paid at ``position``:
    B − (B − A) × (position − 1) ÷ (tier − 1), the best position getting B."""
    if position is None or group is None:
        return None, None
    condition: ast.RankCondition = rule.condition
    low, high = rule.amount.low, rule.amount.high
    size = math.ceil(condition.amount * group) if condition.is_percent else int(condition.amount)
    if size <= 1:
        return size, high
    return size, high - (high - low) * (position - 1) / (size - 1)


def apportion(parts: list[Decimal | None], total: Decimal | None, places: int = 2) -> list[Decimal | None]:
    """``parts`` rounded to ``places`` so that they add up to ``total`` (largest remainder).

    None stays None.  Without a total (or when the parts are far from it) each part is
    rounded half up on its own.
    """
    rounded = [round_half_up(part, places) if part is not None else None for part in parts]
    if total is None:
        return rounded
    step = Decimal(1).scaleb(-places)
    present = [index for index, part in enumerate(parts) if part is not None]
    floors = {index: parts[index].quantize(step, rounding="ROUND_FLOOR") for index in present}
    missing = total - sum(floors.values(), Decimal(0))
    cents = int(missing / step) if present else 0
    if not 0 <= cents <= len(present):
        return rounded
    by_remainder = sorted(present, key=lambda index: (-(parts[index] - floors[index]), index))
    for index in by_remainder[:cents]:
        floors[index] += step
    return [floors[index] if index in floors else None for index in range(len(parts))]


def _adjustments(model: PolicyModel, row: dict, adjust_lines: list[list[Decimal]]) -> list[Adjustment]:
    """The adjustment lines that gave points, and a limit's correction when it applied.

    The correction is what the limit changes in the numbers shown, two decimals each: the
    block's total shown less its lines shown.  So the entries of a clamped block add up to its
    total as the CSV shows it: lines of +0.25 and +0.25 limited to +0.375 (shown +0.38) get the
    correction -0.12, where the exact -0.125, shown -0.13, would make the entries add up to +0.37."""
    entries = []
    for adjust, points_by_line in zip(model.adjusts, adjust_lines):
        name = adjust.node.name.value
        for line, points in zip(adjust.lines, points_by_line):
            if points != 0:
                entries.append(Adjustment(block=name, label=line.label.value, points=points, line=line.span.line))
        raw_total = sum(points_by_line, Decimal(0))
        total = row[f"a{adjust.index}_total"]
        if adjust.limit is not None and total is not None and total != raw_total:
            label = reason(model.language, "limit")
            shown_lines = sum((round_half_up(points) for points in points_by_line), Decimal(0))
            entries.append(Adjustment(block=name, label=label, points=round_half_up(total) - shown_lines,
                                      line=adjust.limit.span.line))
    return entries


def _plans(model: PolicyModel, row: dict, period: str) -> list[PlanDue]:
    end = period_end(period)
    return [
        PlanDue(name=improvement.name.value, actions=[
            PlanAction(text=action.text.value, due=(end + timedelta(days=action.days)).isoformat())
            for action in improvement.actions
        ])
        for index, improvement in enumerate(model.plans) if row[f"p{index}_due"]
    ]


def _targets(model: PolicyModel, row: dict) -> list[TargetResult]:
    """The targets that apply to the agent's role, each goal line as the engine evaluated it."""
    found = []
    for index, target in enumerate(model.targets):
        status = row.get(f"t{index}_status")
        if status is None:  # `for` other roles
            continue
        goals = []
        for number, line in enumerate(target.lines):
            prefix = f"t{index}_{number}"
            start = line.baseline.value.isoformat() if isinstance(line.baseline, ast.DateLiteral) else None
            goals.append(GoalResult(
                name=line.metric.text, cmp=line.operator, goal=row[f"{prefix}_goal"],
                deadline=line.deadline.isoformat() if line.deadline else None, start=start,
                baseline=row[f"{prefix}_baseline"], value=row[f"{prefix}_value"], progress=row[f"{prefix}_progress"],
                expected=row[f"{prefix}_expected"], status=row[f"{prefix}_status"], line=line.span.line,
                value_kind=_value_kind(model, line.metric.text), met=row[f"{prefix}_met"],
                baseline_given=line.baseline is not None and start is None, file=model.where(line),
            ))
        found.append(TargetResult(name=target.name.value, line=target.span.line, status=status, goals=goals))
    return found


def _value_kind(model: PolicyModel, name: str) -> str | None:
    """How a goal's values are written: its metric's type, or the kind of a let."""
    metric = model.metric(name)
    return metric.type.text if metric is not None else model.kind(name).value


def _awards(model: PolicyModel, row: dict, period: str) -> list[AwardResult]:
    """Every award of the policy with the state of each period of its streak, latest first."""
    from perfrules.engine.standing import award_periods

    return [
        AwardResult(name=award.title.value, line=award.span.line, periods=award.periods or 1,
                    held=bool(row[f"w{index}_held"]),
                    streak=[AwardPeriod(period=earlier, state=row[f"w{index}_p{back}"])
                            for back, earlier in enumerate(award_periods(period, award))])
        for index, award in enumerate(model.awards)
    ]


def missing_reason(model: PolicyModel, kpi: KpiModel, values: dict, language: str | None = None) -> str:
    """Why a KPI was excluded or substituted, in ``language`` (default: the policy's).

    ``values`` holds each metric's value as evaluated (a value whose sample was too
    small is already missing there).
    """
    language = language or model.language
    for name in kpi.reads:
        metric = model.metric(name)
        if metric is None or values.get(name) is not None:
            continue
        if metric.sample is not None:
            count_name, minimum = metric.sample
            count = values.get(count_name)
            if count is None:
                return reason(language, "sample_missing", name=name, count_name=count_name, minimum=plain(minimum))
            if count < minimum:
                return reason(language, "sample_small", name=name, count_name=count_name, count=plain(count),
                              minimum=plain(minimum))
        return reason(language, "missing", name=name)
    return reason(language, "cannot")
