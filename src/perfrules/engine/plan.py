"""The plan: one policy compiled into a chain of SQL stages over all its agents at once.

``compile_plan`` reads a checked policy once and produces a :class:`Plan`: the SQL
of each stage (typed and sampled metrics, KPI rule matching, KPI points, score,
ranks, grade and veto, bonus, plans and SWOT notes) as common table expressions,
and the metadata that says what each result column means (which rule decided,
by its ordinal in its block: :class:`~perfrules.check.model.Rule`, never by its line).  Evaluation (:mod:`perfrules.engine.run`)
executes the plan in DuckDB; explanations and reports read the same columns.

Column names inside the plan are generated (``k0_points``, ``b1_rule``...): user
text never becomes an identifier except the data's headers, always quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfrules import ast
from perfrules.check.model import AdjustModel, BonusModel, KpiModel, PolicyModel, Rule, rank_key
from perfrules.data.validate import KEYS
from perfrules.engine.expressions import ExpressionCompiler, Scope, rank_cutoff
from perfrules.engine.sql import DECIMAL_TYPE, decimal_literal, known_text, known_texts_type, sum_of, text_literal

# `valued` is read by each ranking's counts and sizes and by the join back: computed once.
MATERIALIZE = {"valued": "MATERIALIZED "}
# What `kN_status` says of a KPI (docs/evaluation.md): missing and unmatched stop the evaluation.
KPI_STATUSES = ("scored", "excluded", "substituted", "missing", "unmatched")
# A bonus amount, to the cent, below a trillion like every value (an amount beyond is missing,
# as the outcome check says): eight bytes a row where DuckDB's sums would widen it to sixteen.
AMOUNT_TYPE = "DECIMAL(14, 2)"
ZERO = decimal_literal(0)
HUNDRED = decimal_literal(100)


@dataclass
class RankPlan:
    """One distinct ranking (direction, ``by`` value, within team or not)."""

    index: int
    condition: ast.RankCondition


@dataclass
class Plan:
    """A compiled policy: its stages as SQL and the meaning of the result columns."""

    model: PolicyModel
    metric_columns: dict[str, str]  # metric name -> column of the typed stage
    ranks: list[RankPlan]
    stages: list[tuple[str, str]]  # (name, SELECT ...) in order

    @property
    def policy(self) -> ast.Policy:
        return self.model.policy

    def target_values_sql(self, typed_table: str) -> str:
        """Each goal's value and goal in every row of the policy, every period (for baselines
        and the achievability warning): the plan's stages up to ``targeted``, unranked."""
        upto = [name for name, _ in self.stages].index("targeted") + 1
        ctes = [f"{name} AS ({body})" for name, body in self.stages[:upto]]
        ctes[0] = ctes[0].replace("__SOURCE__", typed_table).replace("__WHERE__", "true")
        return "WITH " + ",\n".join(ctes) + "\nSELECT * FROM targeted"

    def sql(self, typed_table: str, period: str) -> str:
        """The whole query over the policy's typed rows of one period."""
        ctes = []
        for name, body in self.stages:
            ctes.append(f"{name} AS {MATERIALIZE.get(name, '')}({body})")
        head = ctes[0].replace("__SOURCE__", typed_table).replace("__WHERE__", f"_period = {text_literal(period)}")
        ctes.insert(1, f"{PERIOD} AS (SELECT {text_literal(period)} AS _period)")
        # Columns only the stages need; leaving them out makes the result table cheaper to store.
        internal = [f"{kpi.prefix}_{suffix}" for kpi in self.model.kpis for suffix in ("rule_points", "rule_level", "weight")]
        exclude = f" EXCLUDE ({', '.join(internal)})" if internal else ""
        return "WITH " + ",\n".join([head, *ctes[1:]]) + f"\nSELECT *{exclude} FROM {self.stages[-1][0]}"


# The one-row relation of the period evaluated (Plan.sql's), which `ranked` joins back.
PERIOD = "period_evaluated"
# What stops a plan compiled with ``agents_once`` (engine/single_pass.py) at an agent's second row.
AGENT_TWICE = "perfrules: an agent has more than one row"


def compile_plan(model: PolicyModel, agents_once: bool = False) -> Plan:
    """Compile a policy that checked without errors.

    ``agents_once``: the query stops (``error()``) when an agent has more than one row, which
    the stored route's checks have ruled out before the plan runs; the single pass has not."""
    policy, symbols = model.policy, model.symbols
    metric_columns = {metric.name.text: f"m{index}" for index, metric in enumerate(model.metrics)}
    stages: list[tuple[str, str]] = []

    # Stage 1: the policy's typed rows (the view typed_N of perfrules.data.validate.prepare_rows) of the period.
    stages.append(("typed", f"SELECT {KEYS}"
                   + "".join(f", {column}" for column in metric_columns.values()) + " FROM __SOURCE__ WHERE __WHERE__"))

    # Stage 2: `sample N at least K` makes a value missing when the sample is too small.
    sampled = []
    for name, metric in symbols.metrics.items():
        column = metric_columns[name]
        if metric.sample is not None:
            count_column = metric_columns[metric.sample[0]]
            minimum = decimal_literal(metric.sample[1])
            sampled.append(f"CASE WHEN {count_column} IS NULL OR {count_column} < {minimum} THEN NULL "
                           f"ELSE {column} END AS {column}")
        else:
            sampled.append(column)
    stages.append(("sampled", f"SELECT {KEYS}, "
                   + ", ".join(sampled) + " FROM typed"))

    scope = Scope({name: column for name, column in metric_columns.items()}, symbols.lets)
    compiler = ExpressionCompiler(scope)
    if model.targets:  # each goal's value, goal and given baseline (read by perfrules.engine.standing)
        stages.append(("targeted", _target_stage(model, compiler)))
    kpis = model.kpis
    values = compiler.new_stage()
    columns = "".join(_kpi_match(plan, compiler) for plan in kpis)
    stages.append(("matched", f"SELECT {values.star()}{columns} FROM {values.source(stages[-1][0])}"))
    values = compiler.new_stage()
    columns = "".join(_kpi_rule_outcome(plan, compiler, symbols) for plan in kpis)
    stages.append(("ruled", f"SELECT {values.star()}{columns} FROM {values.source('matched')}"))
    stages.append(("pointed", "SELECT *" + "".join(_kpi_points(plan, symbols) for plan in kpis) + " FROM ruled"))
    for plan in kpis:
        scope.kpi_levels[plan.name] = f"{plan.prefix}_level"

    stages.append(("scored", _score_stage(policy, kpis, model.adjusts, compiler)))
    scope.score = "score"

    ranks = [RankPlan(index, condition) for index, condition in enumerate(model.rank_conditions)]
    stages.extend(_rank_stages(ranks, compiler, agents_once))
    scope.rank = "rank"
    for plan in ranks:
        scope.rank_conditions[rank_key(plan.condition)] = (f"r{plan.index}_position", f"r{plan.index}_size")

    stages.append(("graded", _grade_stage(model.vetoes, model.grade_rules, compiler)))
    scope.grade = "grade"

    stages.append(("finished", _final_stage(model.bonuses, model.plans, model.swot_items, compiler)))
    if model.awards:  # whether each award's condition holds in this period (streaks: perfrules.engine.standing)
        values = compiler.new_stage()
        holds = ", ".join(f"{compiler.condition(award.condition)} AS w{index}_holds" for index, award in enumerate(model.awards))
        stages.append(("awarded", f"SELECT {values.star()}, {holds} FROM {values.source('finished')}"))
    return Plan(model, metric_columns, ranks, stages)


# ---- targets -------------------------------------------------------------------------------------


def target_columns(model: PolicyModel) -> list[tuple[int, int, ast.Target, ast.TargetLine]]:
    """(target index, line index, target, goal line): the goal lines in the order of the columns
    ``t{target}_{line}_value``, ``_goal`` and (for ``from VALUE``) ``_given``."""
    return [(index, number, target, line) for index, target in enumerate(model.targets)
            for number, line in enumerate(target.lines)]


def _target_stage(model: PolicyModel, compiler: ExpressionCompiler) -> str:
    values = compiler.new_stage()
    columns = []
    for index, number, _, line in target_columns(model):
        prefix = f"t{index}_{number}"
        columns.append(f"{compiler.compile(ast.Reference(line.metric.text, line.metric.span))} AS {prefix}_value")
        columns.append(f"{compiler.compile(line.value)} AS {prefix}_goal")
        if line.baseline is not None and not isinstance(line.baseline, ast.DateLiteral):
            columns.append(f"{compiler.compile(line.baseline)} AS {prefix}_given")
    return f"SELECT {values.star()}, {', '.join(columns)} FROM {values.source('sampled')}"


# ---- KPIs ------------------------------------------------------------------------------------


def _kpi_match(plan: KpiModel, compiler: ExpressionCompiler) -> str:
    """``kN_value`` (the measured value) and ``kN_rule``: -1 missing, 0 unmatched, else the rule's ordinal."""
    prefix = plan.prefix
    value = compiler.values.once(compiler.compile(plan.measure)) if plan.measure is not None else "NULL"
    missing = f"{value} IS NULL" if plan.measure is not None else "false"
    cases = []
    for rule in plan.rules:
        line = rule.node
        if isinstance(line, ast.KpiRule) and line.condition is not None:
            condition = compiler.condition(line.condition)
        else:  # `else`, or a points line: decides for every value that is not missing
            condition = "true"
        cases.append(f"WHEN {condition} THEN {rule.ordinal}")
    return f", {value} AS {prefix}_value, CASE WHEN {missing} THEN -1 {' '.join(cases)} ELSE 0 END AS {prefix}_rule"


def _clamp(value: str, low: str, high: str) -> str:
    """``value`` limited to low..high; missing stays missing (DuckDB's least/greatest skip
    NULLs, so least(NULL, 10) would be 10).  ``value`` is mentioned twice: keep it simple."""
    return f"CASE WHEN {value} IS NULL THEN NULL ELSE greatest({low}, least({value}, {high})) END"


def _kpi_rule_outcome(plan: KpiModel, compiler: ExpressionCompiler, symbols) -> str:
    """``kN_rule_points`` and ``kN_rule_level``: what the deciding line gives (computed once)."""
    prefix = plan.prefix
    points_cases, level_cases = [], []
    for rule in plan.rules:
        line, line_number = rule.node, rule.ordinal
        match line:
            case ast.KpiRule(outcome=ast.LevelOutcome(level=level)):
                points_cases.append(f"WHEN {line_number} THEN {decimal_literal(symbols.levels[level.text].points)}")
                level_cases.append(f"WHEN {line_number} THEN {known_text(level.text, symbols.levels)}")
            case ast.KpiRule(outcome=ast.PointsOutcome(points=points)):
                points_cases.append(f"WHEN {line_number} THEN {decimal_literal(points)}")
            case ast.PointsLinear():
                points_cases.append(f"WHEN {line_number} THEN {_linear_points(line, compiler)}")
            case ast.PointsFormula(expression=expression):
                points_cases.append(f"WHEN {line_number} THEN {_clamp(compiler.values.once(compiler.compile(expression)), ZERO, HUNDRED)}")
    line = f"{prefix}_rule"
    rule_points = f"CASE {line} {' '.join(points_cases)} END" if points_cases else f"CAST(NULL AS {DECIMAL_TYPE})"
    rule_level = f"CASE {line} {' '.join(level_cases)} END" if level_cases else _no_level(symbols)
    return f", {rule_points} AS {prefix}_rule_points, {rule_level} AS {prefix}_rule_level"


def _kpi_points(plan: KpiModel, symbols) -> str:
    """``kN_points``, ``kN_level``, ``kN_status`` and ``kN_weight`` (0 when excluded)."""
    prefix = plan.prefix
    missing = plan.node.missing
    substitute_points, substitute_level, missing_status = "NULL", _no_level(symbols), "missing"
    if isinstance(missing, ast.MissingExclude):
        missing_status = "excluded"
    elif isinstance(missing, ast.MissingLevel):
        substitute_points = decimal_literal(symbols.levels[missing.level.text].points)
        substitute_level = known_text(missing.level.text, symbols.levels)
        missing_status = "substituted"
    elif isinstance(missing, ast.MissingPoints):
        substitute_points = decimal_literal(missing.points)
        missing_status = "substituted"
    line = f"{prefix}_rule"
    rule_points, rule_level = f"{prefix}_rule_points", f"{prefix}_rule_level"
    decided = f"{line} > 0 AND {rule_points} IS NOT NULL"
    # A formula or a line can come out missing (a division by zero): treat as a missing KPI.
    status = (f"CASE WHEN {line} = -1 OR ({line} > 0 AND {rule_points} IS NULL) THEN {_status(missing_status)} "
              f"WHEN {line} = 0 THEN {_status('unmatched')} ELSE {_status('scored')} END")
    weight = decimal_literal(plan.weight)
    substituted = "true" if missing_status == "substituted" else "false"
    return (
        f", {status} AS {prefix}_status"
        f", CASE WHEN {decided} THEN {rule_points} "
        f"WHEN {substituted} THEN {substitute_points} END AS {prefix}_points"
        f", CASE WHEN {decided} THEN {rule_level} "
        f"WHEN {substituted} THEN {substitute_level} END AS {prefix}_level"
        f", CASE WHEN {decided} THEN {weight} "
        f"WHEN {substituted} THEN {weight} ELSE {ZERO} END AS {prefix}_weight"
    )


# Statuses and levels are ENUMs (levels as text past sql.ENUM_CONSTANTS_MOST): `valued` holds a
# million of each, one byte apiece instead of a 16-byte string (docs/performance.md, session 9).
def _status(status: str) -> str:
    return known_text(status, KPI_STATUSES)


def _no_level(symbols) -> str:
    """A missing level, of the type of the policy's levels (text when it declares none)."""
    return f"CAST(NULL AS {known_texts_type(symbols.levels)})" if symbols.levels else "CAST(NULL AS VARCHAR)"


def _linear_points(line: ast.PointsLinear, compiler: ExpressionCompiler) -> str:
    """P + (Q − P) × (x − A) / (B − A), clamped between P and Q; the division comes last,
    so a result that is exact to six decimals is exact."""
    x = compiler.compile(line.measure)
    start, end = compiler.compile(line.from_value), compiler.compile(line.to_value)
    p, q = decimal_literal(line.from_points), decimal_literal(line.to_points)
    raw = f"({p} + {compiler.divide(compiler.times(f'({q} - {p})', f'({x} - {start})'), f'({end} - {start})')})"
    low, high = (p, q) if line.from_points <= line.to_points else (q, p)
    return _clamp(compiler.values.once(raw), low, high)


# ---- score ------------------------------------------------------------------------------------


def _score_stage(policy: ast.Policy, kpis: tuple[KpiModel, ...], adjusts: tuple[AdjustModel, ...],
                 compiler: ExpressionCompiler) -> str:
    # Each KPI's weighted points (kN_weighted, what explain and the packet show) in a stage of their own.
    values = compiler.new_stage()
    weighted = ", ".join(f"{compiler.times(f'coalesce({plan.prefix}_points, {ZERO})', f'{plan.prefix}_weight')} "
                         f"AS {plan.prefix}_weighted" for plan in kpis)
    weighted_stage = f"SELECT {values.star()}{', ' + weighted if weighted else ''} FROM {values.source('pointed')}"
    values = compiler.new_stage()
    weighted_sum = sum_of([f"{plan.prefix}_weighted" for plan in kpis])
    weights = sum_of([f"{plan.prefix}_weight" for plan in kpis])
    columns = [f"{compiler.divide(weighted_sum, weights)} AS base_score"]
    totals = []
    for plan in adjusts:
        raw_terms = []
        for number, line in enumerate(plan.lines):
            amount = decimal_literal(line.amount)
            if isinstance(line, ast.AdjustPer):
                # A missing count adds nothing (documented in docs/language.md).
                value = compiler.times(amount, f"coalesce({compiler.compile(line.per)}, {ZERO})")
            else:
                value = f"CASE WHEN {compiler.condition(line.condition)} THEN {amount} ELSE {ZERO} END"
            columns.append(f"{value} AS a{plan.index}_{number}")
            raw_terms.append(f"a{plan.index}_{number}")
        raw = sum_of(raw_terms) if raw_terms else ZERO
        total = raw if plan.limit is None else _clamp(raw, decimal_literal(plan.limit.low), decimal_literal(plan.limit.high))
        columns.append(f"{total} AS a{plan.index}_total")
        totals.append(f"a{plan.index}_total")
    score = sum_of(["base_score", *totals])
    limit = policy.first(ast.ScoreLimit)
    if limit is not None:
        score = _clamp(score, decimal_literal(limit.limit.low), decimal_literal(limit.limit.high))
    # Two SELECT levels: the adjustment columns are referenced by name in `score`.
    inner = f"SELECT {values.star()}, " + ", ".join(columns) + f" FROM {values.source(f'({weighted_stage})')}"
    return f"SELECT *, {score} AS score FROM ({inner})"


# ---- ranks ---------------------------------------------------------------------------------------


def _rank_stages(ranks: list[RankPlan], compiler: ExpressionCompiler, agents_once: bool) -> list[tuple[str, str]]:
    """Positions and group sizes by histogram: ``valued`` adds each ranking's value to the rows,
    ``ranked`` joins back each value's position among the distinct values.

    A window over a million rows sorts them all on one thread; the distinct values of a
    score (or a ``by`` value) are far fewer, so each ranking counts its values (by team for
    ``within team``), finds each distinct value's position with a window over those counts
    (1 + how many are strictly better: ``rank()``), and the rows find theirs with a hash
    join.  Missing values get no position; sizes count only the values present (spec §9).
    ``agents_once``: the size of the scores' ranking also counts the agents (by a hash: two
    that collide only send the file to the stored route, which compares them).
    """
    stage_values = compiler.new_stage()
    values, joins, columns = [], [], []

    def ranking(name: str, value: str, order: str, within_team: bool) -> tuple[str, str]:
        team = "_team AS __team, " if within_team else ""
        partition = "PARTITION BY __team " if within_team else ""
        counts = f"SELECT {team}{value} AS __value, count(*) AS __count FROM valued WHERE {value} IS NOT NULL GROUP BY ALL"
        positions = (f"SELECT *, CAST(sum(__count) OVER ({partition}ORDER BY __value {order} ROWS UNBOUNDED PRECEDING) "
                     f"- __count + 1 AS BIGINT) AS __position FROM ({counts})")
        same_team = f" AND valued._team IS NOT DISTINCT FROM {name}.__team" if within_team else ""
        joins.append(f"LEFT JOIN ({positions}) {name} ON valued.{value} = {name}.__value{same_team}")
        if within_team:
            sizes = f"SELECT _team AS __team, count({value}) AS __size FROM valued GROUP BY _team"
            joins.append(f"LEFT JOIN ({sizes}) {name}_sizes ON valued._team IS NOT DISTINCT FROM {name}_sizes.__team")
        elif agents_once and name == "__by_score":
            size = (f"CASE WHEN count(*) <> count(DISTINCT hash(_agent)) THEN CAST(error({text_literal(AGENT_TWICE)}) "
                    f"AS BIGINT) ELSE count({value}) END")
            joins.append(f"CROSS JOIN (SELECT {size} AS __size FROM valued) {name}_sizes")
        else:
            joins.append(f"CROSS JOIN (SELECT count({value}) AS __size FROM valued) {name}_sizes")
        return f"{name}.__position", f"{name}_sizes.__size"

    position, size = ranking("__by_score", "score", "DESC", False)
    columns += [f"{position} AS rank", f"{size} AS rank_of"]
    for plan in ranks:
        condition = plan.condition
        prefix = f"r{plan.index}"
        if condition.by is None and condition.direction == "top" and not condition.within_team:
            columns += [f"{position} AS {prefix}_position", f"{size} AS {prefix}_size"]  # the same ranking
            continue
        value = f"{prefix}_value"
        values.append(f"{compiler.compile(condition.by) if condition.by is not None else 'score'} AS {value}")
        order = "DESC" if condition.direction == "top" else "ASC"
        at, of = ranking(f"__{prefix}", value, order, condition.within_team)
        columns += [f"{at} AS {prefix}_position", f"{of} AS {prefix}_size"]
    # The period is the same on every row (Plan.sql's): `valued` does not store it a million times.
    valued = (f"SELECT * EXCLUDE (_period) FROM (SELECT {stage_values.star()}{''.join(', ' + value for value in values)} "
              f"FROM {stage_values.source('scored')})")
    internal = f" EXCLUDE ({', '.join(value.rsplit(' AS ', 1)[1] for value in values)})" if values else ""
    ranked = (f"SELECT valued.*{internal}, {PERIOD}._period, {', '.join(columns)} FROM valued {' '.join(joins)} "
              f"CROSS JOIN {PERIOD}")
    return [("valued", valued), ("ranked", ranked)]


# ---- grade, veto, bonus, plans -------------------------------------------------------------------


def _grade_stage(vetoes: tuple[Rule, ...], rules: tuple[Rule, ...], compiler: ExpressionCompiler) -> str:
    """``grade_rule`` and ``veto_rule`` (ordinals; 0: no grade rule matched, NULL: no veto) and ``grade``."""
    values = compiler.new_stage()
    rule_cases = " ".join(
        f"WHEN {'true' if rule.node.condition is None else compiler.condition(rule.node.condition)} THEN {rule.ordinal}"
        for rule in rules
    )
    grade_rule = f"CASE {rule_cases} ELSE 0 END" if rules else "NULL"
    grade_by_rule = " ".join(f"WHEN {rule.ordinal} THEN {text_literal(rule.node.grade.value)}" for rule in rules)
    veto_cases = " ".join(f"WHEN {compiler.condition(veto.node.condition)} THEN {veto.ordinal}" for veto in vetoes)
    veto_rule = f"CASE {veto_cases} END" if vetoes else "CAST(NULL AS INTEGER)"
    veto_grade = " ".join(f"WHEN {veto.ordinal} THEN {text_literal(veto.node.grade.value)}" for veto in vetoes)
    grade = f"CASE grade_rule {grade_by_rule} END" if rules else "NULL"
    if vetoes:
        grade = f"CASE WHEN veto_rule IS NOT NULL THEN (CASE veto_rule {veto_grade} END) ELSE {grade} END"
    inner = f"SELECT {values.star()}, {grade_rule} AS grade_rule, {veto_rule} AS veto_rule FROM {values.source('ranked')}"
    return f"SELECT *, {grade} AS grade FROM ({inner})"


def _final_stage(bonuses: tuple[BonusModel, ...], plans: tuple[ast.Plan, ...], swot_items: tuple[ast.SwotItem, ...],
                 compiler: ExpressionCompiler) -> str:
    values = compiler.new_stage()
    columns = []
    for index, bonus in enumerate(bonuses):
        cases = " ".join(
            f"WHEN {'true' if rule.node.condition is None else compiler.condition(rule.node.condition)} THEN {rule.ordinal}"
            for rule in bonus.rules
        )
        columns.append(f"CASE {cases} ELSE 0 END AS b{index}_rule")
    # The values stay through `inner`, which the amounts read, and are left out after.
    inner = "SELECT *" + "".join(f", {column}" for column in columns) + " FROM "
    amounts = []
    for index, bonus in enumerate(bonuses):
        cases = " ".join(
            f"WHEN {rule.ordinal} THEN TRY_CAST(round({_amount(rule.node, compiler)}, 2) AS {AMOUNT_TYPE})"
            for rule in bonus.rules
        )
        amounts.append(f"CASE b{index}_rule {cases} END AS b{index}_amount")
    for index, plan in enumerate(plans):
        amounts.append(f"{compiler.condition(plan.condition)} AS p{index}_due")
    for index, item in enumerate(swot_items):
        amounts.append(f"{compiler.condition(item.condition)} AS s{index}_holds")
    inner += values.source("graded")
    if not amounts:
        return f"SELECT {values.star()} FROM ({inner})"
    return f"SELECT {values.star()}, {', '.join(amounts)} FROM ({inner})"


def _amount(rule: ast.BonusRule, compiler: ExpressionCompiler) -> str:
    amount = rule.amount
    match amount:
        case ast.AmountExpression(expression=expression):
            return compiler.compile(expression)
        case ast.AmountShare(share=share, of=of):
            return compiler.times(decimal_literal(share), compiler.compile(of))
        case ast.AmountShareRange(low=low, high=high, of=of):
            condition: ast.RankCondition = rule.condition
            position, size = compiler.scope.rank_conditions[rank_key(condition)]
            tier = compiler.values.once(rank_cutoff(condition, size))
            # X × (B − (B − A) × (position − 1) / (tier − 1)), dividing last (exact to 6 decimals).
            base = compiler.compile(of)
            top_share = compiler.times(decimal_literal(high), base)
            step = compiler.divide(compiler.times(compiler.times(decimal_literal(high - low), base), f"({position} - 1)"),
                                   f"({tier} - 1)")
            return f"CASE WHEN {tier} <= 1 THEN {top_share} ELSE {top_share} - {step} END"
    raise AssertionError(amount)
