"""Checked definitions to ONE DuckDB query over the raw sources (a :mod:`.sql` tree).

Per source, steps inlined as common table expressions: ``typed`` reads the raw cells (a
``read_csv`` of the file itself, or a table of cells), turns the unknown marker into
``NULL``, types each used column with the policy data's own cell typing
(:func:`perfrules.data.cells.typed_value`; timestamps with ``try_strptime``; or takes the
value DuckDB's CSV reader already typed) and flags a row holding a bad cell; ``latest``
keeps one row per key when the source asks for it; ``prepared`` computes each row's
agent, period, filter and metric conditions once; ``grouped`` aggregates the rows the
filter keeps per agent and period, with the count of rows each metric read (for
``explain``), of kept rows and of bad cells.  The body
joins the sources on agent and period and adds the roster.  Exact arithmetic: values
are ``DECIMAL(18, 6)``, averages and shares divide with ``pr_div`` (rounded half away
from zero at the sixth decimal), a median is the mean of the two middle values
(``quantile_disc`` from both ends), never a float.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from perfrules import ast
from perfrules.data.cells import cell_may_be_bad, cleaned, number_cast, typed_value
from perfrules.engine.sql import DECIMAL_TYPE, DepthCut, StageValues, identifier, text_literal
from perfrules.metrics import nodes
from perfrules.metrics.check import ColumnModel, MetricModel, MetricsModel, SourceModel
from perfrules.metrics.sql import (Agg, Cast, Col, Fragment, IsNull, Join, Lit, Node, Not, Op, Query, Relation, Select,
                                   Window, fn)
from perfrules.values import SECONDS_PER_UNIT

LITERALS = (ast.NumberLiteral, ast.PercentLiteral, ast.StringLiteral, ast.DateLiteral, nodes.BoolLiteral)
COMPARE = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class SourceInput:
    """A source as the query reads it: the relation of its text cells and its headers."""

    relation: str
    headers: tuple[str, ...]
    native: frozenset[str] = frozenset()  # headers DuckDB's CSV reader already typed


def cell_text(column: ColumnModel, source: SourceModel, headers: tuple[str, ...]) -> str:
    """SQL of the cell's text: trimmed, NULL when empty or the unknown marker."""
    text = cleaned(f"c{headers.index(column.header)}")
    return f"NULLIF({text}, {text_literal(source.unknown)})" if source.unknown is not None else text


def typed_cell(column: ColumnModel, text: str) -> str:
    """SQL of the cell's value (NULL when empty, unknown or bad).

    The common cells take a fast path first: an ISO date for ``YYYY-MM-DD``, a plain number
    for a duration (times its unit's whole seconds); anything else goes through the
    policy data's full typing (``10min``, ``01:02:03``...), which gives the same value."""
    if column.kind == "timestamp":
        parsed = f"try_strptime({text}, {text_literal(column.format)})"
        if column.format == "%Y-%m-%d":
            iso = (f"CASE WHEN length({text}) = 10 AND substr({text}, 5, 1) = '-' AND substr({text}, 8, 1) = '-' "
                   f"THEN CAST(TRY_CAST({text} AS DATE) AS TIMESTAMP) END")
            return in_calendar(f"coalesce({iso}, {parsed})")
        return in_calendar(parsed)
    full = typed_value(column.kind, column.unit, text)
    if column.kind == "duration":
        number = number_cast(text)  # never of `1_0`, which DuckDB's cast reads as 10
        factor = int(SECONDS_PER_UNIT[column.unit or "s"])
        fast = number if factor == 1 else f"TRY_CAST({number} * {factor} AS {DECIMAL_TYPE})"
        return f"coalesce({fast}, {full})"
    return full


def in_calendar(timestamp: str) -> str:
    """The timestamp when its year is 1 or later (DuckDB reads a year 0, which makes a period
    no data file can hold: ``0000-01``; years past 9999 do not parse), else NULL: a bad cell."""
    return f"(CASE WHEN year({timestamp}) >= 1 THEN {timestamp} END)"


def native_value(column: ColumnModel, typed: str) -> str:
    """The value of a cell DuckDB's CSV reader typed (a DECIMAL, DATE or TIMESTAMP)."""
    if column.kind == "duration" and column.unit not in (None, "s"):
        return f"TRY_CAST({typed} * {int(SECONDS_PER_UNIT[column.unit])} AS {DECIMAL_TYPE})"
    if column.kind == "timestamp":
        return in_calendar(typed)
    return typed


def bad_flag(column: ColumnModel, value: str, text: str) -> str:
    if column.kind == "timestamp":
        return f"({value} IS NULL AND {text} IS NOT NULL)"
    return cell_may_be_bad(column.kind, value, text)


class SourceQuery:
    """The typed, latest and grouped steps of one source (number ``index``)."""

    def __init__(self, model: MetricsModel, source: SourceModel, index: int, given: SourceInput):
        self.model, self.source, self.index, self.given = model, source, index, given
        self.value_of = {column.name: f"v{number}" for number, column in enumerate(source.used())}
        self.prefix = f"s{index}_"
        # deep conditions cut into values computed before `prepared` (DepthCut): read them
        # through `over` wherever a condition or value of the definitions is computed
        self.values, self._cut = StageValues(itertools.count()), DepthCut()

    def over(self, relation: str) -> str:
        """``relation`` with the values the conditions and values compiled so far read."""
        return self.values.source(relation)

    def value(self, column: ColumnModel) -> Col:
        return Col(self.value_of[column.name])

    def typed(self, carry: tuple[str, ...] = ()) -> Select:
        """Three layers, so that nothing is computed twice a row: each used cell's text (``t``),
        its value (``v``), then the flag of a row holding a bad cell (``_bad``).  ``carry``:
        columns of the relation passed on as they are (``__row``)."""
        texts: list[tuple[Node, str]] = []
        values: list[tuple[Node, str]] = []
        flags = []
        for number, column in enumerate(self.source.used()):
            text = f"t{number}"
            if column.header in self.given.native:  # typed by the reader: only a unit to apply
                texts.append((Col(f"c{self.given.headers.index(column.header)}"), text))
                value = native_value(column, text)
            else:
                texts.append((Fragment(cell_text(column, self.source, self.given.headers)), text))
                value = typed_cell(column, text)
            values.append((Fragment(value) if column.kind != "text" else Col(text), self.value_of[column.name]))
            native = column.header in self.given.native
            if column.kind != "text":
                # a number the reader typed is there or empty: only its range is left to check;
                # a timestamp it typed may still be out of the calendar (in_calendar)
                flags.append(bad_flag(column, self.value_of[column.name],
                                      "NULL" if native and column.kind != "timestamp" else text))
        if self.source.latest:
            flags.append(f"({self.value_of[self.source.latest[0].name]} IS NULL)")
        bad = Fragment("coalesce(" + " OR ".join(flags) + ", false)" if flags else "false")
        carried = tuple((Col(name), name) for name in carry)
        cells = Select(tuple(texts) + carried, Relation(self.given.relation))
        typed = Select(tuple(values) + tuple((Col(name), name) for _, name in texts) + carried, cells)
        return Select(((bad, "_bad"),), typed, star=True)

    def latest(self, typed: str) -> Select | None:
        if not self.source.latest:
            return None
        key, *order = self.source.latest
        partition = (self.value(key),)
        first = Window(fn("row_number"), partition, tuple(self.value(column) for column in order))
        bad_rows = Window(fn("sum", Cast(Col("_bad"), "INTEGER")), partition)
        # Two rows of a key equal in every order column: which is the latest cannot be told, and
        # picking one would be a guess; such a tie at the top counts as a problem.
        tied = Window(Agg("count"), partition + tuple(self.value(column) for column in order))
        problem = Op("+", bad_rows, Fragment(f"CASE WHEN {tied.sql()} > 1 THEN 1 ELSE 0 END"))
        return Select(((problem, "_bad_rows"),), Relation(identifier(typed)), star=True,
                      qualify=Op("=", first, Lit(1)))

    def period(self) -> Node:
        """The start of the row's period (a timestamp: cheaper to group by than its text)."""
        return fn("date_trunc", Lit(self.model.period), self.value(self.source.period))

    def keep(self) -> Node:
        """Whether the source's filter keeps a row (a filter that cannot be decided does not)."""
        where = self.source.where
        return fn("coalesce", self.condition(where), Lit(False)) if where is not None else Lit(True)

    def prepared(self, rows: str, metrics: list[tuple[int, MetricModel]]) -> Select:
        """Each row's agent, period, whether it is kept, and per metric its value and the rows it
        counts, each computed once (an aggregate's FILTER then reads a column)."""
        items: list[tuple[Node, str]] = [
            (self.value(self.source.agent), "_agent"), (self.period(), "_period"), (self.keep(), "_keep"),
            (Col("_bad_rows" if self.source.latest else "_bad"), "_bad")]
        for number, metric in metrics:
            counted = Col("_keep")
            if metric.where is not None and metric.function != "share":
                counted = Op("AND", counted, fn("coalesce", self.condition(metric.where), Lit(False)))
            if metric.function == "share":
                condition = self.condition(metric.where)
                items += [(Op("AND", counted, fn("coalesce", condition, Lit(False))), f"h{number}"),
                          (Op("AND", counted, IsNull(condition, negated=True)), f"w{number}")]
            elif metric.where is not None:  # else the rows it counts are the kept rows, `_keep`
                items.append((counted, f"w{number}"))
            if metric.value is not None:
                items.append((self.expression(metric.value), f"x{number}"))
        return Select(tuple(items), Relation(self.over(identifier(rows))))

    def grouped(self, prepared: str, metrics: list[tuple[int, MetricModel]]) -> Select:
        bad = Agg("sum", Col("_bad")) if self.source.latest else Agg("count", None, Col("_bad"))
        items: list[tuple[Node, str]] = [
            (Col("_agent"), "_agent"), (Col("_period"), "_period"),
            (Agg("count", None, Col("_keep")), self.prefix + "kept"), (bad, self.prefix + "bad")]
        for number, metric in metrics:
            items += self.aggregate(number, metric)[0]
        return Select(tuple(items), Relation(identifier(prepared)), group_by=(Col("_agent"), Col("_period")))

    def aggregate(self, number: int, metric: MetricModel) -> tuple[list[tuple[Node, str]], Node]:
        """The aggregates the grouping computes for metric ``number`` (``a{number}_...``, and
        ``n{number}``: the rows or values it reads) over the prepared columns (``w{number}``: the
        rows it counts, ``x{number}``: its value, ``h{number}``: the rows a share holds for),
        and the value made of them after grouping (DuckDB allows no aggregate inside the
        ``TRY`` of the exact division)."""
        part = lambda name: f"a{number}_{name}"  # noqa: E731
        own_rows = metric.where is not None or metric.function == "share"
        # the same aggregate twice (`count(*) FILTER (WHERE _keep)`) is computed once by DuckDB
        rows, count_name = Col(f"w{number}" if own_rows else "_keep"), f"n{number}"
        if metric.function == "count":
            return [(Agg("count", None, rows), count_name)], Col(count_name)
        if metric.function == "share":
            return ([(Agg("count", None, Col(f"h{number}")), part("held")), (Agg("count", None, rows), count_name)],
                    fn("pr_div", Col(part("held")), Col(count_name)))
        value = Col(f"x{number}")
        parts: list[tuple[Node, str]] = [(Agg("count", value, rows), count_name)]
        if metric.function == "distinct":
            parts.append((Agg("count", value, rows, distinct=True), part("distinct")))
            return parts, Col(part("distinct"))
        if metric.function == "average":
            parts.append((Agg("sum", value, rows), part("sum")))
            result: Node = fn("pr_div", Col(part("sum")), Col(count_name))
        elif metric.function == "median":
            # the two middle values (one when the count is odd), from both ends
            parts.append((Agg("quantile_disc", value, rows, extra=(Fragment("0.5"),)), part("low")))
            parts.append((Agg("quantile_disc", Op("-", Lit(0), value), rows, extra=(Fragment("0.5"),)), part("high")))
            result = fn("pr_div", Op("-", Col(part("low")), Col(part("high"))), Lit(2))
        else:
            parts.append((Agg(metric.function, value, rows), part("value")))
            result = Col(part("value"))
        return parts, Fragment(f"TRY_CAST({result.sql()} AS {DECIMAL_TYPE})")

    # ---- expressions of the definitions, over the typed values ----------------------------------

    def condition(self, expression) -> Node:
        """A condition: a comparison, `is known`, and/or/not, or a bool column alone."""
        return self.expression(expression)

    def expression(self, expression) -> Node:
        """The SQL tree of ``expression``; a deep one cut into values (:class:`DepthCut`)."""
        return self._cut.build(lambda: self._expression(expression), self.values, lambda node: node.sql(), Fragment)

    def _expression(self, expression) -> Node:
        if isinstance(expression, ast.Reference):
            return self.value(self._column(expression.name))
        if isinstance(expression, ast.DurationLiteral):
            return Lit(expression.seconds)
        if isinstance(expression, LITERALS):  # numbers, percents (fractions), texts, dates, true/false
            return Lit(expression.value)
        if isinstance(expression, nodes.IsKnown):
            return IsNull(self.expression(expression.operand), negated=expression.known)
        if isinstance(expression, ast.Not):
            return Not(self.expression(expression.operand))
        if isinstance(expression, ast.Logical):
            return Op(expression.operator.upper(), self.expression(expression.left), self.expression(expression.right))
        if isinstance(expression, ast.Compare):
            return Op(COMPARE[expression.operator], self.expression(expression.left), self.expression(expression.right))
        if isinstance(expression, ast.Arithmetic):
            left, right = self.expression(expression.left), self.expression(expression.right)
            if self._is_timestamp(expression.left):  # the checker allows only timestamp - timestamp
                return Cast(fn("datediff", Lit("second"), right, left), DECIMAL_TYPE)
            return Op(expression.operator, left, right)
        raise AssertionError(f"the checker let through {type(expression).__name__}")

    def _column(self, name: str) -> ColumnModel:
        return self.source.columns[name]

    def _is_timestamp(self, expression) -> bool:
        if isinstance(expression, ast.Reference):
            return self._column(expression.name).kind == "timestamp"
        return isinstance(expression, ast.DateLiteral)


def period_text(kind: str, start: Node) -> Node:
    """``2016-03``, ``2016-Q1`` or ``2016`` for the start of a period."""
    if kind == "year":
        return fn("strftime", start, Lit("%Y"))
    if kind == "quarter":
        return Op("||", Op("||", fn("strftime", start, Lit("%Y")), Lit("-Q")), Cast(fn("quarter", start), "VARCHAR"))
    return fn("strftime", start, Lit("%Y-%m"))


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    source_prefixes: tuple[str, ...]  # s0_, s1_...: their kept and bad columns
    metrics: tuple[MetricModel, ...]  # m0, n0, m1, n1...


def compile_query(model: MetricsModel, inputs: list[SourceInput], roster: SourceInput | None,
                  roster_agent: str | None = None) -> CompiledQuery:
    ctes: list[tuple[str, Select]] = []
    grouped: list[str] = []
    prefixes = []
    finishes: dict[int, Node] = {}
    for index, (source, given) in enumerate(zip(model.sources, inputs)):
        query = SourceQuery(model, source, index, given)
        typed = f"s{index}_typed"
        ctes.append((typed, query.typed()))
        rows = typed
        latest = query.latest(typed)
        if latest is not None:
            rows = f"s{index}_latest"
            ctes.append((rows, latest))
        metrics = [(number, metric) for number, metric in enumerate(model.metrics) if metric.source is source]
        finishes.update({number: query.aggregate(number, metric)[1] for number, metric in metrics})
        ctes.append((f"s{index}_prepared", query.prepared(rows, metrics)))
        name = f"s{index}_grouped"
        ctes.append((name, query.grouped(f"s{index}_prepared", metrics)))
        grouped.append(name)
        prefixes.append(query.prefix)
    joined: Node = Relation(identifier(grouped[0]))
    for name in grouped[1:]:
        joined = Join(joined, Relation(identifier(name)), "FULL", using=("_agent", "_period"))
    items: list[tuple[Node, str]] = [(Col("_agent"), "_agent"), (period_text(model.period, Col("_period")), "_period")]
    for prefix in prefixes:
        items += [(fn("coalesce", Col(prefix + "kept"), Lit(0)), prefix + "kept"),
                  (fn("coalesce", Col(prefix + "bad"), Lit(0)), prefix + "bad")]
    for number, metric in enumerate(model.metrics):
        if metric.function in ("count", "distinct"):  # none of the agent's rows in this source: 0
            finishes[number] = fn("coalesce", finishes[number], Lit(0))
        items += [(finishes[number], f"m{number}"), (fn("coalesce", Col(f"n{number}"), Lit(0)), f"n{number}")]
    fields = ("role", "name", "team", "supervisor")
    if roster is not None:
        roster_columns = model.roster.fields
        roster_items = [(Fragment(_roster_cell(roster, roster_agent)), "_ragent")] + [
            (Fragment(_roster_cell(roster, roster_columns[field])) if field in roster_columns else Lit(None),
             "_r" + field) for field in fields]
        ctes.append(("roster", Select(tuple(roster_items), Relation(roster.relation))))
        joined = Join(joined, Relation(identifier("roster")), "LEFT",
                      on=Op("=", Col("_ragent"), Col("_agent")))
        items += [(Col("_r" + field), "_" + field) for field in fields]
    else:
        items += [(Lit(None), "_" + field) for field in fields]
    return CompiledQuery(Query(tuple(ctes), Select(tuple(items), joined)).sql(), tuple(prefixes), tuple(model.metrics))


def _roster_cell(roster: SourceInput, header: str) -> str:
    return cleaned(f"c{roster.headers.index(header)}")

