"""The names pass: declarations collected into a symbol table, duplicates reported.

Metrics and ``let`` values share one namespace (both are read by name in
expressions); levels, KPIs, adjustments, vetoes, bonuses and plans each have their
own.  Grades are declared by the outcomes of the ``grade`` block.  A metric may not
read a column that the data format reserves (``agent_id``, ``team``...), nor one
that another metric already reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perfrules import ast
from perfrules.diagnostics import DiagnosticSink, did_you_mean

RESERVED_COLUMNS = ("agent_id", "period", "role", "name", "team", "supervisor")


@dataclass
class Symbols:
    """What a policy declares, by name (first declaration wins)."""

    metrics: dict[str, ast.Metric] = field(default_factory=dict)
    lets: dict[str, ast.Let] = field(default_factory=dict)
    levels: dict[str, ast.Level] = field(default_factory=dict)
    kpis: dict[str, ast.Kpi] = field(default_factory=dict)
    grades: dict[str, ast.Text] = field(default_factory=dict)

    @property
    def values(self) -> list[str]:
        return [*self.metrics, *self.lets]


def _first_seen(sink: DiagnosticSink, seen: dict, key: str, span: ast.Span, what: str, quote: str = "'") -> bool:
    """Record ``key``; report PR302 and return False when it was declared before."""
    if key in seen:
        first = seen[key]
        sink.report("PR302", f"{what} {quote}{key}{quote} is declared twice (first on line {first.line})", span, "give each its own name")
        return False
    seen[key] = span
    return True


def collect_symbols(policy: ast.Policy, sink: DiagnosticSink) -> Symbols:
    symbols = Symbols()
    value_spans: dict[str, ast.Span] = {}
    for statement in policy.statements:
        if isinstance(statement, ast.Metric):
            if _first_seen(sink, value_spans, statement.name.text, statement.name.span, "the value"):
                symbols.metrics[statement.name.text] = statement
        elif isinstance(statement, ast.Let):
            if _first_seen(sink, value_spans, statement.name.text, statement.name.span, "the value"):
                symbols.lets[statement.name.text] = statement

    level_spans: dict[str, ast.Span] = {}
    for level in policy.levels:
        if _first_seen(sink, level_spans, level.name.text, level.name.span, "the level"):
            symbols.levels[level.name.text] = level

    named_blocks = {
        ast.Kpi: "the KPI", ast.Adjust: "the adjustment", ast.Veto: "the veto",
        ast.Bonus: "the bonus", ast.Plan: "the plan", ast.Target: "the target",
    }
    for kind, what in named_blocks.items():
        spans: dict[str, ast.Span] = {}
        for statement in policy.of_type(kind):
            if _first_seen(sink, spans, statement.name.value, statement.name.span, what, '"') and kind is ast.Kpi:
                symbols.kpis[statement.name.value] = statement

    award_spans: dict[str, ast.Span] = {}
    for award in policy.of_type(ast.Award):
        _first_seen(sink, award_spans, award.title.value, award.title.span, "the award", '"')

    for grade in policy.of_type(ast.Grade):
        for rule in grade.rules:
            symbols.grades.setdefault(rule.grade.value, rule.grade)

    role_spans: dict[str, ast.Span] = {}
    for role in policy.roles:
        _first_seen(sink, role_spans, role.text, role.span, "the role")

    _check_columns(symbols, sink)
    return symbols


def _check_columns(symbols: Symbols, sink: DiagnosticSink) -> None:
    columns: dict[str, ast.Metric] = {}
    for metric in symbols.metrics.values():
        column = metric.column
        option = metric.option("column")
        span = option.span if option else metric.name.span
        if column in RESERVED_COLUMNS:
            sink.report(
                "PR308",
                f"metric '{metric.name.text}' would read the column '{column}', which the data format reserves",
                span,
                "map it to another header with column \"...\"" if option is None else "choose another column",
            )
        elif column in columns:
            other = columns[column]
            sink.report(
                "PR308",
                f"metric '{metric.name.text}' reads the column '{column}', which metric '{other.name.text}' already reads",
                span,
            )
        else:
            columns[column] = metric


def level_declared(level: ast.Name, symbols: Symbols, sink: DiagnosticSink) -> None:
    """Report PR303 unless ``level`` is declared in the levels block."""
    if level.text in symbols.levels:
        return
    if not symbols.levels:
        sink.report("PR303", f"unknown level '{level.text}': the policy declares no levels", level.span, f"declare it in a levels block: levels {{ {level.text} = 100 }}")
    else:
        sink.report("PR303", f"unknown level '{level.text}'", level.span, did_you_mean(level.text, symbols.levels))


def grade_declared(grade: ast.Text, symbols: Symbols, sink: DiagnosticSink) -> None:
    """Report PR305 unless the grade block can give ``grade``."""
    if grade.value in symbols.grades:
        return
    hint = did_you_mean(grade.value, symbols.grades, quote='"') if symbols.grades else "the policy has no grade block that gives it"
    sink.report("PR305", f'unknown grade "{grade.value}"', grade.span, hint)
