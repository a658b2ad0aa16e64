"""The small SQL vocabulary the engine builds its DuckDB queries from.

User text (column headers, labels, grade names) only ever reaches SQL through
:func:`identifier` and :func:`text_literal`, which quote it; numbers only through
:func:`decimal_literal`.  Every number in a query is ``DECIMAL(18, 6)``: exact
for addition, subtraction and comparison, stored as a 64-bit integer (fast), and
wide enough for a trillion with six decimals.  DuckDB's decimal multiplication
widens the scale and its decimal division gives a binary DOUBLE, so the engine
multiplies with :func:`times` (back to six decimals, rounded half away from zero)
and divides with the ``pr_div`` macro below: integer arithmetic on scaled HUGEINTs,
rounded half away from zero at the sixth decimal, and ``NULL`` (missing) for a
division by zero.  A result that is mathematically exact to six decimals is exact.
"""

from __future__ import annotations

from decimal import Decimal

SCALE = 6
DECIMAL_TYPE = f"DECIMAL(18, {SCALE})"
_ONE = 10 ** SCALE

MACROS = (
    # q = n / d on scaled integers, rounded half away from zero.
    "CREATE OR REPLACE TEMP MACRO pr_round_div(n, d) AS "
    "(n // d) + CASE WHEN 2 * abs(n % d) >= abs(d) THEN sign(n) * sign(d) ELSE 0 END",
    # NULLIF makes a division by zero NULL without evaluating it.
    # Operands are widened to 38 digits before scaling; a result beyond DECIMAL(18, 6)
    # becomes NULL (missing, reported as such) rather than an overflow error.
    f"CREATE OR REPLACE TEMP MACRO pr_div(a, b) AS "
    f"TRY_CAST(CAST(pr_round_div(CAST(CAST(a AS DECIMAL(38, {SCALE})) * {_ONE} AS HUGEINT) * {_ONE}, "
    f"CAST(CAST(NULLIF(b, 0) AS DECIMAL(38, {SCALE})) * {_ONE} AS HUGEINT)) AS DECIMAL(38, 0)) "
    f"* CAST('{Decimal(1).scaleb(-SCALE)}' AS DECIMAL(38, {SCALE})) AS {DECIMAL_TYPE})",
    f"CREATE OR REPLACE TEMP MACRO pr_times(a, b) AS "
    f"TRY_CAST(round(CAST(a AS DECIMAL(38, {SCALE})) * CAST(b AS DECIMAL(38, {SCALE})), {SCALE}) AS {DECIMAL_TYPE})",
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


def decimal_literal(value: Decimal | int) -> str:
    text = format(Decimal(value), "f")
    return f"CAST('{text}' AS {DECIMAL_TYPE})"


def times(left: str, right: str) -> str:
    return f"pr_times({left}, {right})"


def divide(left: str, right: str) -> str:
    return f"pr_div({left}, {right})"


def install_macros(connection) -> None:
    for statement in MACROS:
        connection.execute(statement)
