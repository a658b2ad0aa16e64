"""The structure pass: required and single statements, settings, block shapes, ranges.

Everything here can be judged from one statement at a time, without knowing what
names mean: ``version``/``kpi`` present (``roles`` too, except that a policy without
``roles`` is a base, only used through ``extends``, whose children complete it), ``period``/``language`` values,
metric types and units, rule order inside blocks (``else`` last, ``measure`` first),
points within 0..100, and limits and weights that make sense.
"""

from __future__ import annotations

from decimal import Decimal

from perfrules import ast
from perfrules.diagnostics import DiagnosticSink, did_you_mean
from perfrules.values import SECONDS_PER_UNIT, plain

PERIODS = ("month", "quarter", "year")
LANGUAGES = ("zh", "en")
METRIC_TYPES = ("percent", "duration", "count", "number", "money", "text", "bool")
DURATION_UNITS = tuple(SECONDS_PER_UNIT)
SINGLE_STATEMENTS = {
    ast.Version: "version", ast.Roles: "roles", ast.Period: "period", ast.Language: "language",
    ast.Levels: "levels", ast.Grade: "grade", ast.ScoreLimit: "score limit", ast.Swot: "swot",
}
HUNDRED = Decimal(100)


def check_structure(policy: ast.Policy, sink: DiagnosticSink) -> None:
    _required_and_single(policy, sink)
    for statement in policy.statements:
        match statement:
            case ast.Period(value=value):
                _setting(sink, value, PERIODS, "period")
            case ast.Language(value=value):
                _setting(sink, value, LANGUAGES, "language")
            case ast.Metric():
                _metric(statement, sink)
            case ast.Levels(levels=levels):
                if not levels:
                    sink.report("PR113", "the levels block is empty", statement.span, "declare levels like: excellent \"优秀\" = 100")
                for level in levels:
                    _points_in_range(sink, level.points, level.points_span, "a level")
            case ast.Kpi():
                _kpi(statement, sink)
            case ast.Adjust():
                _adjust(statement, sink)
            case ast.ScoreLimit(limit=limit):
                _limit(sink, limit, "score limit")
            case ast.Grade(rules=rules):
                _rules_end_with_else(sink, rules, "grade")
            case ast.Bonus(rules=rules):
                _rules_end_with_else(sink, rules, "bonus")
            case ast.Plan(actions=actions):
                if not actions:
                    sink.report("PR113", f'the plan "{statement.name.value}" has no actions', statement.span, 'add actions like: "参加沟通技巧培训" within 14 days')
            case ast.Swot(items=items):
                if not items:
                    sink.report("PR113", "the swot block is empty", statement.span)


def _required_and_single(policy: ast.Policy, sink: DiagnosticSink) -> None:
    # A base (no roles) is completed by the policies that extend it: each of them is
    # checked with everything it inherits, version and KPIs included.
    required = () if policy.is_base else ((ast.Version, "version"), (ast.Kpi, "kpi"))
    for kind, keyword in required:
        if not policy.of_type(kind):
            example = {"version": 'version "2026.11"', "kpi": 'kpi "name" weight 100% { ... }'}[keyword]
            sink.report("PR101", f"the policy has no `{keyword}` statement", policy.name.span, f"add one, for example: {example}")
    for kind, keyword in SINGLE_STATEMENTS.items():
        found = policy.of_type(kind)
        for extra in found[1:]:
            sink.report("PR102", f"`{keyword}` is given twice (first on line {found[0].span.line})", extra.span, "keep one")


def _setting(sink: DiagnosticSink, value: ast.Name, allowed: tuple[str, ...], what: str) -> None:
    if value.text not in allowed:
        hint = did_you_mean(value.text, allowed) or f"write one of: {', '.join(allowed)}"
        sink.report("PR106", f"'{value.text}' is not a {what}", value.span, hint)


def _metric(metric: ast.Metric, sink: DiagnosticSink) -> None:
    type_name = metric.type.text
    if type_name not in METRIC_TYPES:
        hint = did_you_mean(type_name, METRIC_TYPES) or f"types are: {', '.join(METRIC_TYPES)}"
        sink.report("PR107", f"'{type_name}' is not a metric type", metric.type.span, hint)
    seen: dict[str, ast.MetricOption] = {}
    for option in metric.options:
        if option.kind in seen:
            first = seen[option.kind]
            if option.kind == "direction" and first.value != option.value:
                message = "a metric cannot be both higher and lower is better"
            else:
                message = f"the metric's {option.kind} is given twice"
            sink.report("PR115", message, option.span, "keep one")
            continue
        seen[option.kind] = option
        if option.kind == "unit":
            unit = option.value.text
            if type_name != "duration":
                sink.report("PR108", f"only a duration metric takes a unit; '{metric.name.text}' is {type_name}", option.span, "remove `in " + unit + "`")
            elif unit not in DURATION_UNITS:
                hint = did_you_mean(unit, DURATION_UNITS) or "write in s, in min, in h or in d"
                sink.report("PR108", f"'{unit}' is not a duration unit", option.value.span, hint)
        elif option.kind == "direction" and type_name in ("text", "bool"):
            sink.report("PR115", f"a {type_name} metric cannot be better or worse", option.span, "remove it")
        elif option.kind == "sample" and (option.minimum is None or option.minimum != option.minimum.to_integral_value()):
            sink.report("PR014", "the sample minimum must be a whole number", option.span)


def _points_in_range(sink: DiagnosticSink, points: Decimal, span: ast.Span, what: str) -> None:
    if not 0 <= points <= HUNDRED:
        sink.report("PR110", f"{what} gives {plain(points)} points; points run from 0 to 100", span, "use a number from 0 to 100; add or deduct beyond that with an adjust block")


def _kpi(kpi: ast.Kpi, sink: DiagnosticSink) -> None:
    if not 0 < kpi.weight <= 1:
        sink.report("PR112", f'the weight of KPI "{kpi.name.value}" must be more than 0% and at most 100%', kpi.weight_span)
    if isinstance(kpi.missing, ast.MissingPoints):
        _points_in_range(sink, kpi.missing.points, kpi.missing.span, "`when missing`")
    lines = kpi.lines
    if not lines or all(isinstance(line, ast.Measure) for line in lines):
        sink.report("PR109", f'the KPI "{kpi.name.value}" has no rules', kpi.name.span, "add rules like: csat >= 90% => excellent, or a points line")
        return
    for index, line in enumerate(lines):
        if isinstance(line, ast.Measure) and index > 0:
            sink.report("PR105", "`measure` must be the first line of the KPI", line.span, "move it to the top of the block")
        if isinstance(line, ast.KpiRule) and isinstance(line.outcome, ast.PointsOutcome):
            _points_in_range(sink, line.outcome.points, line.outcome.span, "this rule")
        if isinstance(line, ast.PointsLinear):
            _points_in_range(sink, line.from_points, line.span, "this line")
            _points_in_range(sink, line.to_points, line.span, "this line")
    rules = [line for line in lines if isinstance(line, ast.KpiRule)]
    points_lines = [line for line in lines if isinstance(line, (ast.PointsLinear, ast.PointsFormula))]
    if points_lines and rules:
        sink.report("PR109", "a KPI is scored either by rules or by one points line, not both", points_lines[0].span, "keep the rules or the points line")
    for extra in points_lines[1:]:
        sink.report("PR109", "a KPI takes only one points line", extra.span, "combine them into one formula")
    _rules_end_with_else(sink, rules, "KPI")


def _rules_end_with_else(sink: DiagnosticSink, rules, block: str) -> None:
    if not rules:
        return
    else_rule = next((rule for rule in rules if rule.condition is None), None)
    if else_rule is None:
        return
    for rule in rules[rules.index(else_rule) + 1 :]:
        sink.report("PR104", f"this rule comes after `else` (line {else_rule.span.line}) and can never be reached", rule.span, "`else` must be the last rule: move this rule above it")


def _adjust(adjust: ast.Adjust, sink: DiagnosticSink) -> None:
    limits = [line for line in adjust.lines if isinstance(line, ast.Limit)]
    for extra in limits[1:]:
        sink.report("PR102", f"`limit` is given twice (first on line {limits[0].span.line})", extra.span, "keep one")
    for limit in limits:
        _limit(sink, limit)
    if len(limits) == len(adjust.lines):
        sink.report("PR113", f'the adjustment "{adjust.name.value}" has no lines', adjust.span, 'add lines like: +2 per qa_commendations "沟通技巧优秀"')


def _limit(sink: DiagnosticSink, limit: ast.Limit, keyword: str = "limit") -> None:
    if limit.low > limit.high:
        sink.report("PR111", f"the limit runs backwards: {plain(limit.low)} is more than {plain(limit.high)}", limit.span, f"write {keyword} {plain(limit.high)} to {plain(limit.low)}")
