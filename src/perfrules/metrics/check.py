"""The check pass of metric definitions: every mistake of a file at once, located.

It resolves each source's columns (declared with ``column NAME: TYPE``, else text),
gives every expression a kind with the policy language's rules (a duration is compared
with a duration, ``60`` alone is a plain number, text only with ``==``/``!=``), checks
each metric's declared type against what its aggregate yields (``average`` of a
duration is a duration, ``share`` a percent, ``count`` a count), and reads the settings
(timestamp formats, units, the period kind).  The result is a :class:`MetricsModel`,
the one checked form the compiler and the snapshot read.  Codes PR801-PR805
(docs/diagnostics.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from perfrules import ast
from perfrules.diagnostics import DiagnosticSink, did_you_mean
from perfrules.metrics import nodes
from perfrules.values import SECONDS_PER_UNIT

COLUMN_TYPES = ("text", "count", "number", "money", "percent", "duration", "bool", "timestamp")
METRIC_TYPES = ("count", "number", "money", "percent", "duration")
PERIOD_KINDS = ("month", "quarter", "year")
ROSTER_FIELDS = ("name", "team", "supervisor")
SNAPSHOT_COLUMNS = ("agent_id", "period", "role", "name", "team", "supervisor")
NUMERIC = ("count", "number", "money")
# What each aggregate makes of the kind of its value (None: not allowed).
AGGREGATE_KINDS = {
    "sum": {"count": "count", "number": "number", "money": "money", "duration": "duration"},
    "average": {"count": "number", "number": "number", "money": "money", "duration": "duration", "percent": "percent"},
    "median": {"count": "number", "number": "number", "money": "money", "duration": "duration", "percent": "percent"},
    "min": {"count": "count", "number": "number", "money": "money", "duration": "duration", "percent": "percent"},
    "max": {"count": "count", "number": "number", "money": "money", "duration": "duration", "percent": "percent"},
}
# Timestamp format words, date part then time part (docs/metrics.md); `%` formats pass as they are.
DATE_WORDS = {"YYYY": "%Y", "MM": "%m", "M": "%m", "DD": "%d", "D": "%d"}
TIME_WORDS = {"HH": "%H", "H": "%H", "MM": "%M", "mm": "%M", "SS": "%S", "ss": "%S"}


@dataclass(frozen=True)
class ColumnModel:
    name: str
    header: str
    kind: str  # one of COLUMN_TYPES
    unit: str | None = None  # durations: the unit of a plain number in the cells
    format: str | None = None  # timestamps: the strptime format
    written: str | None = None  # timestamps: the format as the author wrote it


@dataclass
class SourceModel:
    name: str
    path: Path  # resolved against the definitions' folder (or --source NAME=PATH)
    display: str  # as the user sees it in messages
    node: nodes.Source
    columns: dict[str, ColumnModel] = field(default_factory=dict)  # by name
    agent: ColumnModel | None = None
    period: ColumnModel | None = None
    where: ast.Expression | None = None
    latest: tuple[ColumnModel, ...] = ()  # key, then the order columns
    unknown: str | None = None
    encoding: str | None = None
    sheet: str | None = None

    def column(self, name: str) -> ColumnModel:
        return self.columns[name]

    def used(self) -> list[ColumnModel]:
        """Every column the definitions read from this source, each once, in a stable order."""
        return list(self.columns.values())


@dataclass
class MetricModel:
    name: str
    type: str
    unit: str | None
    function: str
    value: ast.Expression | None
    source: SourceModel
    where: ast.Expression | None
    node: nodes.MetricDefinition


@dataclass
class RosterModel:
    path: Path
    display: str
    agent: str
    fields: dict[str, str]  # snapshot column (role, name, team, supervisor) -> header


@dataclass
class MetricsModel:
    file: str
    title: str
    period: str
    role: str | None
    sources: list[SourceModel]
    roster: RosterModel | None
    metrics: list[MetricModel]
    text: str = ""  # the definitions as written, for explain's "where it came from"

    def written(self, node) -> str:
        return self.text[node.span.start:node.span.end]


def timestamp_format(written: str) -> str | None:
    """``D/M/YYYY HH:MM`` as a strptime format (``%d/%m/%Y %H:%M``), or None when it has a word
    that is not a date or time part.  ``MM`` is the month before a space, the minutes after."""
    if "%" in written:
        return written if _strptime_accepts(written) else None
    parts = written.split(" ")
    if len(parts) > 2:
        return None
    out = []
    for words, part in zip((DATE_WORDS, TIME_WORDS), parts):
        pieces = re.findall(r"[A-Za-z]+|[^A-Za-z]+", part)
        for piece in pieces:
            if piece.isalpha():
                if piece not in words:
                    return None
                out.append(words[piece])
            else:
                out.append(piece)
        out.append(" ")
    return "".join(out).rstrip() or None


@lru_cache(maxsize=64)
def _strptime_accepts(strptime_format: str) -> bool:
    """Whether DuckDB, which reads the cells, knows every specifier of the format (``%s``, a
    lone ``%`` are refused there; checked here so that the mistake is located)."""
    import duckdb

    try:
        duckdb.connect().execute("SELECT try_strptime('2026-01-01', ?)", [strptime_format])
    except duckdb.Error:
        return False
    return True


class DefinitionsChecker:
    """Walks the definitions once; reports into ``sink``; builds the model."""

    def __init__(self, definitions: nodes.Definitions, folder: Path, display_folder: str,
                 overrides: dict[str, str] | None = None):
        self.definitions = definitions
        self.folder, self.display_folder = folder, display_folder
        self.overrides = overrides or {}
        self.sink = DiagnosticSink()

    def report(self, code: str, message: str, span, hint: str | None = None) -> None:
        self.sink.report(code, message, span, hint)

    def check(self) -> MetricsModel | None:
        definitions = self.definitions
        self._twice()
        period = definitions.period.text if definitions.period is not None else "month"
        if definitions.period is None:
            self.report("PR802", "the definitions say no period kind", definitions.name.span,
                        "add `period month` (or quarter, year)")
        elif period not in PERIOD_KINDS:
            self.report("PR805", f"unknown period kind '{period}'", definitions.period.span,
                        did_you_mean(period, PERIOD_KINDS, "`") or "write month, quarter or year")
        sources = [self._source(source) for source in definitions.sources]
        if not sources:
            self.report("PR802", "the definitions name no source", definitions.name.span,
                        'add a source: source calls "calls.csv" { agent agent_id  period by date ... }')
        roster = self._roster(definitions.roster) if definitions.roster is not None else None
        if definitions.role is None and (roster is None or "role" not in roster.fields):
            self.report("PR802", "the snapshot needs each agent's role", definitions.name.span,
                        'add `role "agent"` (the role of every agent), or a roster with a role column')
        by_name = {source.name: source for source in sources}
        metrics = [metric for metric in (self._metric(node, by_name) for node in definitions.metrics) if metric]
        if not definitions.metrics:
            self.report("PR802", "the definitions define no metric", definitions.name.span,
                        "add one: metric calls_handled: count = count")
        if any(item.is_error for item in self.sink.items):
            return None
        return MetricsModel(definitions.span.file, definitions.name.value, period,
                            definitions.role.value if definitions.role else None, sources, roster, metrics)

    # ---- statements given twice ----------------------------------------------------------

    def _twice(self) -> None:
        seen: dict[str, ast.Span] = {}
        for statement in self.definitions.statements:
            if isinstance(statement, tuple):
                key, span = statement[0], statement[2]
            elif isinstance(statement, nodes.Roster):
                key, span = "roster", statement.span
            elif isinstance(statement, nodes.Source):
                key, span = f"source {statement.name.text}", statement.name.span
            else:
                key, span = f"metric {statement.name.text}", statement.name.span
                if statement.name.text in SNAPSHOT_COLUMNS:
                    self.report("PR803", f"a metric cannot be called {statement.name.text}: the snapshot has that column",
                                span, f"call it {statement.name.text}_value, for one")
            if key in seen:
                self.report("PR803", f"{key.split(' ')[0]} {key.partition(' ')[2] or ''} is given twice (first on line "
                                     f"{seen[key].line})".replace("  ", " "), span, "keep one")
            else:
                seen[key] = span

    # ---- sources ------------------------------------------------------------------------------

    def _path(self, text: ast.Text, name: str | None) -> tuple[Path, str]:
        if name is not None and name in self.overrides:
            given = self.overrides[name]
            return Path(given), given
        path = Path(text.value)
        if path.is_absolute():
            return path, text.value
        shown = os.path.normpath(Path(self.display_folder) / path) if self.display_folder not in ("", ".") else text.value
        return self.folder / path, shown

    def _source(self, node: nodes.Source) -> SourceModel:
        path, display = self._path(node.path, node.name.text)
        model = SourceModel(node.name.text, path, display, node)
        for column in node.columns:
            if column.name.text in model.columns:
                self.report("PR803", f"column {column.name.text} is declared twice in source {node.name.text}",
                            column.name.span, "keep one")
                continue
            model.columns[column.name.text] = self._column(column)
        for kind in ("agent", "period", "where", "latest", "unknown", "encoding", "sheet"):
            found = node.settings_of(kind)
            for extra in found[1:]:
                self.report("PR803", f"`{kind}` is given twice in source {node.name.text} (first on line "
                                     f"{found[0].span.line})", extra.span, "keep one")
        for kind in ("agent", "period"):
            if not node.settings_of(kind):
                example = "agent server" if kind == "agent" else "period by date"
                self.report("PR802", f"source {node.name.text} says no {kind} column", node.name.span,
                            f"add a line like `{example}`")
        agent = node.setting("agent")
        if agent is not None:
            model.agent = self._named(model, agent)
        period = node.setting("period")
        if period is not None:
            model.period = self._named(model, period)
            if model.period.kind != "timestamp":
                self.report("PR804", f"the period comes from a timestamp, but {period.header} is {model.period.kind}",
                            period.span, "declare it: " + _timestamp_declaration(period.header))
        latest = node.setting("latest")
        if latest is not None:
            model.latest = tuple(self._named(model, column) for column in latest)
        unknown = node.setting("unknown")
        model.unknown = unknown.value if unknown is not None else None
        encoding = node.setting("encoding")
        if encoding is not None:
            from perfrules.data.encodings import ENCODINGS

            if encoding.value.lower() not in ENCODINGS:
                self.report("PR805", f"unknown encoding '{encoding.value}'", encoding.span, "write utf-8 or gb18030")
            model.encoding = encoding.value
        sheet = node.setting("sheet")
        model.sheet = sheet.value if sheet is not None else None
        where = node.setting("where")
        if where is not None:
            self._condition(model, where)
            model.where = where
        return model

    def _column(self, column: nodes.SourceColumn) -> ColumnModel:
        declared = column.type
        kind = declared.name.text
        if kind not in COLUMN_TYPES:
            self.report("PR801", f"unknown column type '{kind}'", declared.name.span,
                        did_you_mean(kind, COLUMN_TYPES, "`") or "types: " + ", ".join(COLUMN_TYPES))
            return ColumnModel(column.name.text, column.header_text, "text")
        unit = self._unit(kind, declared.unit)
        written = declared.format.value if declared.format is not None else None
        if kind == "timestamp":
            if written is None:
                self.report("PR802", f"timestamp column {column.name.text} needs its format", declared.span,
                            'write it after the type: timestamp "D/M/YYYY HH:MM"')
                return ColumnModel(column.name.text, column.header_text, kind)
            made = timestamp_format(written)
            if made is None:
                self.report("PR805", f"'{written}' is not a timestamp format", declared.format.span,
                            "use YYYY, M or MM, D or DD, then HH, MM, SS after a space: \"D/M/YYYY HH:MM\"")
            return ColumnModel(column.name.text, column.header_text, kind, None, made, written)
        if written is not None:
            self.report("PR805", f"only a timestamp column takes a format, not a {kind} column", declared.format.span,
                        "remove the text after the type")
        return ColumnModel(column.name.text, column.header_text, kind, unit)

    def _unit(self, kind: str, unit: ast.Name | None) -> str | None:
        if unit is None:
            return "s" if kind == "duration" else None
        if kind != "duration":
            self.report("PR805", f"only a duration takes a unit, not a {kind}", unit.span, "remove `in ...`")
            return None
        if unit.text not in SECONDS_PER_UNIT:
            self.report("PR805", f"unknown unit '{unit.text}'", unit.span,
                        did_you_mean(unit.text, SECONDS_PER_UNIT, "`") or "durations are in s, min, h or d")
            return "s"
        return unit.text

    def _named(self, model: SourceModel, reference: nodes.ColumnRef) -> ColumnModel:
        """A column named in a setting: the declared one with that name or header, else a text column."""
        for column in model.columns.values():
            if reference.header in (column.name, column.header):
                return column
        column = ColumnModel(reference.header, reference.header, "text")
        model.columns[reference.header] = column
        return column

    # ---- the roster ---------------------------------------------------------------------------

    def _roster(self, node: nodes.Roster) -> RosterModel:
        path, display = self._path(node.path, "roster")
        agent = None
        fields: dict[str, str] = {}
        for setting in node.settings:
            if setting.kind == "agent":
                agent = setting.value.header
            elif setting.kind == "role" or setting.kind in ROSTER_FIELDS:
                if setting.kind in fields:
                    self.report("PR803", f"the roster's {setting.kind} column is given twice", setting.span, "keep one")
                fields[setting.kind] = setting.value.header
            else:
                self.report("PR801", f"the roster has no field '{setting.kind}'", setting.word.span,
                            did_you_mean(setting.kind, ("agent", "role") + ROSTER_FIELDS, "`")
                            or "a roster names agent, name, role, team and supervisor columns")
        if agent is None:
            self.report("PR802", "the roster says no agent column", node.span, "add a line like `agent agent_id`")
        return RosterModel(path, display, agent or "", fields)

    # ---- metrics ------------------------------------------------------------------------------

    def _metric(self, node: nodes.MetricDefinition, sources: dict[str, SourceModel]) -> MetricModel | None:
        aggregate = node.aggregate
        if aggregate.source is not None:
            source = sources.get(aggregate.source.text)
            if source is None:
                self.report("PR801", f"unknown source '{aggregate.source.text}'", aggregate.source.span,
                            did_you_mean(aggregate.source.text, sources) or
                            "sources: " + ", ".join(sources) if sources else None)
                return None
        elif len(sources) == 1:
            source = next(iter(sources.values()))
        else:
            if sources:
                self.report("PR802", f"metric {node.name.text} does not say which source it reads", aggregate.span,
                            f"add `of {next(iter(sources))}` after the aggregate")
            return None
        if aggregate.where is not None:
            self._condition(source, aggregate.where)
        derived = None
        if aggregate.function == "count":
            derived = "count"
        elif aggregate.function == "share":
            derived = "percent"
        else:
            kind = self._kind(source, aggregate.value)
            if aggregate.function == "distinct":
                derived = "count"
            elif kind is not None:
                derived = AGGREGATE_KINDS[aggregate.function].get(kind)
                if derived is None:
                    self.report("PR804", f"{aggregate.function} of a {kind} value is not a metric",
                                aggregate.value.span, _value_hint(kind))
                    return None
        declared = node.type.text
        if declared not in METRIC_TYPES:
            self.report("PR801", f"unknown metric type '{declared}'", node.type.span,
                        did_you_mean(declared, METRIC_TYPES, "`") or "types: " + ", ".join(METRIC_TYPES))
            return None
        unit = self._unit(declared, node.unit)
        if derived is not None and declared != derived and not (declared == "number" and derived == "count"):
            self.report("PR804", f"metric {node.name.text} is declared {declared}, but {aggregate.function} "
                                 f"gives a {derived}", node.type.span, f"declare it: metric {node.name.text}: {derived}")
        return MetricModel(node.name.text, declared, unit if declared == "duration" else None, aggregate.function,
                           aggregate.value, source, aggregate.where, node)

    # ---- kinds of expressions -------------------------------------------------------------------

    def _condition(self, source: SourceModel, expression) -> None:
        kind = self._kind(source, expression)
        if kind is not None and kind != "bool":
            self.report("PR804", f"a condition is expected here, not a {kind} value", expression.span,
                        "compare it: q_time <= 60s, outcome == \"AGENT\"")

    def _kind(self, source: SourceModel, expression) -> str | None:
        """The kind of an expression over ``source``'s rows; None after a reported mistake."""
        if isinstance(expression, ast.Reference):
            return self._named(source, nodes.ColumnRef(expression.name, expression.span)).kind
        simple = {ast.NumberLiteral: "number", ast.PercentLiteral: "percent", ast.DurationLiteral: "duration",
                  ast.StringLiteral: "text", ast.DateLiteral: "timestamp", nodes.BoolLiteral: "bool"}
        if type(expression) in simple:
            return simple[type(expression)]
        if isinstance(expression, nodes.IsKnown):
            self._kind(source, expression.operand)
            return "bool"
        if isinstance(expression, (ast.Logical, ast.Not)):
            for operand in ((expression.left, expression.right) if isinstance(expression, ast.Logical)
                            else (expression.operand,)):
                self._condition(source, operand)
            return "bool"
        if isinstance(expression, ast.Arithmetic):
            left, right = self._kind(source, expression.left), self._kind(source, expression.right)
            if left is None or right is None:
                return None
            made = _arithmetic_kind(expression.operator, left, right)
            if made is None:
                self.report("PR804", f"cannot {'add' if expression.operator == '+' else 'subtract'} a {right} "
                                     f"{'to' if expression.operator == '+' else 'from'} a {left}",
                            expression.operator_span, "a duration is a timestamp minus a timestamp: resolved_at - opened_at")
            return made
        if isinstance(expression, ast.Compare):
            left, right = self._kind(source, expression.left), self._kind(source, expression.right)
            if left is None or right is None:
                return "bool"
            if not _comparable(left, right):
                self.report("PR804", f"cannot compare a {left} with a {right}", expression.operator_span,
                            _compare_hint(left, right))
            elif left in ("text", "bool") and expression.operator not in ("==", "!="):
                self.report("PR804", f"a {left} value is compared only with == or !=", expression.operator_span)
            return "bool"
        self.report("PR804", "this cannot stand in a metric definition", expression.span)
        return None


def _timestamp_declaration(header: str) -> str:
    if re.fullmatch(r"[^\W\d]\w*", header):
        return f'column {header}: timestamp "YYYY-MM-DD"'
    return f'column day: timestamp "YYYY-MM-DD" from "{header}"'


def _family(kind: str) -> str:
    return "number" if kind in NUMERIC else kind


def _comparable(left: str, right: str) -> bool:
    return _family(left) == _family(right)


def _compare_hint(left: str, right: str) -> str:
    if "duration" in (left, right):
        return "write a duration with its unit (60s, 10min), and declare the column: column q_time: duration in s"
    if "percent" in (left, right):
        return "write a percentage with % (90%)"
    return "declare the column's type: column q_time: number"


def _arithmetic_kind(operator: str, left: str, right: str) -> str | None:
    if left == right == "timestamp":
        return "duration" if operator == "-" else None
    if left == right and left in ("duration", "money", "count", "number"):
        return left
    if _family(left) == _family(right) == "number":
        return "number"
    return None


def _value_hint(kind: str) -> str:
    if kind == "text":
        return "declare the column's type, for example: column ser_time: duration in s"
    if kind == "timestamp":
        return "take the time between two timestamps: resolved_at - opened_at"
    return "use count, share or distinct"
