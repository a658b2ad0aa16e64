"""Running an evaluation: data file in, one result table per policy out (in DuckDB).

:func:`evaluate_files` is the whole pipeline behind ``evaluate``, ``explain`` and
``report``: load the checked policies, read the data file, validate it, compile each
policy's plan, execute it in DuckDB over the agents of the chosen period, and check
the outcome for what the spec makes an error at evaluation (a missing value with no
``when missing``, a value no rule matches, a score no grade rule matches).  Nothing
is returned half: either an :class:`Evaluation` or :class:`EvaluationFailed` with
every problem.  Two shortcuts keep a million agents fast and change no outcome: a plain
CSV file is typed straight from the reader (read again the exact way at any problem), and
``streamed`` (evaluate to CSV) leaves each policy as a view of its plan (with its targets'
and awards' columns) that the writer checks row by row
(:func:`outcome_guard`), the stored route saying every problem when a row has one
(:meth:`Evaluation.check_streamed`).  A third, the single pass (engine/single_pass.py),
leaves even the typed rows and their checks to the writer's one query, and the writer
evaluates the stored way when that query stops (:meth:`Evaluation.redo_stored`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from perfrules import ast
from perfrules.check.model import KpiModel
from perfrules.data.file_scan import file_state
from perfrules.data.problems import (
    DataArgumentProblem,
    DataFileProblem,
    ExactReadingNeeded,
    TextReadingNeeded,
)
from perfrules.data.reading import FORMATS, RawTable, load_cells, read_table, release_table
from perfrules.data.validate import (
    DataProblem,
    UnreadableRows,
    file_problems,
    mixed_percent_warnings,
    normalised_period,
    number_columns,
    prepare_rows,
)
from perfrules.engine.plan import Plan, compile_plan
from perfrules.engine.sql import install_macros
from perfrules.files import spill_folder, temporary_folder_full
from perfrules.provenance import sha256_file
from perfrules.values import metric_value_text, period_end, period_kind, plain
from perfrules.workspace import LoadedPolicy

if TYPE_CHECKING:  # engine/single_pass.py reads this module's classes
    from perfrules.engine.single_pass import SinglePass


class InvalidArgument(Exception):
    """The command line names a data file, sheet, encoding or period that is not there
    or not valid (a command-line mistake, not a problem of the data)."""


class EvaluationFailed(Exception):
    """The data cannot be evaluated; ``problems`` says everything that is wrong."""

    def __init__(self, problems: list[DataProblem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class NoRowsForPeriod(EvaluationFailed):
    """``--period`` names a period for which no policy has rows (``diff`` may skip it)."""


@dataclass
class PolicyRun:
    """One policy's evaluation: its plan and the DuckDB table holding its results."""

    loaded: LoadedPolicy
    plan: Plan
    period: str
    table: str
    typed_table: str
    earlier: dict[str, str] = field(default_factory=dict)  # period -> its result table, evaluated on demand
    # False: ``table`` is a view of the plan, read once by a writer that stops at a problem
    # (:func:`outcome_guard`); its outcome has not been checked yet.
    checked: bool = True
    # The plan's results without the columns of targets and awards, which ``table`` adds when
    # the policy has them (engine/standing.py); empty: ``table`` itself.
    plan_table: str = ""

    @property
    def plan_results(self) -> str:
        """The table (or view) of the plan's own columns: all that `--columns summary` reads."""
        return self.plan_table or self.table

    @property
    def policy(self) -> ast.Policy:
        return self.plan.policy

    def history(self, connection, limit: int = 12) -> list[tuple[str, str]]:
        """(period, result table) for up to ``limit`` periods ending with this one, oldest first.

        Earlier periods are evaluated with the same plan on demand (for trend charts);
        problems in them do not stop anything: a value that could not be scored shows
        as a gap.
        """
        periods = [period for (period,) in connection.execute(
            f"SELECT DISTINCT _period FROM {self.typed_table} WHERE _period IS NOT NULL AND _period <= ? "
            f"ORDER BY _period DESC LIMIT ?", [self.period, limit]).fetchall()]
        tables = []
        for period in reversed(periods):
            try:
                tables.append((period, self.period_table(connection, period)))
            except duckdb.Error:  # an overflow the plan could not turn into a missing value: a gap
                continue
        return tables

    def period_table(self, connection, period: str) -> str:
        """The result table of ``period`` evaluated with this policy's plan (made once; raises
        duckdb.Error when the plan cannot run on that period's rows)."""
        if period == self.period:
            return self.table
        if period not in self.earlier:
            table = f"{self.table}_{period.replace('-', '_')}"
            connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {self.plan.sql(self.typed_table, period)}")
            self.earlier[period] = table
        return self.earlier[period]


@dataclass
class Evaluation:
    """Everything evaluated in one run; results stay in ``connection`` until closed."""

    connection: object
    data_display: str
    runs: list[PolicyRun] = field(default_factory=list)
    data_sha256: str | None = None  # of the data file's bytes, for the result's receipt
    warnings: list[str] = field(default_factory=list)  # about the data, one line each
    policies: list[LoadedPolicy] = field(default_factory=list)
    wanted: str | None = None  # the period asked for (--period), else each policy's latest
    # Taken by the single pass (engine/single_pass.py), until its rows are written whole.
    single_pass: SinglePass | None = None

    def written(self, rows: int) -> bool:
        """Whether the ``rows`` rows a streamed run's writer wrote are its whole result (they
        are, except when the single pass's do not add up: then :meth:`redo_stored`)."""
        if self.single_pass is None:
            return True
        digest = self.single_pass.whole(rows)
        if digest is None:
            return False
        self.data_sha256, self.single_pass = digest, None
        return True

    def redo_stored(self, as_text: bool = False) -> None:
        """Evaluate the data again the stored way (the single pass stopped at a row, or its rows
        did not add up) and become that evaluation; raises EvaluationFailed with every problem.
        ``as_text``: the stored way reads every cell as text at once, as it would after DuckDB's
        reader refused a cell it typed as a number (a late `92%`) or misread one (`1_0`)."""
        stored = self.single_pass.stored_way(as_text)
        self.connection.close()
        self.connection, self.runs, self.warnings = stored.connection, stored.runs, stored.warnings
        self.data_sha256, self.single_pass = stored.data_sha256, None

    def check_streamed(self) -> None:
        """Raise :class:`EvaluationFailed` with every problem when a streamed run has one (its
        writer stopped: the guard, or an overflow), by evaluating the stored way; else return."""
        if not all(run.checked for run in self.runs):
            _policy_runs(self, streamed=False)

    @property
    def period(self) -> str | None:
        """The evaluated period that ends last (the longer one when two end on the same day).

        Policies of different period kinds each evaluate their own latest period; the
        document names the newest of them, by the calendar rather than by spelling.
        """
        periods = {run.period for run in self.runs}
        span = {"month": 0, "quarter": 1, "year": 2}
        return max(periods, key=lambda period: (period_end(period), span[period_kind(period)]), default=None)

    def agent_ids(self) -> list[str]:
        """The agents evaluated (in the period each policy evaluated), sorted: "did you mean" is stable."""
        return sorted({agent for run in self.runs
                       for (agent,) in self.connection.execute(f"SELECT _agent FROM {run.table}").fetchall()})


# What DuckDB may hold in memory before it moves tables and sorts to its spill folder: with
# Python, the imports and DuckDB's own overhead a million agents stay under 1 GB in every
# output format (docs/performance.md).
MEMORY_LIMIT = "640MB"
# A CSV written by DuckDB's COPY (``streamed``) from a CSV or Parquet file DuckDB reads itself
# holds nothing on the Python side (XLSX and JSON rows are Python's first): DuckDB may keep
# more, and a million agents of the example no longer spill their sort to disk.
STREAMED_MEMORY_LIMIT = "768MB"


def open_connection(memory_limit: str = MEMORY_LIMIT):
    spill = spill_folder()
    # Without a private folder, DuckDB keeps everything in memory (its default folder, `.tmp`
    # in the current folder, is no place for salary data).
    limits = {"memory_limit": memory_limit, "temp_directory": str(spill)} if spill else {"temp_directory": ""}
    connection = duckdb.connect(config={"preserve_insertion_order": True, **limits})
    # DuckDB's own progress bars would be noise on stderr, where perfrules' problems go.
    connection.execute("SET enable_progress_bar = false")
    # DuckDB's projection_placement pass took most of the time of a wide policy's plan (400 KPIs:
    # 13.5 s with it, 4.2 s without; a million agents of the example: no difference measured,
    # docs/performance.md). A DuckDB without that pass has nothing to disable.
    try:
        connection.execute("SET disabled_optimizers = 'projection_placement'")
    except duckdb.Error:  # pragma: no cover - an older DuckDB
        pass
    install_macros(connection)
    return connection


def evaluate_files(policies: list[LoadedPolicy], data_path: Path, data_display: str, period: str | None = None,
                   encoding: str | None = None, sheet: str | None = None, header_row: int = 1,
                   tolerated_roles: frozenset[str] = frozenset(), streamed: bool = False,
                   single_pass: bool = True, as_text: bool = False) -> Evaluation:
    """``streamed``: the results are written once, in order, straight from the plan (``evaluate``
    to CSV): see :func:`_policy_runs`; the writer calls :meth:`Evaluation.check_streamed` when it
    is stopped.  A streamed CSV file may be evaluated by the single pass (engine/single_pass.py),
    unless ``single_pass`` is False: the writer then checks :meth:`Evaluation.written`.
    ``as_text``: no column is typed by DuckDB's reader (it refused a cell already)."""
    arguments = (policies, data_path, data_display, period, encoding, sheet, header_row, tolerated_roles, streamed)

    def stored_way(as_text: bool) -> Evaluation:  # the single pass stopped, or its rows did not add up
        try:
            return evaluate_files(*arguments, single_pass=False, as_text=as_text)
        except InvalidArgument:  # the file is gone since the single pass read it
            raise _changed_while_read(data_display) from None

    way = stored_way if streamed and single_pass else None
    try:
        if not as_text:
            try:
                numbers = number_columns([loaded.policy for loaded in policies])
                return _evaluate_file(*arguments, direct=True, numbers=numbers, stored_way=way)
            except TextReadingNeeded:  # a cell the reader could not type as a number: read every cell as text
                pass
        return _evaluate_file(*arguments, direct=True, stored_way=way)
    except ExactReadingNeeded:  # something to say about the data: read it again, the exact way
        return _evaluate_file(*arguments, direct=False)


def _evaluate_file(policies: list[LoadedPolicy], data_path: Path, data_display: str, period: str | None,
                   encoding: str | None, sheet: str | None, header_row: int, tolerated_roles: frozenset[str],
                   streamed: bool, direct: bool, numbers: frozenset[str] = frozenset(),
                   stored_way: Callable[[bool], Evaluation] | None = None) -> Evaluation:
    read_by_duckdb = FORMATS.get(data_path.suffix.lower()) in ("csv", "parquet")
    connection = open_connection(STREAMED_MEMORY_LIMIT if streamed and read_by_duckdb else MEMORY_LIMIT)
    try:
        wanted = normalised_period(connection, period) if period is not None else None
        if period is not None and wanted is None:
            raise InvalidArgument(f"--period '{period}' is not a period like 2026-11, 2026-Q4 or 2026")
        try:
            state = file_state(data_path)  # the receipt's sha256 must be of the bytes evaluated
            raw = read_table(connection, data_path, data_display, "raw_cells", encoding=encoding, sheet=sheet,
                             header_row=header_row, direct=direct, numbers=numbers, periods=True)
        except DataArgumentProblem as problem:
            raise InvalidArgument(f"{data_display}: {problem.text()}") from None
        except DataFileProblem as problem:
            raise EvaluationFailed(file_problems(data_display, problem)) from None
        try:  # a file read directly is hashed as DuckDB types its rows (file_scan.FileScan)
            digest = None if raw.scan is not None else sha256_file(data_path)
            changed = raw.scan is None and (state is None or file_state(data_path) != state)
        except OSError as error:
            raise EvaluationFailed([DataProblem(data_display, f"cannot be read: {error.strerror or error}")]) from None
        if changed:
            raise _changed_while_read(data_display)
        return evaluate_table(connection, raw, policies, wanted, digest, tolerated_roles, streamed, stored_way)
    except BaseException:
        connection.close()  # its temporary tables and spill files go with it
        raise


def _changed_while_read(data_display: str) -> EvaluationFailed:
    """The data file is not the one whose reading began: its receipt could name other bytes."""
    return EvaluationFailed([DataProblem(data_display, "changed while it was being read; evaluate it again once "
                                                       "it is saved")])


def evaluate_rows(policies: list[LoadedPolicy], headers: list[str], rows: list[tuple[int, list[str | None]]],
                  data_display: str, period: str) -> Evaluation:
    """Evaluate rows built in memory (policy tests): ``rows`` are (row number, text cells under
    ``headers``), read exactly as the cells of a data file."""
    connection = open_connection()
    raw = load_cells(connection, "raw_cells", data_display, headers, rows)
    return evaluate_table(connection, raw, policies, normalised_period(connection, period))


def evaluate_table(connection, raw: RawTable, policies: list[LoadedPolicy], wanted: str | None,
                   digest: str | None = None, tolerated_roles: frozenset[str] = frozenset(),
                   streamed: bool = False, stored_way: Callable[[bool], Evaluation] | None = None) -> Evaluation:
    """Validate the text cells of ``raw`` and evaluate each policy on its rows of the period
    (``streamed``: see :func:`_policy_runs`; with a ``stored_way``, maybe by the single pass)."""
    data_display = raw.display
    if stored_way is not None:
        from perfrules.engine.single_pass import SinglePass, single_pass_run  # it reads this module's classes

        run = single_pass_run(connection, raw, policies, wanted, tolerated_roles)
        if run is not None:
            return Evaluation(connection, data_display, [run], warnings=list(raw.warnings), policies=policies,
                              wanted=wanted, single_pass=SinglePass(raw.scan, raw.header_row, stored_way,
                                                                    bool(raw.decimals)))
    policy_nodes = [loaded.policy for loaded in policies]
    try:
        problems = prepare_rows(connection, raw, policy_nodes, tolerated_roles)  # diff: the other version's roles
    except UnreadableRows as unreadable:
        raise EvaluationFailed(unreadable.problems) from None
    if problems:
        raise EvaluationFailed(sorted(problems, key=DataProblem.sort_key))
    if digest is None and raw.scan is not None:
        _, digest = raw.scan.result()  # prepare_rows has had it: no OSError now
    evaluation = Evaluation(connection, data_display, data_sha256=digest,
                            warnings=[*raw.warnings, *mixed_percent_warnings(connection, raw, policy_nodes)],
                            policies=policies, wanted=wanted)
    release_table(connection, raw)  # from here on everything reads the typed `rows`
    if streamed:
        warnings = list(evaluation.warnings)
        try:
            evaluation.runs = _policy_runs(evaluation, streamed=True)
            return evaluation
        except EvaluationFailed:  # the stored route says what is wrong, in its order and words
            evaluation.warnings = warnings
    evaluation.runs = _policy_runs(evaluation, streamed=False)
    return evaluation


def _policy_runs(evaluation: Evaluation, streamed: bool) -> list[PolicyRun]:
    """Each policy's run over its rows of the period: stored as a table, checked, targets and
    awards added; or, ``streamed``, a view of the plan that the writer checks as it goes.

    Targets and awards read the results of earlier periods and of the whole table: they are
    a narrow table joined to either (engine/standing.py), computed before anything is written.
    """
    connection, data_display, wanted = evaluation.connection, evaluation.data_display, evaluation.wanted
    runs = []
    for index, loaded in enumerate(evaluation.policies):
        typed = f"typed_{index}"  # the view of prepare_rows
        chosen = wanted or connection.execute(f"SELECT max(_period) FROM {typed}").fetchone()[0]
        if chosen is None:
            continue
        plan = compile_plan(loaded.model)
        if streamed:
            table = f"result_{index}_plan"
            connection.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {plan.sql(typed, chosen)}")
            if connection.execute(f"SELECT count(*) FROM {typed} WHERE _period = ?", [chosen]).fetchone()[0]:
                runs.append(PolicyRun(loaded, plan, chosen, table, typed, checked=False))
            continue
        table = f"result_{index}"
        try:
            connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {plan.sql(typed, chosen)}")
        except duckdb.Error as error:  # an arithmetic overflow the plan could not turn into a missing value
            if temporary_folder_full(error):  # not the data's fault: cli.py says so
                raise
            message = str(error).strip().splitlines()[0]
            raise EvaluationFailed([DataProblem(
                data_display, f"policy \"{loaded.policy.name.value}\" cannot be evaluated on this data: {message}")]) from None
        if connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0:
            continue
        runs.append(PolicyRun(loaded, plan, chosen, table, typed))
    if wanted is not None and not runs:
        raise NoRowsForPeriod([DataProblem(data_display, f"no rows for period {wanted}")])
    problems = []
    for run in runs:
        if run.checked:
            problems.extend(_outcome_problems(connection, run, data_display))
    if problems:
        raise EvaluationFailed(sorted(problems, key=DataProblem.sort_key))
    from perfrules.engine.standing import (
        add_standing,  # it reads this module's PolicyRun
    )

    for run in runs:
        try:
            evaluation.warnings.extend(add_standing(connection, run, data_display))
        except duckdb.Error as error:  # a goal that overflows in some period of the data
            if temporary_folder_full(error):  # not the data's fault: cli.py says so
                raise
            message = str(error).strip().splitlines()[0]
            raise EvaluationFailed([DataProblem(
                data_display, f"the targets of policy \"{run.policy.name.value}\" cannot be evaluated on this data: "
                              f"{message}")]) from None
    return runs


OUTCOME_GUARD = "perfrules: a streamed result has a problem"


def outcome_guard(run: PolicyRun) -> str:
    """SQL true for a row of ``run`` that :func:`_outcome_problems` would report: the writer of a
    streamed run raises (``error()``) on it, and :meth:`Evaluation.check_streamed` says what."""
    # The later checks' "and every KPI was scored" is left out: a row without it has a KPI problem,
    # which stops it anyway (half the guard's work at a million agents).
    return " OR ".join(f"({condition})" for condition, _, _, _ in _outcome_checks(run)) or "false"


def outcome_problems(connection, run: PolicyRun, data_display: str) -> list[DataProblem]:
    """What makes a run's rows impossible to evaluate (see :func:`_outcome_problems`)."""
    return _outcome_problems(connection, run, data_display)


def _outcome_problems(connection, run: PolicyRun, data_display: str) -> list[DataProblem]:
    """Missing values without `when missing`, unmatched values, scores no grade rule matches."""
    problems = []
    model = run.plan.model
    kpis_fine = " AND ".join(f"{kpi.prefix}_status NOT IN ('missing', 'unmatched')" for kpi in model.kpis) or "true"
    for condition, after_kpis, columns, message in _outcome_checks(run):
        condition = f"({condition}) AND {kpis_fine}" if after_kpis else condition
        for row, agent, *values in connection.execute(
            f"SELECT _row, _agent{''.join(', ' + column for column in columns)} FROM {run.table} "
            f"WHERE {condition} ORDER BY _row"
        ).fetchall():
            problems.append(DataProblem(data_display, message(agent, *values), row))
    return problems


def _outcome_checks(run: PolicyRun) -> list[tuple[str, bool, list[str], Callable[..., str]]]:
    """Each kind of outcome problem: (the SQL condition of a row that has it, whether it is said
    only of an agent whose KPIs were all scored, the columns its message reads, the message from
    the agent and those columns)."""
    model = run.plan.model
    name = run.policy.name.value
    checks: list[tuple[str, bool, list[str], Callable[..., str]]] = []
    for kpi in model.kpis:
        prefix = kpi.prefix

        def unscored(agent, status, value, kpi=kpi) -> str:
            if status == "missing":
                reads = ", ".join(kpi.reads) or "its value"
                return (f"agent {agent}: KPI \"{kpi.name}\" of policy \"{name}\" has no value ({reads} is missing, "
                        f"or its sample is too small); give the KPI `when missing exclude`, a level or points")
            return f"agent {agent}: KPI \"{kpi.name}\" of policy \"{name}\": the value {_value_text(kpi, value)} matches no rule"

        checks.append((f"{prefix}_status IN ('missing', 'unmatched')", False, [f"{prefix}_status", f"{prefix}_value"],
                       unscored))
    # Grade and bonus problems are only worth saying for agents whose KPIs were all scored.
    all_excluded = " AND ".join(f"{kpi.prefix}_status = 'excluded'" for kpi in model.kpis) or "false"
    checks.append((all_excluded, False, [], lambda agent: f"agent {agent}: every KPI of policy \"{name}\" is excluded, so there is no score"))
    # An adjustment is missing only when an amount exceeds DECIMAL(18, 6) (a missing count adds nothing).
    for adjust in model.adjusts:
        checks.append((f"a{adjust.index}_total IS NULL", True, [],
                       lambda agent, adjust=adjust: f"agent {agent}: adjustment \"{adjust.node.name.value}\" of policy "
                                                    f"\"{name}\" has no value: an amount exceeds 999,999,999,999"))
    if model.grade_rules:
        checks.append(("grade_rule = 0 AND veto_rule IS NULL AND score IS NOT NULL", True, ["score"],
                       lambda agent, score: f"agent {agent}: no grade rule of policy \"{name}\" matches the score "
                                            f"{plain(score) if score is not None else '?'}"))
    for index, bonus in enumerate(model.bonuses):

        def unpaid(agent, ordinal, bonus=bonus) -> str:
            if ordinal == 0:
                return f"agent {agent}: no rule of bonus \"{bonus.name}\" matches"
            return (f"agent {agent}: bonus \"{bonus.name}\" (line {bonus.rule(ordinal).line}) has no amount: "
                    f"a value it reads is missing, it divides by zero, or it exceeds 999,999,999,999")

        checks.append((f"(b{index}_rule = 0 OR b{index}_amount IS NULL) AND score IS NOT NULL", True,
                       [f"b{index}_rule"], unpaid))
    return checks


def _value_text(kpi: KpiModel, value) -> str:
    """A KPI's measured value written in its metric's unit (85%, 10min, 3)."""
    if value is None:
        return "?"
    metric = kpi.metric
    return metric_value_text(value, metric.type.text, metric.unit) if metric else plain(value)
