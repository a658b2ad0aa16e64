"""Validating a data file against the policies, every problem in one run.

:func:`prepare_source` turns the text table of :mod:`perfrules.data.reading` into the
``source`` table the engine reads: the required columns ``agent_id``, ``period`` and
``role`` cleaned, the period normalised (``2026-11``, ``2026-Q4``, ``2026``; Excel's
``2026-11-01`` and ``2026年11月`` are read as months), ``name``/``team``/``supervisor``
when present.  It reports, with file, spreadsheet row and column: missing required
columns, missing metric columns that a KPI needs, empty ids, unreadable periods, a
period of the wrong kind for the policy, roles no policy covers, duplicate
(agent_id, period) rows and every cell that is not of its metric's type.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfrules import ast
from perfrules.data.cells import cell_error, cell_may_be_bad, cleaned, typed_value
from perfrules.data.reading import ROW_COLUMN, RawTable
from perfrules.diagnostics import did_you_mean
from perfrules.engine.sql import DECIMAL_TYPE, identifier, text_literal

REQUIRED = ("agent_id", "period", "role")
INTERNAL_COLUMNS = ("_row", "_agent", "_period", "_period_text", "_role", "_name", "_team", "_supervisor", "__row")
OPTIONAL = ("name", "team", "supervisor")
PERIOD_PATTERNS = {"month": "2026-11", "quarter": "2026-Q4", "year": "2026"}


@dataclass(frozen=True)
class DataProblem:
    """One problem with the data: ``file:row: column C: 'text' message``."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    text: str | None = None
    order: int = 0

    def render(self) -> str:
        place = self.file if self.row is None else f"{self.file}:{self.row}"
        where = f" column {self.column}:" if self.column is not None else ""
        shown = f" '{self.text}'" if self.text is not None else ""
        return f"{place}:{where}{shown} {self.message}"

    def sort_key(self) -> tuple:
        return (self.row or 0, self.order, self.column or "", self.message)


def period_sql(raw: str) -> str:
    text = cleaned(raw)
    year = r"([0-9]{4})"
    quarter = year + r"\s*[-/.年]?\s*[Qq]([1-4])(季度)?"
    month = year + r"\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?([-/.]0?1(\s+00:00(:00)?)?)?"

    def extract(pattern: str, group: int) -> str:
        return f"regexp_extract({text}, {text_literal('^' + pattern + '$')}, {group})"

    def matches(pattern: str) -> str:
        return f"regexp_full_match({text}, {text_literal(pattern)})"

    canonical_month = (
        f"length({text}) = 7 AND substr({text}, 5, 1) = '-' AND TRY_CAST(left({text}, 4) AS INTEGER) IS NOT NULL "
        f"AND TRY_CAST(substr({text}, 6, 2) AS INTEGER) BETWEEN 1 AND 12"
    )
    return (
        f"CASE WHEN {canonical_month} THEN {text} "  # the common case, without regular expressions
        f"WHEN {matches(year + '年?')} THEN left({text}, 4) "
        f"WHEN {matches(quarter)} THEN {extract(quarter, 1)} || '-Q' || {extract(quarter, 2)} "
        f"WHEN {matches(month)} THEN {extract(month, 1)} || '-' || lpad({extract(month, 2)}, 2, '0') END"
    )


class UnreadableRows(Exception):
    """The data lacks agent_id, period or role: no row can be read at all."""

    def __init__(self, problems: list[DataProblem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def prepare_source(connection, raw: RawTable, policies: list[ast.Policy]) -> list[DataProblem]:
    """Create the ``source`` table from ``raw.table``; return the problems of its rows.

    Raises :class:`UnreadableRows` when a required column is missing.
    """
    problems: list[DataProblem] = []
    headers = set(raw.headers)
    for column in REQUIRED:
        if column not in headers:
            hint = did_you_mean(column, raw.headers)
            extra = f"; {hint}" if hint else ""
            problems.append(DataProblem(raw.display, f"missing column '{column}' (the data needs agent_id, period and role{extra})"))
    for header in raw.headers:
        if header in INTERNAL_COLUMNS:
            problems.append(DataProblem(raw.display, f"the header '{header}' is reserved for perfrules; rename the column"))
    if problems:
        raise UnreadableRows(problems)
    connection.execute(f"CREATE OR REPLACE TEMP TABLE source AS SELECT {key_columns(raw)} FROM {raw.table}")
    problems.extend(_row_problems(connection, raw, policies))
    problems.extend(_duplicates(connection, raw))
    return problems


def key_columns(raw: RawTable) -> str:
    """The identifying columns of a row, cleaned: _row, _agent, _period (normalised), ..."""
    optional = ", ".join(
        f"{cleaned(identifier(column)) if column in raw.headers else 'CAST(NULL AS VARCHAR)'} AS _{column}"
        for column in OPTIONAL
    )
    return (
        f"{ROW_COLUMN} AS _row, {cleaned(identifier('agent_id'))} AS _agent, "
        f"{period_sql(identifier('period'))} AS _period, {cleaned(identifier('period'))} AS _period_text, "
        f"{cleaned(identifier('role'))} AS _role, {optional}"
    )


def role_filter(policy: ast.Policy) -> str:
    roles = ", ".join(text_literal(role.text) for role in policy.roles)
    return f"_role IN ({roles})"


KIND_OF_PERIOD = "CASE WHEN _period LIKE '%-Q%' THEN 'quarter' WHEN _period LIKE '%-%' THEN 'month' ELSE 'year' END"


def _row_problems(connection, raw: RawTable, policies: list[ast.Policy]) -> list[DataProblem]:
    """Empty ids, unreadable periods, uncovered roles, periods of the wrong kind."""
    covered = sorted({role.text for policy in policies for role in policy.roles})
    covered_sql = ", ".join(text_literal(role) for role in covered) or "NULL"
    mismatches = " OR ".join(
        f"({role_filter(policy)} AND _period IS NOT NULL AND {KIND_OF_PERIOD} <> {text_literal(policy.period)})"
        for policy in policies
    ) or "false"
    # One pass to learn whether anything is wrong; the detailed queries only run when it is.
    (bad,) = connection.execute(
        f"SELECT count(*) FROM source WHERE _agent IS NULL OR _period IS NULL OR _role IS NULL "
        f"OR _role NOT IN ({covered_sql}) OR {mismatches}"
    ).fetchone()
    if not bad:
        return []
    problems = []
    file = raw.display
    for (row,) in connection.execute("SELECT _row FROM source WHERE _agent IS NULL ORDER BY _row").fetchall():
        problems.append(DataProblem(file, "the cell is empty", row, "agent_id", order=0))
    for row, text in connection.execute(
        "SELECT _row, _period_text FROM source WHERE _period IS NULL ORDER BY _row"
    ).fetchall():
        if text is None:
            problems.append(DataProblem(file, "the cell is empty", row, "period", order=1))
        else:
            problems.append(DataProblem(file, "is not a period like 2026-11, 2026-Q4 or 2026", row, "period", text, order=1))
    for row, role in connection.execute(
        f"SELECT _row, _role FROM source WHERE _role IS NULL OR _role NOT IN ({covered_sql}) ORDER BY _row"
    ).fetchall():
        if role is None:
            problems.append(DataProblem(file, "the cell is empty", row, "role", order=2))
        else:
            problems.append(DataProblem(file, f"no policy covers this role (the policies cover {', '.join(covered)})", row, "role", role, order=2))
    for policy in policies:
        for row, text, kind in connection.execute(
            f"SELECT _row, _period_text, {KIND_OF_PERIOD} FROM source WHERE {role_filter(policy)} AND _period IS NOT NULL "
            f"AND {KIND_OF_PERIOD} <> {text_literal(policy.period)} ORDER BY _row"
        ).fetchall():
            problems.append(DataProblem(
                file, f"is a {kind}, but policy \"{policy.name.value}\" reviews by {policy.period} "
                f"(write it like {PERIOD_PATTERNS[policy.period]})", row, "period", text, order=1,
            ))
    return problems


def _duplicates(connection, raw: RawTable) -> list[DataProblem]:
    problems = []
    for agent, period, rows in connection.execute(
        "SELECT _agent, _period, list(_row ORDER BY _row) FROM source WHERE _agent IS NOT NULL AND _period IS NOT NULL "
        "GROUP BY _agent, _period HAVING count(*) > 1 ORDER BY min(_row)"
    ).fetchall():
        for row in rows[1:]:
            problems.append(DataProblem(
                raw.display, f"agent {agent} has another row for period {period} (row {rows[0]})", row, "agent_id", order=0,
            ))
    return problems


def required_metrics(policy: ast.Policy) -> set[str]:
    """Metrics whose column must be present: those a KPI without `when missing` measures."""
    from perfrules.check.scoring import measured_value
    from perfrules.check.symbols import collect_symbols
    from perfrules.diagnostics import DiagnosticSink

    symbols = collect_symbols(policy, DiagnosticSink())
    needed: set[str] = set()
    pending = []
    for kpi in policy.kpis:
        if kpi.missing is None:
            measure, reads = measured_value(kpi, symbols)
            pending.extend(reads)
            if measure is not None:
                pending.extend(node.name for node in ast.walk(measure) if isinstance(node, ast.Reference))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in symbols.metrics:
            needed.add(name)
        elif name in symbols.lets:
            pending.extend(node.name for node in ast.walk(symbols.lets[name].expression) if isinstance(node, ast.Reference))
    return needed


NULL_OF_TYPE = {"text": "VARCHAR", "bool": "BOOLEAN"}


def type_rows(connection, raw: RawTable, policy: ast.Policy, table: str) -> list[DataProblem]:
    """Create ``table``: the policy's rows with every metric typed (``m0``, ``m1``...).

    Each cell is parsed once; the same pass finds the bad cells, reported with their
    row, column and text.  A metric column that is absent is all missing, which is
    a problem only for the metrics a KPI without ``when missing`` measures.
    """
    problems = []
    headers = set(raw.headers)
    has_rows = connection.execute(f"SELECT count(*) FROM source WHERE {role_filter(policy)}").fetchone()[0] > 0
    needed = required_metrics(policy) if has_rows else set()
    values, bad, texts, errors, checks = [], [], [], [], []
    for index, metric in enumerate(policy_metrics(policy)):
        column = metric.column
        if column not in headers:
            if metric.name.text in needed:
                problems.append(DataProblem(
                    raw.display,
                    f"missing column '{column}' for metric {metric.name.text} of policy \"{policy.name.value}\"",
                ))
            values.append(f"CAST(NULL AS {NULL_OF_TYPE.get(metric.type.text, DECIMAL_TYPE)}) AS m{index}")
            continue
        cell = identifier(column)
        value = typed_value(metric.type.text, metric.unit, cell)
        values.append(f"{value} AS m{index}")
        values.append(f"{cell} AS r{index}")  # the raw cell, for the flag below
        bad.append(cell_may_be_bad(metric.type.text, f"m{index}", f"r{index}"))
        error = cell_error(metric.type.text, f"m{index}", f"t{index}")
        if error != "NULL":
            texts.append(f"{cleaned(cell)} AS t{index}, {value} AS m{index}")
            errors.append(f"{error} AS e{index}")
            checks.append((index, column))
    keys = "_row, _agent, _period, _role, _name, _team, _supervisor"
    # Keys and cells from the raw table in one parallel scan (the keys are cheap to redo).
    rows = f"FROM (SELECT {key_columns(raw)}, * FROM {raw.table}) WHERE {role_filter(policy)}"
    flag = " OR ".join(bad) if bad else "false"
    # Values and one cheap flag per row; the messages are only worked out when a flag is set
    # (a flag may be set for a cell of spaces, which the exact check then finds fine).
    typed_columns = "".join(f", m{index}" for index in range(len(policy_metrics(policy))))
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {keys}{typed_columns}, coalesce({flag}, false) AS _bad "
        f"FROM (SELECT {keys}{''.join(', ' + value for value in values)} {rows})"
    )
    if not checks or not connection.execute(f"SELECT count(*) FROM {table} WHERE _bad").fetchone()[0]:
        return problems
    failing = " OR ".join(f"e{index} IS NOT NULL" for index, _ in checks)
    details = (f"SELECT _row, {', '.join(f't{index}, e{index}' for index, _ in checks)} FROM "
               f"(SELECT *, {', '.join(errors)} FROM (SELECT _row, {', '.join(texts)} {rows})) "
               f"WHERE {failing} ORDER BY _row")
    for found in connection.execute(details).fetchall():
        row = found[0]
        for position, (index, column) in enumerate(checks):
            text, problem = found[1 + 2 * position], found[2 + 2 * position]
            if problem is not None:
                problems.append(DataProblem(raw.display, problem, row, column, text, order=10 + index))
    return problems


def policy_metrics(policy: ast.Policy) -> list[ast.Metric]:
    """The policy's metrics in declaration order, first of each name (``m0``, ``m1``...)."""
    seen: dict[str, ast.Metric] = {}
    for metric in policy.metrics:
        seen.setdefault(metric.name.text, metric)
    return list(seen.values())
