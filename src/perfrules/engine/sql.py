"""The small SQL vocabulary the engine builds its DuckDB queries from.

User text (column headers, labels, grade names) only ever reaches SQL through
:func:`identifier` and :func:`text_literal`, which quote it; numbers only through
:func:`decimal_literal`.  Every number in a query is ``DECIMAL(18, 6)``: exact
for addition, subtraction and comparison, stored as a 64-bit integer (fast), and
wide enough for a trillion with six decimals.  DuckDB's decimal multiplication
widens the scale and its decimal division gives a binary DOUBLE, so the engine
multiplies with :func:`times` (back to six decimals, rounded half away from zero)
and divides with the ``pr_div`` macro below: integer arithmetic on scaled integers
(64-bit where they fit, else HUGEINT), rounded half away from zero at the sixth
decimal, and ``NULL`` (missing) for a division by zero.  A result that is
mathematically exact to six decimals is exact.  :class:`StageValues` keeps the
macros' operands simple columns, so that each is computed once.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Callable, TypeVar

SCALE = 6
DECIMAL_TYPE = f"DECIMAL(18, {SCALE})"
_ONE = 10 ** SCALE
COLUMN_DEPTH = 8  # an expression this many levels deep becomes a column (DepthCut)
T = TypeVar("T")

MICRO = f"CAST('{Decimal(1).scaleb(-SCALE)}' AS DECIMAL({SCALE + 1}, {SCALE}))"  # one millionth

MACROS = (
    # A DECIMAL(18, 6) as a BIGINT of millionths, and back.
    f"CREATE OR REPLACE TEMP MACRO pr_micro(x) AS CAST(trunc(x) AS BIGINT) * {_ONE} + CAST((x % 1) * {_ONE} AS BIGINT)",
    f"CREATE OR REPLACE TEMP MACRO pr_from_micro(q) AS CAST(CAST(q AS DECIMAL(18, 0)) * {MICRO} AS {DECIMAL_TYPE})",
    # q = n / d on integers, rounded half away from zero; the second for d > 0 with one
    # division (`//` truncates toward zero).
    "CREATE OR REPLACE TEMP MACRO pr_round_div(n, d) AS "
    "(n // d) + CASE WHEN 2 * abs(n % d) >= abs(d) THEN sign(n) * sign(d) ELSE 0 END",
    "CREATE OR REPLACE TEMP MACRO pr_round_div_positive(n, d) AS (2 * n + sign(n) * d) // (2 * d)",
    # a / b, rounded half away from zero at the sixth decimal; NULLIF makes a division by
    # zero NULL without evaluating it.  Two common cases are done on 64-bit integers, ten
    # times faster than on HUGEINTs: |a| and |b| below 10^6 (a·10^12 and b·10^6 are then
    # exact BIGINTs and 2·a·10^12 + b·10^6 cannot overflow), and a whole b (a·10^6 ÷ b).
    # Other operands are widened to 38 digits; a result beyond DECIMAL(18, 6) becomes NULL
    # (missing, reported as such) rather than an overflow error.  A division by 1 (a base
    # score whose weights are all counted) is a's rounding, which the cast does the same way.
    f"CREATE OR REPLACE TEMP MACRO pr_div(a, b) AS CASE WHEN b = 1 THEN TRY_CAST(a AS {DECIMAL_TYPE}) "
    f"WHEN abs(a) < {_ONE} AND abs(b) < {_ONE} THEN pr_from_micro(pr_round_div_positive("
    f"pr_micro(CAST(a AS {DECIMAL_TYPE})) * {_ONE} * sign(b), abs(pr_micro(CAST(NULLIF(b, 0) AS {DECIMAL_TYPE}))))) "
    f"WHEN abs(a) < {_ONE ** 2} AND abs(b) < {_ONE ** 2} AND b = trunc(b) THEN pr_from_micro(pr_round_div_positive("
    f"pr_micro(CAST(a AS {DECIMAL_TYPE})) * sign(b), abs(CAST(NULLIF(b, 0) AS BIGINT)))) "
    f"ELSE TRY_CAST(TRY(CAST(pr_round_div(CAST(CAST(a AS DECIMAL(38, {SCALE})) * {_ONE} AS HUGEINT) * {_ONE}, "
    f"CAST(CAST(NULLIF(b, 0) AS DECIMAL(38, {SCALE})) * {_ONE} AS HUGEINT)) AS DECIMAL(38, 0)) "
    f"* CAST('{Decimal(1).scaleb(-SCALE)}' AS DECIMAL(38, {SCALE}))) AS {DECIMAL_TYPE}) END",
    # a × b, rounded half away from zero at the sixth decimal.  DuckDB multiplies two
    # DECIMAL(18, 6) as a DECIMAL(18, 12) on 64-bit integers (an error beyond 10^6), so products
    # the DOUBLEs show to be well below 10^6 go that way; a product with a whole operand needs
    # no rounding.  Both are twenty times faster than rounding a 38-digit product, the way
    # left for the others (and for operands beyond DECIMAL(18, 6), such as large sums).
    # A result beyond DECIMAL(18, 6) is NULL.
    f"CREATE OR REPLACE TEMP MACRO pr_times_wide(a, b) AS "
    f"TRY_CAST(TRY(round(CAST(a AS DECIMAL(38, {SCALE})) * CAST(b AS DECIMAL(38, {SCALE})), {SCALE})) AS {DECIMAL_TYPE})",
    f"CREATE OR REPLACE TEMP MACRO pr_times(a, b) AS CASE WHEN abs(a) < {_ONE ** 2} AND abs(b) < {_ONE ** 2} THEN CASE "
    f"WHEN abs(CAST(a AS DOUBLE) * CAST(b AS DOUBLE)) < 999000 "
    f"THEN CAST(round(CAST(a AS {DECIMAL_TYPE}) * CAST(b AS {DECIMAL_TYPE}), {SCALE}) AS {DECIMAL_TYPE}) "
    f"WHEN b = trunc(b) THEN TRY_CAST(CAST(a AS {DECIMAL_TYPE}) * CAST(b AS BIGINT) AS {DECIMAL_TYPE}) "
    f"WHEN a = trunc(a) THEN TRY_CAST(CAST(a AS BIGINT) * CAST(b AS {DECIMAL_TYPE}) AS {DECIMAL_TYPE}) "
    f"ELSE pr_times_wide(a, b) END ELSE pr_times_wide(a, b) END",
)


def identifier(name: str) -> str:
    """A quoted SQL identifier for any text, Chinese and quotes included."""
    if "\x00" in name:
        raise ValueError("identifiers cannot hold NUL")
    return '"' + name.replace('"', '""') + '"'


def text_literal(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


def enum_type(members) -> str:
    """A DuckDB ENUM of the texts ``members`` (at least one): a column of a few known texts
    is then one small number a row (stored, sorted and compared as such) and reads as text."""
    return f"ENUM({', '.join(text_literal(text) for text in members)})"


# An ENUM type is written out whole wherever it is named, so a constant of a long list is
# plain text (a policy of 256 levels wrote 4.6 MB of SQL, 1.1 GB to plan, with ENUM constants).
ENUM_CONSTANTS_MOST = 32


def known_texts_type(members) -> str:
    """The type of :func:`known_text`'s constants: the ENUM of ``members``, or VARCHAR for many."""
    members = list(members)
    return enum_type(members) if len(members) <= ENUM_CONSTANTS_MOST else "VARCHAR"


def known_text(value: str, members) -> str:
    """``value``, one of ``members``, as a constant of :func:`known_texts_type`."""
    kind = known_texts_type(members)
    return text_literal(value) if kind == "VARCHAR" else f"CAST({text_literal(value)} AS {kind})"


def decimal_literal(value: Decimal | int) -> str:
    text = format(Decimal(value), "f")
    return f"CAST('{text}' AS {DECIMAL_TYPE})"


def sum_of(terms: list[str]) -> str:
    """``a + b + c + …`` as a balanced tree of additions, ``((a + b) + (c + d))``.

    DuckDB refuses SQL nested more than 1,000 deep and ``+`` written out is nested once per
    term: a policy of 1,000 KPIs, or 3,000 adjustment lines, would not run.  Balanced, the
    nesting is the logarithm (12 levels for 3,000 terms).  Nothing changes in the numbers:
    each addition of decimals is exact and one digit wider than its operands, so no order
    can overflow, and a missing term makes the sum missing in any order.
    """
    if len(terms) == 1:
        return terms[0]
    middle = (len(terms) + 1) // 2
    return f"({sum_of(terms[:middle])} + {sum_of(terms[middle:])})"


def times(left: str, right: str) -> str:
    return f"pr_times({left}, {right})"


def divide(left: str, right: str) -> str:
    return f"pr_div({left}, {right})"


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|CAST\('-?[0-9.]+' AS DECIMAL\(18, 6\)\)")
_VALUE_NAME = re.compile(r"\b__v[0-9]+\b")


class StageValues:
    """Values a stage computes once per row, as columns, before the expressions using them.

    DuckDB evaluates an expression once per mention, and it does not share repeated
    sub-expressions inside ``CASE``; the ``pr_times``/``pr_div`` macros and the
    missing-aware ``min``/``max`` mention their operands several times, so a nested
    formula would be computed over and over (and its SQL would grow exponentially).
    :meth:`once` turns an operand into a column (``__v7``) of a layer computed before
    the stage; a value built from other values goes one layer later.  Equal SQL text
    is one column, so a ``let`` used three times in a stage is computed once.
    """

    def __init__(self, counter):
        self._counter = counter
        self._layers: list[dict[str, str]] = []
        self._layer_of: dict[str, int] = {}

    def once(self, sql: str) -> str:
        """A column name (or the SQL itself when it is a name or a number) holding ``sql``."""
        if _SIMPLE.fullmatch(sql):
            return sql
        for layer in self._layers:
            if sql in layer:
                return layer[sql]
        used = [self._layer_of[name] for name in _VALUE_NAME.findall(_QUOTED.sub("''", sql)) if name in self._layer_of]
        depth = 1 + max(used, default=-1)
        while len(self._layers) <= depth:
            self._layers.append({})
        name = f"__v{next(self._counter)}"
        self._layers[depth][sql] = name
        self._layer_of[name] = depth
        return name

    def source(self, relation: str) -> str:
        """``relation`` with the values added as columns, innermost layer first."""
        for layer in self._layers:
            columns = ", ".join(f"{sql} AS {name}" for sql, name in layer.items())
            relation = f"(SELECT *, {columns} FROM {relation})"
        return relation

    def star(self) -> str:
        """``*`` without the values: what the stage passes on."""
        return f"* EXCLUDE ({', '.join(self._layer_of)})" if self._layer_of else "*"


class DepthCut:
    """Cuts a deep expression into values computed once, every :data:`COLUMN_DEPTH` levels.

    DuckDB's common-subexpression pass takes time polynomial of a high degree in the depth of
    one SQL expression (a condition alternating 140 `and` and `or`: 30 s; 400, as `check`
    allows: hours), so a compiler builds each node of an expression through :meth:`build`,
    which counts the levels below it and turns the node into a column of the stage's
    :class:`StageValues` (a layer computed before it) when they reach COLUMN_DEPTH: no SQL
    expression is then more than a few levels deep, however deep the policy's.
    """

    def __init__(self):
        self._below = 0  # the depth of what was built so far under the node being built

    def build(self, make: Callable[[], T], values: StageValues, sql_of: Callable[[T], str],
              named: Callable[[str], T]) -> T:
        outer, self._below = self._below, 0
        built = make()
        depth = self._below + 1
        if depth >= COLUMN_DEPTH:
            built, depth = named(values.once(sql_of(built))), 0
        self._below = max(outer, depth)
        return built


def install_macros(connection) -> None:
    for statement in MACROS:
        connection.execute(statement)
