"""Running metric definitions: the snapshot of every agent and period, or every problem.

:func:`load_definitions` reads, parses and checks a ``*.perfm`` file (diagnostics as
for policies, exit 1).  :func:`build_snapshot` opens the sources, runs the one query of
:mod:`.compile`, and, when a used cell cannot be read (a timestamp not in its format, a
count that is not a whole number), a row the filters keep has no agent or period, or a
latest-row key is empty, reads the sources again with their row numbers and reports
each such cell (file, row, column, text, what is wrong; at most
:data:`MAX_PROBLEMS_PER_SOURCE` a source and a count of the rest).  Nothing is
returned half: a :class:`Snapshot` or :class:`SnapshotFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from perfrules.diagnostics import Diagnostic, sorted_unique
from perfrules.metrics.check import DefinitionsChecker, MetricModel, MetricsModel
from perfrules.metrics.compile import cell_text, compile_query, typed_cell
from perfrules.data.validate import DataProblem
from perfrules.engine.run import EvaluationFailed
from perfrules.files import query_interrupted

MAX_PROBLEMS_PER_SOURCE = 100


@dataclass
class LoadedDefinitions:
    display: str
    text: str | None
    model: MetricsModel | None
    diagnostics: list[Diagnostic]

    @property
    def error_count(self) -> int:
        return sum(1 for item in self.diagnostics if item.is_error)


def load_definitions(path: str, overrides: dict[str, str] | None = None) -> LoadedDefinitions:
    from perfrules.metrics.parse import parse_definitions
    from perfrules.source import read_policy

    source, problem = read_policy(Path(path), path)
    if problem is not None:
        return LoadedDefinitions(path, None, None, [problem])
    definitions, diagnostics = parse_definitions(source)
    model = None
    if definitions is not None:
        folder = Path(path).parent
        checker = DefinitionsChecker(definitions, folder, str(folder), overrides)
        model = checker.check()
        if model is not None:
            model.text = source.text
        diagnostics = diagnostics + checker.sink.items
    return LoadedDefinitions(path, source.text, model, sorted_unique(diagnostics))


# Every problem of the raw data at once, as the evaluation's own failure carries them.
SnapshotFailed = EvaluationFailed


@dataclass
class SnapshotRow:
    agent_id: str
    period: str
    role: str | None
    name: str | None
    team: str | None
    supervisor: str | None
    values: list[Decimal | None]
    counts: list[int]  # per metric: the rows (or values) it was computed from


@dataclass
class Snapshot:
    model: MetricsModel
    rows: list[SnapshotRow] = field(default_factory=list)

    @property
    def metrics(self) -> list[MetricModel]:
        return self.model.metrics

    def read_files(self) -> list[Path]:
        """The raw exports and the roster it was computed from: no output of the run may replace them."""
        model = self.model
        return [source.path for source in model.sources] + ([model.roster.path] if model.roster else [])

    def row(self, agent: str, period: str) -> SnapshotRow | None:
        return next((row for row in self.rows if row.agent_id == agent and row.period == period), None)


def build_snapshot(model: MetricsModel, period: str | None = None) -> Snapshot:
    import duckdb

    from perfrules.engine.run import open_connection
    from perfrules.metrics.sources import OpenedSources

    connection = open_connection()
    opened = OpenedSources(connection, model)
    try:
        opened.open()
        roster_agent = model.roster.agent if model.roster else None
        query = compile_query(model, opened.fast, opened.roster, roster_agent)
        try:
            found = connection.execute(query.sql).fetchall()
        except duckdb.Error:  # a cell DuckDB's CSV reader cannot type: again on text cells
            query = compile_query(model, opened.inputs, opened.roster, roster_agent)
            try:
                found = connection.execute(query.sql).fetchall()
            except Exception as error:  # noqa: BLE001 - a file DuckDB cannot read: say exactly where
                if query_interrupted(error):  # Ctrl-C, not the file: cli.py says so
                    raise
                raise SnapshotFailed(_unreadable(opened, error)) from None
        problems = _problems(opened, found)
        if model.roster is not None:
            problems += _roster_duplicates(opened)
        if problems:
            raise SnapshotFailed(problems)
        snapshot = _snapshot(model, found, len(query.source_prefixes), period)
        if period is not None and not snapshot.rows:  # as evaluate --period: never an empty snapshot in silence
            computed = sorted({row.period for row in _snapshot(model, found, len(query.source_prefixes), None).rows})
            raise SnapshotFailed([DataProblem(model.file, f"no rows for period {period}" + (
                f" (the raw exports give {', '.join(computed)})" if computed else ""))])
        without_role = sorted({row.agent_id for row in snapshot.rows if not row.role})
        if without_role:
            raise SnapshotFailed([_no_role(model, agent) for agent in without_role])
        return snapshot
    finally:
        opened.close()
        connection.close()


def _snapshot(model: MetricsModel, found, sources: int, period: str | None) -> Snapshot:
    snapshot = Snapshot(model)
    metric_count = len(model.metrics)
    for record in found:
        agent, row_period = record[0], record[1]
        kept = record[2:2 + 2 * sources:2]
        if agent is None or row_period is None or not any(kept):
            continue
        if period is not None and row_period != period:
            continue
        values = record[2 + 2 * sources:2 + 2 * sources + 2 * metric_count]
        role, name, team, supervisor = record[-4:]
        snapshot.rows.append(SnapshotRow(agent, row_period, role or model.role, name, team, supervisor,
                                         [None if value is None else Decimal(value) for value in values[0::2]],
                                         [int(count or 0) for count in values[1::2]]))
    snapshot.rows.sort(key=lambda row: (row.period, row.agent_id))
    return snapshot


# ---- problems -----------------------------------------------------------------------------------


def _unreadable(opened, error: Exception) -> list[DataProblem]:
    """The file DuckDB could not read, read again by perfrules.data.reading for its exact problems."""
    from perfrules.data.problems import DataFileProblem
    from perfrules.data.validate import file_problems

    problems = []
    for index, source in enumerate(opened.model.sources):
        try:
            opened.exact(index)
        except DataFileProblem as problem:
            problems += file_problems(source.display, problem)
    if not problems:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        problems.append(DataProblem(opened.model.file, f"the sources cannot be read: {message}"))
    return problems


def _problems(opened, found) -> list[DataProblem]:
    model = opened.model
    problems = []
    for index, source in enumerate(model.sources):
        bad = sum(record[3 + 2 * index] for record in found)
        unplaced = sum(record[2 + 2 * index] for record in found if record[0] is None or record[1] is None)
        if bad or unplaced:
            problems += _cell_problems(opened, index)
    return problems


def _cell_problems(opened, index: int) -> list[DataProblem]:
    """Every bad cell of the source's used columns, empty keys, and kept rows without agent or period."""
    from perfrules.data.cells import cell_error
    from perfrules.engine.sql import text_literal

    from perfrules.data.problems import DataFileProblem
    from perfrules.data.validate import file_problems

    connection, model = opened.connection, opened.model
    source = model.sources[index]
    try:
        table = opened.exact(index)
    except DataFileProblem as problem:  # read exactly, the file shows problems the fast reading passed over
        return file_problems(source.display, problem)
    headers = opened.inputs[index].headers
    checks = []
    for column in source.used():
        if column.kind == "text":
            continue
        text = cell_text(column, source, headers)
        value = typed_cell(column, text)
        if column.kind == "timestamp":
            error = (f"CASE WHEN {text} IS NOT NULL AND {value} IS NULL THEN "
                     f"{text_literal('is not a timestamp like ' + column.written)} END")
        else:
            error = cell_error(column.kind, f"({value})", text)
        checks.append((column.header, text, error))
    if source.latest:
        key = source.latest[0]
        text = cell_text(key, source, headers)
        checks.append((key.header, text, f"CASE WHEN {text} IS NULL THEN 'is empty or unknown, but it is the key of `latest per`' END"))
    problems: list[DataProblem] = []
    total = 0
    if checks:
        selects = ", ".join(f"{text} AS t{number}, {error} AS e{number}" for number, (_, text, error) in enumerate(checks))
        failing = " OR ".join(f"e{number} IS NOT NULL" for number in range(len(checks)))
        rows = connection.execute(f"SELECT __row, * EXCLUDE (__row) FROM (SELECT __row, {selects} FROM {table}) "
                                  f"WHERE {failing} ORDER BY __row").fetchall()
        for found in rows:
            for number, (header, _, _) in enumerate(checks):
                text, problem = found[1 + 2 * number], found[2 + 2 * number]
                if problem is not None:
                    total += 1
                    if len(problems) < MAX_PROBLEMS_PER_SOURCE:
                        problems.append(DataProblem(source.display, problem, found[0], header,
                                                    text, order=number))
    if total == 0:
        problems += _latest_ties(opened, index, table) + _unplaced_rows(opened, index, table)
        total = len(problems)
    if total > len(problems):
        problems.append(DataProblem(source.display, f"and {total - len(problems):,} more problems like these "
                                                    f"({total:,} in all)"))
    return problems


def _latest_ties(opened, index: int, table: str) -> list[DataProblem]:
    """Rows of a `latest per` key that tie with its latest row in every order column."""
    from perfrules.metrics.compile import SourceInput, SourceQuery

    source = opened.model.sources[index]
    if not source.latest:
        return []
    query = SourceQuery(opened.model, source, index, SourceInput(table, opened.inputs[index].headers))
    key, *order = source.latest
    values = [query.value(column).sql() for column in (key, *order)]
    ranked = (f"SELECT __row, {values[0]} AS k, dense_rank() OVER (PARTITION BY {values[0]} ORDER BY "
              + ", ".join(f"{value} DESC NULLS LAST" for value in values[1:])
              + f") AS r FROM ({query.typed(carry=('__row',)).sql()})")
    problems = []
    for key_text, rows in opened.connection.execute(
            f"SELECT k, list(__row ORDER BY __row) FROM ({ranked}) WHERE r = 1 GROUP BY k HAVING count(*) > 1 "
            f"ORDER BY min(__row) LIMIT {MAX_PROBLEMS_PER_SOURCE}").fetchall():
        columns = " and ".join(column.header for column in order)
        for row in rows[1:]:
            problems.append(DataProblem(source.display, f"ties with row {rows[0]} as the latest row of {key_text}: "
                                                        f"the same {columns}, so which is the latest cannot be told",
                                        row, key.header))
    return problems


def _unplaced_rows(opened, index: int, table: str) -> list[DataProblem]:
    """Rows the filters keep whose agent or period cell is empty or unknown."""
    from perfrules.metrics.compile import SourceInput, SourceQuery

    model = opened.model
    source = model.sources[index]
    query = SourceQuery(model, source, index, SourceInput(table, opened.inputs[index].headers))
    keep = query.keep().sql()
    agent, period = query.value(source.agent).sql(), query.value(source.period).sql()
    numbered = query.typed(carry=("__row",))
    problems = []
    for row, has_agent in opened.connection.execute(
            f"SELECT __row, {agent} IS NOT NULL FROM {query.over(f'({numbered.sql()})')} WHERE {keep} "
            f"AND ({agent} IS NULL OR {period} IS NULL) ORDER BY __row LIMIT {MAX_PROBLEMS_PER_SOURCE}").fetchall():
        column = source.period if has_agent else source.agent
        problems.append(DataProblem(source.display, "is empty or unknown, but the filters keep this row "
                                                    "(to skip such rows on purpose, add `where COLUMN is known` to the source)",
                                    row, column.header, order=0))
    return problems


def located_in_snapshot(problem: DataProblem, definitions: str) -> DataProblem:
    """A problem the evaluation found in the snapshot computed from ``definitions``, located by
    the snapshot's row (``defs.perfm: snapshot row 3: ...``, the row ``perfrules metrics``
    writes it on), never as ``defs.perfm:3``, which reads as a line of the definitions."""
    if problem.file != definitions or problem.row is None:
        return problem
    return replace(problem, file=f"{definitions}: snapshot row {problem.row}", row=None)


def _no_role(model: MetricsModel, agent: str) -> DataProblem:
    """An agent the roster does not give a role, in definitions without ``role "..."``: the
    policies are chosen by role, so the snapshot cannot leave it empty (docs/metrics.md)."""
    return DataProblem(model.roster.display, f"agent {agent} has no role: the roster does not list it, or its "
                                             f"{model.roster.fields['role']} cell is empty (hint: add it to the "
                                             f"roster, or give the definitions a role for everyone: role \"agent\")")


def _roster_duplicates(opened) -> list[DataProblem]:
    from perfrules.data.cells import cleaned

    roster = opened.model.roster
    agent = cleaned(f"c{opened.roster.headers.index(roster.agent)}")
    problems = []
    for agent_id, rows in opened.connection.execute(
            f"SELECT {agent}, list(__row ORDER BY __row) FROM {opened.roster.relation} WHERE {agent} IS NOT NULL "
            f"GROUP BY 1 HAVING count(*) > 1 ORDER BY min(__row)").fetchall():
        for row in rows[1:]:
            problems.append(DataProblem(roster.display, f"agent {agent_id} is in the roster twice (row {rows[0]})",
                                        row, roster.agent))
    return problems


def metric_origins(snapshot: Snapshot, agent: str, period: str, language: str) -> dict[str, str]:
    """For each metric of the agent's row: what it is and how many raw rows it was computed from
    (``average of ser_time over 2,882 calls of bank.csv.gz where outcome == "AGENT"``)."""
    from perfrules.texts import EXPLAIN_WORDS

    words = EXPLAIN_WORDS["en" if language == "en" else "zh"]
    row = snapshot.row(agent, period)
    if row is None:
        return {}
    model = snapshot.model
    origins = {}
    for metric, count in zip(snapshot.metrics, row.counts):
        source = metric.source
        value = model.written(metric.value) if metric.value is not None else ""
        condition = model.written(metric.where) if metric.where is not None else ""
        what = words[f"agg_{metric.function}"].format(value=value, condition=condition)
        filters = [model.written(item) for item in (source.where, metric.where if metric.function != "share" else None)
                   if item is not None]
        where = words["origin_where"].format(condition=" and ".join(filters)) if filters else ""
        origins[metric.name] = words["origin"].format(what=what, count=f"{count:,}", source=source.name,
                                                      file=source.display, where=where)
    return origins
