"""Validating a data file against the policies, every problem in one run.

:func:`prepare_rows` turns the text table of :mod:`perfrules.data.reading` into the
``rows`` table the engine reads, in one scan: the required columns ``agent_id``,
``period`` and ``role`` cleaned, the period normalised (``2026-11``, ``2026-Q4``,
``2026``; Excel's ``2026-11-01`` and ``2026年11月`` are read as months),
``name``/``team``/``supervisor`` when present, and each policy's metric cells typed.
It reports, with file, spreadsheet row and column: missing required columns, missing
metric columns, empty ids, unreadable periods, a period of the wrong
kind for the policy, roles no policy covers, duplicate (agent_id, period) rows and
every cell that is not of its metric's type.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from perfrules import ast
from perfrules.data.cells import (
    NUMERIC_TYPES,
    cell_error,
    cell_may_be_bad,
    cleaned,
    number_value,
    typed_value,
)
from perfrules.data.problems import DataFileProblem, ExactReadingNeeded, TextReadingNeeded
from perfrules.data.reading import ROW_COLUMN, RawTable, header_row_hint
from perfrules.diagnostics import did_you_mean
from perfrules.engine.sql import DECIMAL_TYPE, text_literal
from perfrules.values import PERIOD_EXAMPLES, one_line, percent_text, quoted_cell

REQUIRED = ("agent_id", "period", "role")
OPTIONAL = ("name", "team", "supervisor")
# The identifying columns of every row, as key_columns names them; the plan's stages pass them on.
KEYS = "_row, _agent, _period, _role, _name, _team, _supervisor"


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
        """One line: a line break or other control character in a cell, id or header is shown
        escaped (``\\n``), so that each problem stays on its own line."""
        place = self.file if self.row is None else f"{self.file}:{self.row}"
        where = f" column {self.column}:" if self.column is not None else ""
        shown = f" '{quoted_cell(self.text)}'" if self.text is not None else ""
        return one_line(f"{place}:{where}{shown} {self.message}")

    def sort_key(self) -> tuple:
        return (self.row or 0, self.order, self.column or "", self.message)


LAST_YEAR = 9989  # perfrules.parser.MAX_PLAN_DAYS after the end of 9989 is still before year 10000


def file_problems(display: str, problem: DataFileProblem) -> list[DataProblem]:
    """The problems of a file that cannot be read, each on its row when it has one."""
    return [DataProblem(display, each.text(), each.row) for each in problem.each()]


def period_sql(raw: str) -> str:

    text = cleaned(raw)
    year = r"([0-9]{4})"
    quarter = year + r"\s*[-/.年]?\s*[Qq]([1-4])(季度)?"
    month = year + r"\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?([-/.]0?1(\s+00:00(:00)?)?)?"

    def extract(pattern: str, group: int) -> str:
        return f"regexp_extract({text}, {text_literal('^' + pattern + '$')}, {group})"

    def matches(pattern: str) -> str:
        return f"regexp_full_match({text}, {text_literal(pattern)})"

    # YYYY-MM: six digits and the dash (a cast of the parts would take `+1`, ` 1`, `1.`, `0x12` and
    # `2_26`, and keep them as the period's text), the month between 01 and 12.
    canonical_month = (
        f"length({text}) = 7 AND substr({text}, 5, 1) = '-' AND translate({text}, '0123456789', '') = '-' "
        f"AND substr({text}, 6, 2) BETWEEN '01' AND '12'"
    )
    return (
        # Years 0001..9989: a period's end plus a plan's at most 3650 days is still a date.
        f"CASE WHEN NOT (left({text}, 4) BETWEEN '0001' AND '{LAST_YEAR}') THEN NULL "
        f"WHEN {canonical_month} THEN {text} "  # the common case, without regular expressions
        f"WHEN {matches(year + '年?')} THEN left({text}, 4) "
        f"WHEN {matches(quarter)} THEN {extract(quarter, 1)} || '-Q' || {extract(quarter, 2)} "
        f"WHEN {matches(month)} THEN {extract(month, 1)} || '-' || lpad({extract(month, 2)}, 2, '0') END"
    )


def normalised_period(connection, text: str) -> str | None:
    """The canonical period a cell or ``--period`` written ``text`` names (2026-11, 2026-Q4,
    2026), or None when it names none."""
    return connection.execute(f"SELECT {period_sql('given')} FROM (SELECT ? AS given)", [text]).fetchone()[0]


class UnreadableRows(Exception):
    """The data lacks agent_id, period or role: no row can be read at all."""

    def __init__(self, problems: list[DataProblem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def prepare_rows(connection, raw: RawTable, policies: list[ast.Policy],
                 tolerated_roles: frozenset[str] = frozenset()) -> list[DataProblem]:
    """Create the ``rows`` table and a ``typed_N`` view per policy; return every problem.

    ``rows`` holds every row's cleaned keys and, for each policy N, its metrics typed
    (``pN_m0``, ``pN_m1``...) and a flag ``_bad_N`` set where a cell may be bad, all in
    one parallel scan of ``raw.table``.  The view ``typed_N`` shows policy N's rows
    with its metrics named ``m0``, ``m1``... as the plan reads them.  Raises
    :class:`UnreadableRows` when a required column is missing.  Rows of a
    ``tolerated_roles`` role are no problem and evaluated by no policy (``diff``: the
    other version's roles).
    """
    problems: list[DataProblem] = []
    headers = set(raw.headers)
    title = header_row_hint(raw.preview, raw.header_row)
    for column in REQUIRED:
        if column not in headers:
            hint = title or did_you_mean(column, raw.headers)
            extra = f"; {hint}" if hint else ""
            problems.append(DataProblem(raw.display, f"missing column '{column}' (the data needs agent_id, period and role{extra})"))
    direct = not raw.numbered
    if problems:
        # A file read directly may also have rows that do not fit its header row: the exact route
        # reads every row before it says what is missing.
        raise ExactReadingNeeded() if direct else UnreadableRows(problems)
    guarded = len(policies) > 1 or bool(tolerated_roles)
    typings = [MetricTyping(raw, policy, index, guarded=guarded) for index, policy in enumerate(policies)]
    keys = KEYS
    try:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE rows_typed AS "
                           f"{typed_rows(raw, typings, usual_period(connection, raw))}")
    except duckdb.Error:
        if direct and raw.decimals:  # a cell the reader cannot type as a number, or any of the below
            raise TextReadingNeeded() from None
        if direct:  # a CSV structure the reader refuses, bytes that are not UTF-8: the exact route says which
            raise ExactReadingNeeded() from None
        raise
    if direct:
        try:
            counted, _ = raw.scan.result()
        except OSError:
            raise ExactReadingNeeded() from None
        # Empty lines, which DuckDB skips (the rows' numbers are then not their places; there are
        # fewer rows than lines), and lines longer than its buffer, which it may drop without a
        # word (the last one), or return no rows at all for (with number columns): the exact route
        # says what is wrong, or reads the file. So do rows that are not one a line (a quoted cell
        # with a line break; DuckDB is right there) and a file that changed while it was read.
        if counted.too_long or raw.scan.changed() or \
                not counted.one_a_row(connection.execute("SELECT count(*) FROM rows_typed").fetchone()[0]):
            raise ExactReadingNeeded()
        if counted.digits_joined and raw.decimals:  # `1_0`, which the reader took for 10
            raise TextReadingNeeded()
    # Rows read straight from the file are numbered by their place in it (insertion order is file
    # order; the direct route takes only files without title rows or empty lines).
    numbers = f" REPLACE (CAST(rowid + {raw.header_row + 1} AS BIGINT) AS _row)" if direct else ""
    connection.execute(f"CREATE OR REPLACE TEMP VIEW rows AS SELECT *{numbers} FROM rows_typed")
    problems.extend(_row_problems(connection, raw, policies, tolerated_roles))
    problems.extend(_duplicates(connection, raw))
    for typing in typings:
        problems.extend(typing.problems(connection))
        connection.execute(f"CREATE OR REPLACE TEMP VIEW typed_{typing.index} AS SELECT {keys}{typing.as_metrics()} "
                           f"FROM rows WHERE {role_filter(typing.policy)}")
    if direct and (problems or any(typing.may_mix_spellings(connection) for typing in typings)):
        raise ExactReadingNeeded()
    return problems


def typed_rows(raw: RawTable, typings: list[MetricTyping], usual: tuple[str, str] | None = None) -> str:
    """The SELECT of every row's keys, each policy's typed metrics and its flag ``_bad_N``, in one
    scan of ``raw.table`` (read directly: with how each percent cell is written, for the
    mixed-spelling warning, as there is no text later).  Values and one cheap flag per row; the
    messages are only worked out when a flag is set (a flag may be set for a cell of spaces,
    which the exact check then finds fine).  ``usual``: see :func:`key_columns`."""
    middle = "".join(", " + item for typing in typings for item in typing.values)
    outer = "".join(", " + item for typing in typings for item in typing.columns)
    if not raw.numbered:
        middle += "".join(", " + item for typing in typings for item in typing.spellings)
        outer += "".join(f", {name}" for typing in typings for name in typing.spelling_names)
    roles = sorted({role.text for typing in typings for role in typing.policy.roles})
    return (f"SELECT {KEYS}{outer} FROM (SELECT {KEYS}{middle} "
            f"FROM (SELECT {key_columns(raw, usual, roles)}, * FROM {raw.table}))")


def key_columns(raw: RawTable, usual_period: tuple[str, str] | None = None, roles: list[str] | None = None) -> str:
    """The identifying columns of a row, cleaned: _row, _agent, _period (normalised), ...

    ``usual_period``: (a period cell as written, its period), from :func:`usual_period`: a cell
    written the same way is that period without the normalising's string functions (most files
    hold one period, written one way; 0.1 s of a million agents).  Likewise a role cell that is
    one of ``roles`` as written (a role is a name without spaces: cleaning leaves it as it is)."""
    optional = ", ".join(
        f"{cleaned(raw.cell(column)) if column in raw.headers else 'CAST(NULL AS VARCHAR)'} AS _{column}"
        for column in OPTIONAL
    )
    period = period_sql(raw.cell("period"))
    if usual_period is not None:
        written, normalised = usual_period
        period = (f"CASE WHEN CAST({raw.cell('period')} AS VARCHAR) = {text_literal(written)} "
                  f"THEN {text_literal(normalised)} ELSE {period} END")
    role = cleaned(raw.cell("role"))
    if roles:
        cell = f"CAST({raw.cell('role')} AS VARCHAR)"
        role = f"CASE WHEN {cell} IN ({', '.join(text_literal(name) for name in roles)}) THEN {cell} ELSE {role} END"
    return (
        f"{ROW_COLUMN} AS _row, {cleaned(raw.cell('agent_id'))} AS _agent, "
        f"{period} AS _period, {role} AS _role, {optional}"
    )


def usual_period(connection, raw: RawTable) -> tuple[str, str] | None:
    """(the period cell of the file's first row, as written, and its period), or None when the
    file's first row has none that is valid (see :func:`key_columns`)."""
    written = raw.first_row_cell("period") if "period" in raw.headers else None  # trimmed, as `cleaned` makes it
    if written is None:
        return None
    normalised = normalised_period(connection, written)
    return (written, normalised) if normalised is not None else None


def role_filter(policy: ast.Policy) -> str:
    roles = ", ".join(text_literal(role.text) for role in policy.roles)
    return f"_role IN ({roles})"


KIND_OF_PERIOD = "CASE WHEN _period LIKE '%-Q%' THEN 'quarter' WHEN _period LIKE '%-%' THEN 'month' ELSE 'year' END"


def _row_problems(connection, raw: RawTable, policies: list[ast.Policy],
                  tolerated_roles: frozenset[str] = frozenset()) -> list[DataProblem]:
    """Empty ids, unreadable periods, uncovered roles, periods of the wrong kind."""
    covered = sorted({role.text for policy in policies for role in policy.roles})
    covered_sql = ", ".join(text_literal(role) for role in sorted({*covered, *tolerated_roles})) or "NULL"
    mismatches = " OR ".join(
        f"({role_filter(policy)} AND _period IS NOT NULL AND {KIND_OF_PERIOD} <> {text_literal(policy.period)})"
        for policy in policies
    ) or "false"
    # One pass to learn whether anything is wrong; the detailed queries only run when it is.
    (bad,) = connection.execute(
        f"SELECT count(*) FROM rows WHERE _agent IS NULL OR _period IS NULL OR _role IS NULL "
        f"OR _role NOT IN ({covered_sql}) OR {mismatches}"
    ).fetchone()
    if not bad:
        return []
    if not raw.numbered:
        raise ExactReadingNeeded()
    problems = []
    file = raw.display
    period_text = cleaned(raw.cell("period"))
    for (row,) in connection.execute("SELECT _row FROM rows WHERE _agent IS NULL ORDER BY _row").fetchall():
        problems.append(DataProblem(file, "the cell is empty", row, "agent_id", order=0))
    for row, text in connection.execute(
        f"SELECT {ROW_COLUMN}, {period_text} FROM {raw.table} "
        f"WHERE {ROW_COLUMN} IN (SELECT _row FROM rows WHERE _period IS NULL) ORDER BY {ROW_COLUMN}"
    ).fetchall():
        if text is None:
            problems.append(DataProblem(file, "the cell is empty", row, "period", order=1))
        else:
            problems.append(DataProblem(file, "is not a period like 2026-11, 2026-Q4 or 2026", row, "period", text, order=1))
    for row, role in connection.execute(
        f"SELECT _row, _role FROM rows WHERE _role IS NULL OR _role NOT IN ({covered_sql}) ORDER BY _row"
    ).fetchall():
        if role is None:
            problems.append(DataProblem(file, "the cell is empty", row, "role", order=2))
        else:
            problems.append(DataProblem(file, f"no policy covers this role (the policies cover {', '.join(covered)})", row, "role", role, order=2))
    for policy in policies:
        for row, text, kind in connection.execute(
            f"SELECT _row, {period_text}, {KIND_OF_PERIOD} FROM (SELECT _row, _period FROM rows "
            f"WHERE {role_filter(policy)} AND _period IS NOT NULL AND {KIND_OF_PERIOD} <> {text_literal(policy.period)}) "
            f"JOIN (SELECT {ROW_COLUMN}, {raw.cell('period')} FROM {raw.table}) ON _row = {ROW_COLUMN} ORDER BY _row"
        ).fetchall():
            problems.append(DataProblem(
                file, f"is a {kind}, but policy \"{policy.name.value}\" reviews by {policy.period} "
                f"(write it like {PERIOD_EXAMPLES[policy.period]})", row, "period", text, order=1,
            ))
    return problems


def _duplicates(connection, raw: RawTable) -> list[DataProblem]:
    groups = "FROM rows WHERE _agent IS NOT NULL AND _period IS NOT NULL GROUP BY _agent, _period HAVING count(*) > 1"
    # Whether any key repeats, by counting distinct hashes of the keys (a third cheaper than grouping
    # the texts): no key repeats when there are as many as rows. Two keys of one hash (about one
    # chance in 10^7 at 10^6 rows) only make the exact query below run, and find nothing.
    if not connection.execute("SELECT count(*) - count(DISTINCT hash(_agent, _period)) FROM rows "
                              "WHERE _agent IS NOT NULL AND _period IS NOT NULL").fetchone()[0]:
        return []
    if not raw.numbered:
        raise ExactReadingNeeded()
    problems = []
    for agent, period, rows in connection.execute(
        f"SELECT _agent, _period, list(_row ORDER BY _row) {groups} ORDER BY min(_row)"
    ).fetchall():
        for row in rows[1:]:
            problems.append(DataProblem(
                raw.display, f"agent {agent} has another row for period {period} (row {rows[0]})", row, "agent_id", order=0,
            ))
    return problems


NULL_OF_TYPE = {"text": "VARCHAR", "bool": "BOOLEAN"}


class MetricTyping:
    """How one policy's metric cells are typed in ``rows``, and the problems of those cells.

    Each cell is parsed once, in the scan that builds ``rows``; the same scan sets a
    cheap flag, and only when it is set are the cells checked again to say, with row,
    column and text, what is wrong.  A metric column that is absent is a problem
    (for a policy that has rows), whatever its KPIs' ``when missing`` say.
    With several policies a policy's cells are typed only in its own roles' rows.
    """

    def __init__(self, raw: RawTable, policy: ast.Policy, index: int, guarded: bool):
        self.raw, self.policy, self.index = raw, policy, index
        self.metrics = policy_metrics(policy)
        prefix = f"p{index}_"
        guard = (lambda sql: f"CASE WHEN {role_filter(policy)} THEN {sql} END") if guarded else (lambda sql: sql)  # noqa: E731
        self.values: list[str] = []  # typed values and raw cells, over the raw table with keys
        self.columns: list[str] = []  # typed values and the flag, over `values`
        self.absent: list[ast.Metric] = []
        self.checks: list[tuple[int, str, str, str]] = []  # (number, column, SQL of the text, of the value)
        self.spellings: list[str] = []  # percent cells ending in `%` (direct reading), over the raw table
        self.spelling_names: list[str] = []
        flags = []
        headers = set(raw.headers)
        for number, metric in enumerate(self.metrics):
            value_name, raw_name = self.value_name(number), f"{prefix}r{number}"
            self.columns.append(value_name)
            if metric.column not in headers:
                self.absent.append(metric)
                self.values.append(f"CAST(NULL AS {NULL_OF_TYPE.get(metric.type.text, DECIMAL_TYPE)}) AS {value_name}")
                continue
            cell = raw.cell(metric.column)
            read_as_number = metric.column in raw.decimals  # typed by DuckDB's reader
            value = (number_value if read_as_number else typed_value)(metric.type.text, metric.unit, cell)
            self.values += [f"{guard(value)} AS {value_name}", f"{cell} AS {raw_name}"]
            flags.append(cell_may_be_bad(metric.type.text, value_name, raw_name))
            if cell_error(metric.type.text, "value", "text") != "NULL":
                self.checks.append((number, metric.column, cleaned(cell), value))
            if metric.type.text == "percent" and not read_as_number:  # a cell read as a number has no `%`
                self.spelling_names.append(f"{prefix}s{number}")
                self.spellings.append(f"suffix({cleaned(cell)}, '%') AS {prefix}s{number}")
        self.columns.append(f"coalesce({' OR '.join(flags) or 'false'}, false) AS _bad_{index}")

    def value_name(self, number: int) -> str:
        """The column of the typed value of metric ``number`` (``p0_m3``)."""
        return f"p{self.index}_m{number}"

    def spelling_name(self, number: int) -> str | None:
        """The column saying whether the cell of percent metric ``number`` ends in `%`; None when
        its column is not read as text (a cell typed by the reader has no `%`)."""
        name = f"p{self.index}_s{number}"
        return name if name in self.spelling_names else None

    def as_metrics(self) -> str:
        """``, p0_m0 AS m0, …``: the typed values under the names the plan reads (``m0``…)."""
        return "".join(f", {self.value_name(number)} AS m{number}" for number in range(len(self.metrics)))

    def problems(self, connection) -> list[DataProblem]:
        """Absent metric columns (when the policy has rows) and every bad cell of its rows."""
        policy, raw = self.policy, self.raw
        problems = []
        if self.absent and connection.execute(f"SELECT count(*) FROM rows WHERE {role_filter(policy)}").fetchone()[0]:
            problems += [_absent_column(raw, policy, metric, self.metrics.index(metric)) for metric in self.absent]
        if not self.checks or not connection.execute(
                f"SELECT count(*) FROM rows WHERE _bad_{self.index} AND {role_filter(policy)}").fetchone()[0]:
            return problems
        if not raw.numbered:
            raise ExactReadingNeeded()
        cells = ", ".join(f"{text} AS t{number}, {value} AS v{number}" for number, _, text, value in self.checks)
        errors = ", ".join(f"{cell_error(self.metrics[number].type.text, f'v{number}', f't{number}')} AS e{number}"
                           for number, *_ in self.checks)
        failing = " OR ".join(f"e{number} IS NOT NULL" for number, *_ in self.checks)
        details = (f"SELECT _row, {', '.join(f't{number}, e{number}' for number, *_ in self.checks)} FROM "
                   f"(SELECT *, {errors} FROM (SELECT _row, {cells} FROM (SELECT {key_columns(raw)}, * "
                   f"FROM {raw.table}) WHERE {role_filter(policy)})) WHERE {failing} ORDER BY _row")
        for found in connection.execute(details).fetchall():
            for position, (number, column, _, _) in enumerate(self.checks):
                text, problem = found[1 + 2 * position], found[2 + 2 * position]
                if problem is not None:
                    problems.append(DataProblem(raw.display, problem, found[0], column, text, order=10 + number))
        return problems


    def may_mix_spellings(self, connection) -> bool:
        """Whether a percent column of this policy's rows holds both `92%` cells and bare numbers
        (read directly: :func:`mixed_percent_warnings` then needs the exact route's texts)."""
        if not self.spelling_names:
            return False
        mixed = " OR ".join(f"(bool_or({name}) AND bool_or(NOT {name}))" for name in self.spelling_names)
        return bool(connection.execute(f"SELECT coalesce({mixed}, false) FROM rows WHERE {role_filter(self.policy)}")
                    .fetchone()[0])


def _absent_column(raw: RawTable, policy: ast.Policy, metric: ast.Metric, number: int) -> DataProblem:
    """Every metric needs its column, even under `when missing` (which is about empty cells):
    a renamed header must never silently turn every agent's value into a missing one."""
    hint = did_you_mean(metric.column, raw.headers)
    return DataProblem(raw.display, f"missing column '{metric.column}' for metric {metric.name.text} of policy "
                                    f"\"{policy.name.value}\" (every metric needs its column, even when its "
                                    f"cells are empty{'; ' + hint if hint else ''})", order=number)


def mixed_percent_warnings(connection, raw: RawTable, policies: list[ast.Policy]) -> list[str]:
    """A warning for each percent column that holds both `92%` cells and bare numbers.

    Both spellings are valid, but a column that mixes them was probably typed by hand, and a
    bare `0.5` meant as 0.5% is read as 50%.  A 0 (or 0%) is the same either way and does
    not count.  One example of each, the first in the file, with its row.
    """
    if not raw.numbered:  # prepare_rows found no column with both spellings (else the exact route reads)
        return []
    warnings: list[str] = []
    seen: set[str] = set()
    for policy in policies:
        columns = [metric.column for metric in policy_metrics(policy)
                   if metric.type.text == "percent" and metric.column in raw.headers and metric.column not in seen]
        if not columns:
            continue
        seen.update(columns)
        # The cells' texts only (the file is valid by now): the percent typing of every cell
        # again would cost as much as the validation itself.
        texts = ", ".join(f"{cleaned(raw.cell(column))} AS t{number}" for number, column in enumerate(columns))
        source = (f"(SELECT {ROW_COLUMN} AS _row, {cleaned(raw.cell('role'))} AS _role, {texts} FROM {raw.table}) "
                  f"WHERE {role_filter(policy)}")

        # Cheap first (most columns are written one way); the zeros are only left out when needed.
        found = _first_of_each_kind(connection, source, len(columns), nonzero=False)
        if all(found[index] is None or found[index + 1] is None for index in range(0, len(found), 2)):
            continue
        found = _first_of_each_kind(connection, source, len(columns), nonzero=True)
        for number, column in enumerate(columns):
            signed_row, bare_row = found[2 * number:2 * number + 2]
            if signed_row is None or bare_row is None:
                continue
            cell = cleaned(raw.cell(column))
            signed_text, bare_text, value = connection.execute(
                f"SELECT max({cell}) FILTER (WHERE {ROW_COLUMN} = ?), max({cell}) FILTER (WHERE {ROW_COLUMN} = ?), "
                f"max({typed_value('percent', None, raw.cell(column))}) FILTER (WHERE {ROW_COLUMN} = ?) "
                f"FROM {raw.table} WHERE {ROW_COLUMN} IN (?, ?)",
                [signed_row, bare_row, bare_row, signed_row, bare_row]).fetchall()[0]
            warnings.append(one_line(
                f"{raw.display}: warning: column {column} mixes percent cells (row {signed_row}: '{signed_text}') "
                f"with bare numbers (row {bare_row}: '{bare_text}', read as {percent_text(value)}); "
                f"write every cell the same way"))
    return warnings


def _first_of_each_kind(connection, source: str, count: int, nonzero: bool) -> list:
    """For each of the ``count`` text columns ``t0``, ``t1``... of ``source``: the first row whose
    cell ends in `%`, and the first whose cell does not (``nonzero``: leaving out cells that are 0)."""
    parts = []
    for number in range(count):
        text = f"t{number}"
        zero = f" AND TRY_CAST(replace(rtrim(rtrim({text}, '%')), ',', '') AS DOUBLE) <> 0" if nonzero else ""
        parts += [f"min(_row) FILTER (WHERE {kind}{zero})" for kind in (f"suffix({text}, '%')", f"NOT suffix({text}, '%')")]
    ((*found,),) = connection.execute(f"SELECT {', '.join(parts)} FROM {source}").fetchall()
    return found


def policy_metrics(policy: ast.Policy) -> list[ast.Metric]:
    """The policy's metrics in declaration order, first of each name (``m0``, ``m1``...)."""
    seen: dict[str, ast.Metric] = {}
    for metric in policy.metrics:
        seen.setdefault(metric.name.text, metric)
    return list(seen.values())


def number_columns(policies: list[ast.Policy]) -> frozenset[str]:
    """The columns that only numeric metrics read (no key column): DuckDB's reader may type them
    as numbers (:func:`perfrules.data.reading.read_table`'s ``numbers``)."""
    metrics = [metric for policy in policies for metric in policy_metrics(policy)]
    other = {metric.column for metric in metrics if metric.type.text not in NUMERIC_TYPES}
    return frozenset(metric.column for metric in metrics) - other - set(REQUIRED) - set(OPTIONAL)
