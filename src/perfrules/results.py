"""The result document of ``perfrules evaluate`` (``shared/spec/cli.md``, JSON result).

:func:`build_results` reads the result tables of an :class:`~perfrules.engine.run.Evaluation`
and builds the JSON document exactly as the spec lays it out: keys, order, rounding
(scores, points and money to two decimals, half up), percent values as fractions,
durations in seconds, results sorted by policy, rank and agent.  Every other output
(CSV, XLSX, the table, explanations, review packets) starts from this document or
from the same result tables, never from a second evaluation.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from perfrules import __version__, ast
from perfrules.engine.run import Evaluation, PolicyRun
from perfrules.provenance import file_provenance
from perfrules.values import plain, round_half_up


def build_results(evaluation: Evaluation, warnings: list[str] | None = None) -> dict:
    policies = []
    results = []
    for run in evaluation.runs:
        policies.append(policy_stamp(run))
        results.extend(_run_results(evaluation.connection, run))
    return {
        "perfrules": __version__,
        "period": evaluation.period,
        "data_sha256": evaluation.data_sha256,
        "policies": policies,
        "results": results,
        "warnings": list(warnings or []),
    }


def policy_stamp(run: PolicyRun) -> dict:
    # If the file went away after it was read, stamp what was evaluated.
    origin = file_provenance(run.loaded.path, fallback=run.loaded.source.text.encode("utf-8"))
    return {
        "name": run.policy.name.value,
        "version": run.policy.version,
        "file": run.loaded.display,
        "sha256": origin.sha256,
        "git_commit": origin.git_commit,
        "git_dirty": origin.git_dirty,
        "extends": [],  # the inherited files, nearest parent first, once policies can extend others
    }


def period_end(period: str) -> date:
    """The last day of ``2026-11``, ``2026-Q4`` or ``2026``."""
    year = int(period[:4])
    if "-Q" in period:
        month = int(period[-1]) * 3
    elif "-" in period:
        month = int(period[5:7])
    else:
        month = 12
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def number(value: Decimal | None, places: int | None = 2):
    """A JSON number: rounded half up to ``places`` (None: as exact as a float allows)."""
    if value is None:
        return None
    if places is not None:
        value = round_half_up(value, places)
    return float(value)


def metric_value(metric: ast.Metric | None, value):
    """A measured value as the spec writes it: fraction, seconds, whole count, money."""
    if value is None or not isinstance(value, Decimal):
        return value
    if metric is not None and metric.type.text == "count":
        return int(value)
    if metric is not None and metric.type.text == "money":
        return number(value, 2)
    return float(value)


def fetch_rows(connection, run: PolicyRun) -> list[dict]:
    cursor = connection.execute(f"SELECT * FROM {run.table} ORDER BY rank NULLS LAST, _agent")
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _run_results(connection, run: PolicyRun) -> list[dict]:
    plan = run.plan
    policy = run.policy
    metrics = {metric.name.text: metric for metric in policy.metrics}
    results = []
    for row in fetch_rows(connection, run):
        kpis = []
        for kpi in plan.kpis:
            prefix = kpi.prefix
            status = row[f"{prefix}_status"]
            measured = metrics.get(kpi.measure.name) if isinstance(kpi.measure, ast.Reference) else None
            line = row[f"{prefix}_line"]
            entry = {
                "name": kpi.kpi.name.value,
                "value": metric_value(measured, row[f"{prefix}_value"]),
                "level": row[f"{prefix}_level"],
                "points": number(row[f"{prefix}_points"]),
                "weight": float(kpi.kpi.weight),
                "status": status,
                "line": line if line and line > 0 and status == "scored" else kpi.kpi.span.line,
            }
            if status != "scored":
                entry["reason"] = missing_reason(policy, kpi, row, plan.metric_columns)
            kpis.append(entry)
        results.append({
            "agent_id": row["_agent"],
            "name": row["_name"],
            "role": row["_role"],
            "team": row["_team"],
            "period": row["_period"],
            "policy": policy.name.value,
            "kpis": kpis,
            "base_score": number(row["base_score"]),
            "adjustments": _adjustments(plan, row),
            "score": number(row["score"]),
            "rank": row["rank"],
            "rank_of": row["rank_of"],
            "veto": _veto(plan, row),
            "grade": row["grade"],
            "bonus": [
                {"name": bonus.name.value, "amount": number(row[f"b{index}_amount"]), "line": row[f"b{index}_line"]}
                for index, bonus in enumerate(plan.bonuses)
            ],
            "bonus_total": number(sum((row[f"b{index}_amount"] or Decimal(0) for index in range(len(plan.bonuses))), Decimal(0))),
            "plans": _plans(plan, row, run.period),
        })
    return results


def _adjustments(plan, row: dict) -> list[dict]:
    entries = []
    for adjust in plan.adjusts:
        name = adjust.adjust.name.value
        raw_total = Decimal(0)
        for number_in_block, line in enumerate(adjust.lines):
            points = row[f"a{adjust.index}_{number_in_block}"] or Decimal(0)
            raw_total += points
            if points != 0:
                entries.append({"block": name, "label": line.label.value, "points": number(points), "line": line.span.line})
        total = row[f"a{adjust.index}_total"]
        if adjust.limit is not None and total is not None and total != raw_total:
            label = "limit" if plan.policy.language == "en" else "上下限"
            entries.append({"block": name, "label": label, "points": number(total - raw_total), "line": adjust.limit.span.line})
    return entries


def _veto(plan, row: dict) -> dict | None:
    line = row["veto_line"]
    if line is None:
        return None
    veto = next(veto for veto in plan.vetoes if veto.span.line == line)
    return {"name": veto.name.value, "line": line}


def _plans(plan, row: dict, period: str) -> list[dict]:
    end = period_end(period)
    due = []
    for index, improvement in enumerate(plan.plans):
        if row[f"p{index}_due"]:
            due.append({
                "name": improvement.name.value,
                "actions": [
                    {"text": action.text.value, "due": (end + timedelta(days=action.days)).isoformat()}
                    for action in improvement.actions
                ],
            })
    return due


def missing_reason(policy: ast.Policy, kpi, row: dict, metric_columns: dict[str, str],
                   language: str | None = None) -> str:
    """Why a KPI was excluded or substituted, in ``language`` (default: the policy's)."""
    chinese = (language or policy.language) != "en"
    metrics = {metric.name.text: metric for metric in policy.metrics}
    for name in kpi.reads:
        metric = metrics.get(name)
        if metric is None or row.get(metric_columns[name]) is not None:
            continue
        if metric.sample is not None:
            count_name, minimum = metric.sample
            count = row.get(metric_columns[count_name])
            if count is None or count < minimum:
                if chinese:
                    if count is None:
                        return f"{name} 的样本数 {count_name} 缺失"
                    return f"{name} 的样本数 {count_name} 为 {plain(count)},少于 {plain(minimum)}"
                shown = plain(count) if count is not None else "missing"
                return f"{name}: the sample {count_name} is {shown}, below {plain(minimum)}"
        return f"{name} 缺失" if chinese else f"{name} is missing"
    return "无法计算(缺少数据或除以零)" if chinese else "cannot be computed (missing data or a division by zero)"
