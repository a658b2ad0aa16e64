"""The single pass: a plain CSV file evaluated by one policy and written as CSV by one query.

Most files evaluated have nothing wrong with them.  The stored route (:mod:`perfrules.engine.run`)
types the rows into a table, checks them in scans of their own, then runs the plan over the
table; here DuckDB types, checks and evaluates the rows as it reads the file, and the COPY
that writes the CSV sorts them: no table of rows, no scans for the checks (0.4 s of a
million agents: docs/performance.md).  What the stored route's checks would stop at stops
the query instead (``error()``): a row whose cells may be bad (``_bad_0``), without an id,
of a role the policy does not cover or of a period other than the file's first row's (the
period evaluated), and an agent's second row (the plan's ``agents_once``).  After the COPY
the rows written are counted against the file's lines: an empty line, a line DuckDB
dropped, a quoted line break or a file changed while it was read make them differ.  Either
way, what was written is thrown away and the file is evaluated again the stored way
(:meth:`Evaluation.redo_stored`), which says what is wrong or writes the same rows.

It is taken only where it says exactly what the stored route says: a CSV file read directly
(UTF-8, or GB18030 read from a UTF-8 copy; one header row), one policy (its rows are then every row), without targets or
awards (they read the other periods of the data), no roles tolerated (``diff``), no
``--period`` other than the first row's.  A percent column read as text (``92.5%``) warns
when it mixes ``92%`` with bare numbers (docs/evaluation.md 2.4), which a query that writes
cannot say: a non-zero cell spelled otherwise than the first row's stops it, and a first
row that does not tell (an empty or zero cell) leaves the file to the stored route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from perfrules.data.file_scan import FileScan
from perfrules.data.reading import RawTable
from perfrules.data.validate import (
    KEYS,
    REQUIRED,
    MetricTyping,
    role_filter,
    typed_rows,
    usual_period,
)
from perfrules.engine.plan import compile_plan
from perfrules.engine.run import Evaluation, PolicyRun
from perfrules.engine.sql import enum_type, text_literal
from perfrules.values import period_kind
from perfrules.workspace import LoadedPolicy

# What stops the single pass's query at a row the stored route's checks would look at.
ROW_STOP = "perfrules: a row the single pass leaves to the stored route"


@dataclass
class SinglePass:
    """What the rows written by the single pass must add up to, and the way to evaluate the
    file again when they do not (or when the query stopped)."""

    scan: FileScan
    header_row: int
    stored_way: Callable[[bool], Evaluation]  # True: every cell read as text (the reader refused one)
    typed_by_reader: bool = False  # number columns typed by DuckDB's reader (RawTable.decimals)

    def whole(self, written: int) -> str | None:
        """The data's sha256 when the ``written`` rows are every row of the file, read as
        perfrules reads them, else None."""
        try:
            counted, digest = self.scan.result()
        except OSError:
            return None
        if counted.too_long or self.scan.changed() or not counted.one_a_row(written, self.header_row) \
                or self.misread_by_reader():
            return None
        return digest

    def misread_by_reader(self) -> bool:
        """Whether the reader may have typed a number perfrules refuses: it reads `1_0` as 10.
        The file is then read again with every cell as text, where such a cell is refused."""
        try:
            counted, _ = self.scan.result()
        except OSError:
            return False
        return self.typed_by_reader and counted.digits_joined


def single_pass_run(connection, raw: RawTable, policies: list[LoadedPolicy], wanted: str | None,
                    tolerated_roles: frozenset[str]) -> PolicyRun | None:
    """The one run of a single pass over ``raw`` (a view of the plan over the file), or None
    where the single pass cannot say what the stored route says."""
    if raw.numbered or raw.scan is None or len(policies) != 1 or tolerated_roles:
        return None
    (loaded,) = policies
    model, policy = loaded.model, loaded.policy
    if model.targets or model.awards or not set(REQUIRED) <= set(raw.headers):
        return None
    typing = MetricTyping(raw, policy, 0, guarded=False)
    spellings = _spelled_as_first_row(raw, typing)
    if typing.absent or spellings is None:
        return None
    usual = usual_period(connection, raw)
    if usual is None or period_kind(usual[1]) != policy.period or wanted not in (None, usual[1]):
        return None
    period = usual[1]
    stop = (f"_bad_0 OR _agent IS NULL OR _role IS NULL OR NOT ({role_filter(policy)}) "
            f"OR _period IS DISTINCT FROM {text_literal(period)}{spellings}")
    # Past the stop every row's period is the one evaluated: a constant, carried by no stage;
    # and its role one of the policy's: an ENUM (as the CSV writes it), one byte a row.
    role = f"CAST(_role AS {enum_type(role.text for role in policy.roles)})"
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW typed_0 AS SELECT * REPLACE ({text_literal(period)} AS _period, {role} AS _role) FROM "
        f"(SELECT {KEYS}{typing.as_metrics()} FROM ({typed_rows(raw, [typing], usual)}) "
        f"WHERE CASE WHEN {stop} THEN CAST(error({text_literal(ROW_STOP)}) AS BOOLEAN) ELSE true END)")
    plan = compile_plan(model, agents_once=True)
    connection.execute(f"CREATE OR REPLACE TEMP VIEW result_0_plan AS {plan.sql('typed_0', period)}")
    return PolicyRun(loaded, plan, period, "result_0_plan", "typed_0", checked=False)


def _spelled_as_first_row(raw: RawTable, typing: MetricTyping) -> str | None:
    """The stop (``OR ...``, or nothing) at a non-zero cell of a percent column read as text
    that is not spelled like the first row's (``92%`` or a bare ``0.92``): a column that mixes
    them warns, the stored way.  None when the first row's cell is empty or zero."""
    stops = []
    for number, metric in enumerate(typing.metrics):
        if (name := typing.spelling_name(number)) is None:
            continue
        written = raw.first_row_cell(metric.column) or ""
        try:
            if written == "" or Decimal(written.removesuffix("%").strip()) == 0:
                return None
        except ArithmeticError:  # not a number at all: the stored route says so
            return None
        stops.append(f" OR ({typing.value_name(number)} <> 0 AND {'NOT ' if written.endswith('%') else ''}{name})")
    return "".join(stops)
