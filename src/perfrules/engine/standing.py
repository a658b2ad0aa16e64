"""Targets and awards: the columns of a run that need other periods of the data.

A SMART target's goal line (language.md §13) compares the evaluated period's value with
the goal, and measures progress from a **baseline**: a value given with ``from VALUE``,
or NAME in the agent's latest row of this policy whose period ends before the ``from``
day.  An award (§14) holds when its condition held in the evaluated period and in each
of the N−1 periods of the policy's kind just before it, each evaluated with the same
plan on that period's rows.  :func:`add_standing` computes both in DuckDB, exactly like
the rest of the plan (``pr_div`` for progress), and replaces the run's result table by
one with these columns added (a stored run), or by a view that adds them to the plan (a
streamed run, written once to CSV, whose one query computes the plan and these columns
together; `--columns summary` reads the plan alone and never computes them):

- ``tT_G_baseline``, ``tT_G_met``, ``tT_G_progress``, ``tT_G_expected``, ``tT_G_status``
  for goal line G of target T, and ``tT_status`` (its worst line; NULL when the target
  is ``for`` other roles);
- ``wA_pK`` for award A and the K-th period back (K = 0 is the evaluated period):
  ``held``, ``not_held``, ``no_row`` (the agent has no row then), ``no_period`` (the data
  has no row of that period) or ``error`` (the agent's row of that period cannot be
  evaluated: a missing value without ``when missing``, an unmatched value...), and
  ``wA_held``: true when every K is ``held``.

It returns the warnings of the run: achievability (A: a goal no agent of the target's
roles reached in any period of the data, with the best value seen) and each agent whose
streak was broken by an earlier row that cannot be evaluated (never a silent pass).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from perfrules import ast
from perfrules.check.kinds import Kind
from perfrules.engine.plan import target_columns
from perfrules.engine.run import PolicyRun, outcome_problems
from perfrules.engine.sql import decimal_literal, divide, text_literal
from perfrules.values import metric_value_text, period_end, plain, previous_period

# A target's status is its worst line's (spec §13), in this order.
TARGET_STATUSES = ("achieved", "on_track", "at_risk", "not_met", "missed", "no_data")  # as language.md §13 lists them
STATUS_ORDER = ("missed", "at_risk", "not_met", "no_data", "on_track", "achieved")
AWARD_STATES = ("held", "not_held", "no_row", "no_period", "error")
SQL_COMPARE = {">=": ">=", ">": ">", "<=": "<=", "<": "<"}


def add_standing(connection, run: PolicyRun, data_display: str) -> list[str]:
    """Add the target and award columns to ``run``'s result table; return the warnings."""
    model = run.plan.model
    if not model.targets and not model.awards:
        return []
    warnings: list[str] = []
    periods = [period for (period,) in connection.execute(
        f"SELECT DISTINCT _period FROM {run.typed_table} WHERE _period IS NOT NULL ORDER BY _period").fetchall()]
    levels: tuple[list[str], list[str], list[str]] = ([], [], [])  # each level reads the one before by name
    joins: list[str] = []
    if model.targets:
        values = f"{run.table}_goals"
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {values} AS {run.plan.target_values_sql(run.typed_table)}")
        _targets(run, values, periods, levels, joins)
        warnings += _unreached(connection, run, values)
    for index, award in enumerate(model.awards):
        warnings += _award(connection, run, index, award, periods, data_display, levels, joins)
    standing = f"{run.table}_standing"
    query = _levelled(f"SELECT r.*, {', '.join(levels[0])} FROM {run.table} r {' '.join(joins)}", levels)
    # Stored (JSON, XLSX, the table, packets read it again and again): one table of every column.
    # Streamed (a CSV written once from the plan): a view, which the CSV's one query computes with
    # the plan (a table of its own made the plan run twice: 0.6 s at a million agents), and which
    # `--columns summary` never reads. Nothing in it can fail on the data: what could (the values
    # and goals of every period, earlier periods' results) is computed above, and its divisions
    # (pr_div) make a result beyond DECIMAL(18, 6) missing instead of an error.
    connection.execute(f"CREATE OR REPLACE TEMP {'TABLE' if run.checked else 'VIEW'} {standing} AS {query}")
    run.plan_table, run.table = run.table, standing
    return warnings


def _levelled(query: str, levels) -> str:
    """``query`` with the columns of levels 1 and 2 added, each level reading the one before by name."""
    for level in levels[1:]:
        if level:
            query = f"SELECT *, {', '.join(level)} FROM ({query})"
    return query


# ---- targets ------------------------------------------------------------------------------------


def _targets(run: PolicyRun, values: str, periods: list[str], levels, joins: list[str]) -> None:
    """Baseline, met, progress and expected (level 1), each line's status (2), each target's (3)."""
    model = run.plan.model
    end = period_end(run.period)
    zero, one = decimal_literal(0), decimal_literal(1)
    for index, number, target, line in target_columns(model):
        prefix = f"t{index}_{number}"
        value, goal = f"r.{prefix}_value", f"r.{prefix}_goal"
        baseline, start = _baseline(values, periods, index, number, line, joins)
        compare = SQL_COMPARE.get(line.operator, ">=")
        met = f"({value} {compare} {goal})"
        gained = divide(f"({value} - {baseline})", f"({goal} - {baseline})")
        progress = (f"CASE WHEN {value} IS NULL OR {goal} IS NULL THEN NULL WHEN {met} THEN {one} "
                    f"WHEN {baseline} IS NULL THEN NULL WHEN ({baseline} {compare} {goal}) OR {goal} = {baseline} "
                    f"THEN {zero} ELSE greatest({zero}, least({one}, coalesce({gained}, {zero}))) END")
        past_deadline = "true" if line.deadline is not None and end >= line.deadline else "false"
        levels[0].extend([f"{baseline} AS {prefix}_baseline", f"{met} AS {prefix}_met", f"{progress} AS {prefix}_progress",
                          f"{_expected(end, start, line.deadline)} AS {prefix}_expected"])
        levels[1].append(
            f"CASE WHEN {prefix}_value IS NULL OR {prefix}_goal IS NULL THEN 'no_data' WHEN {prefix}_met THEN 'achieved' "
            f"WHEN {past_deadline} THEN 'missed' WHEN {prefix}_progress IS NULL OR {prefix}_expected IS NULL "
            f"THEN 'not_met' WHEN {prefix}_progress >= {prefix}_expected THEN 'on_track' ELSE 'at_risk' END "
            f"AS {prefix}_status")
    to_code = " ".join(f"WHEN {text_literal(status)} THEN {position}" for position, status in enumerate(STATUS_ORDER))
    to_status = " ".join(f"WHEN {position} THEN {text_literal(status)}" for position, status in enumerate(STATUS_ORDER))
    for index, target in enumerate(model.targets):
        if not target.lines:
            continue
        codes = ", ".join(f"CASE t{index}_{number}_status {to_code} END" for number in range(len(target.lines)))
        applies = "true" if not target.roles else f"_role IN ({', '.join(text_literal(role.text) for role in target.roles)})"
        levels[2].append(f"CASE WHEN {applies} THEN (CASE least({codes}) {to_status} END) END AS t{index}_status")


def _baseline(values: str, periods: list[str], index: int, number: int, line: ast.TargetLine,
              joins: list[str]) -> tuple[str, date | None]:
    """The SQL of a goal line's baseline, and the day the target was set (``from DATE``)."""
    prefix = f"t{index}_{number}"
    if line.baseline is None:
        return "NULL", None
    if not isinstance(line.baseline, ast.DateLiteral):
        return f"r.{prefix}_given", None
    start = line.baseline.value
    before = [period for period in periods if period_end(period) < start]
    if not before:
        return "NULL", start
    alias = f"b{index}_{number}"
    joins.append(f"LEFT JOIN (SELECT _agent, {prefix}_value AS baseline FROM {values} "
                 f"WHERE _period IN ({', '.join(text_literal(period) for period in before)}) "
                 f"QUALIFY row_number() OVER (PARTITION BY _agent ORDER BY _period DESC) = 1) {alias} "
                 f"ON {alias}._agent = r._agent")
    return f"{alias}.baseline", start


def _expected(end: date, start: date | None, deadline: date | None) -> str:
    """(E − start) / (deadline − start) in days, clamped to 0..1; NULL without a start day."""
    if start is None or deadline is None:
        return "CAST(NULL AS DECIMAL(18, 6))"
    total = (deadline - start).days
    elapsed = (end - start).days
    if total <= 0:
        share = Decimal(1) if elapsed >= total else Decimal(0)
    else:
        share = min(Decimal(1), max(Decimal(0), Decimal(elapsed) / Decimal(total)))
    return decimal_literal(share.quantize(Decimal("0.000001")))


def _unreached(connection, run: PolicyRun, values: str) -> list[str]:
    """A: each goal that no agent of the target's roles reached in any period, with the best value seen
    (nothing to say when the data has no agent of those roles: the target applies to nobody)."""
    model = run.plan.model
    warnings = []
    for index, number, target, line in target_columns(model):
        prefix = f"t{index}_{number}"
        compare = SQL_COMPARE.get(line.operator, ">=")
        best = "max" if compare in (">=", ">") else "min"
        roles = "true" if not target.roles else f"_role IN ({', '.join(text_literal(role.text) for role in target.roles)})"
        rows, reached, seen = connection.execute(
            f"SELECT count(*), coalesce(bool_or({prefix}_value {compare} {prefix}_goal), false), {best}({prefix}_value) "
            f"FROM {values} WHERE {roles}").fetchone()
        if reached or rows == 0:  # reached, or no agent in the data that the target applies to
            continue
        name = line.metric.text
        shown = _value_text(model, name, seen) if seen is not None else None
        warnings.append(  # named, not located: a warning must not depend on the layout or the folder
            f"target \"{target.name.value}\" of policy \"{model.name}\": no agent"
            f"{' of its roles' if target.roles else ''} reached {model.written(line).split(' by ')[0]} in any period "
            f"of the data; " + (f"the best value seen is {shown}" if shown else f"no value of '{name}' was seen")
            + " (is the goal achievable?)")
    return warnings


def _value_text(model, name: str, value: Decimal) -> str:
    metric = model.metric(name)
    if metric is not None:
        return metric_value_text(value, metric.type.text, metric.unit)
    if model.kind(name) is Kind.PERCENT:
        return metric_value_text(value, "percent")
    if model.kind(name) is Kind.DURATION:
        return metric_value_text(value, "duration")
    return plain(value)


# ---- awards -------------------------------------------------------------------------------------


def award_periods(period: str, award: ast.Award) -> list[str]:
    """The evaluated period and the N−1 periods of its kind just before it, latest first."""
    found = [period]
    for _ in range((award.periods or 1) - 1):
        found.append(previous_period(found[-1]))
    return found


def _award(connection, run: PolicyRun, index: int, award: ast.Award, periods: list[str], data_display: str,
           levels, joins: list[str]) -> list[str]:
    """Each period's state of the streak (level 1) and whether the award is held (level 2)."""
    model = run.plan.model
    levels[0].append(f"CASE WHEN r.w{index}_holds THEN 'held' ELSE 'not_held' END AS w{index}_p0")
    states = [f"w{index}_p0"]
    warnings = []
    window = award_periods(run.period, award)
    complete = all(period in periods for period in window)  # else every streak is broken anyway: no warnings
    for back, period in enumerate(window[1:], 1):
        name = f"w{index}_p{back}"
        states.append(name)
        if period not in periods:
            levels[0].append(f"'no_period' AS {name}")
            continue
        try:
            table = run.period_table(connection, period)
        except duckdb.Error as error:  # an overflow the plan could not turn into a missing value
            reason = str(error).strip().splitlines()[0]
            warnings.append(f"award \"{award.title.value}\" of policy \"{model.name}\": period {period} cannot be "
                            f"evaluated ({reason}); every streak through it is broken")
            levels[0].append(f"'error' AS {name}")
            continue
        earlier = PolicyRun(run.loaded, run.plan, period, table, run.typed_table)
        bad_rows: dict[int, str] = {}
        for problem in outcome_problems(connection, earlier, data_display):
            bad_rows.setdefault(problem.row, problem.message)
        alias = f"a{index}_{back}"
        bad = f"{alias}._row IN ({', '.join(str(row) for row in bad_rows)})" if bad_rows else "false"
        joins.append(f"LEFT JOIN (SELECT _row, _agent, w{index}_holds FROM {table}) {alias} ON {alias}._agent = r._agent")
        levels[0].append(f"CASE WHEN {alias}._agent IS NULL THEN 'no_row' WHEN {bad} THEN 'error' "
                         f"WHEN {alias}.w{index}_holds THEN 'held' ELSE 'not_held' END AS {name}")
        if bad_rows and complete:
            warnings += _broken_by_errors(connection, run, index, award, period, table, bad_rows)
    held = " AND ".join(f"{state} = 'held'" for state in states)
    levels[1].append(f"({held}) AS w{index}_held")
    return warnings


def _broken_by_errors(connection, run: PolicyRun, index: int, award: ast.Award, period: str, table: str,
                      bad_rows: dict[int, str]) -> list[str]:
    """A warning for each agent whose award held this period but whose row of ``period`` cannot be evaluated."""
    rows = ", ".join(str(row) for row in bad_rows)
    found = connection.execute(
        f"SELECT e._agent, e._row FROM {table} e JOIN {run.table} r ON r._agent = e._agent "
        f"WHERE e._row IN ({rows}) AND r.w{index}_holds ORDER BY e._agent").fetchall()
    return [f"award \"{award.title.value}\" of policy \"{run.plan.model.name}\": agent {agent}'s row of {period} "
            f"cannot be evaluated ({bad_rows[row].split(': ', 1)[-1]}), so the streak counts as broken"
            for agent, row in found]
