"""The engine's exact arithmetic (``pr_times``, ``pr_div`` in perfrules.engine.sql) against
Python's Decimal, and the plan's one-column-per-operand rule that keeps nested formulas linear.

Both macros take fast 64-bit routes for common operands (small values, whole numbers) and
a 38-digit route for the rest; the strategies below reach every route and its edges
(10^6, 10^12, exact halves, zero, negatives, operands of other SQL types), and each result
must equal the Decimal result rounded half away from zero at the sixth decimal, or be
missing (NULL) when that result does not fit DECIMAL(18, 6) or the divisor is zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfrules.engine.sql import install_macros

LARGEST = Decimal("999999999999.999999")
MILLIONTH = Decimal("0.000001")


@pytest.fixture(scope="module")
def connection():
    connection = duckdb.connect()
    install_macros(connection)
    yield connection
    connection.close()


def rounded(value: Decimal) -> Decimal | None:
    result = value.quantize(MILLIONTH, rounding=ROUND_HALF_UP)  # ROUND_HALF_UP is half away from zero
    return None if abs(result) > LARGEST else result


def expected_product(left: Decimal, right: Decimal) -> Decimal | None:
    with localcontext() as context:
        context.prec = 80
        return rounded(left * right)


def expected_quotient(left: Decimal, right: Decimal) -> Decimal | None:
    if right == 0:
        return None
    with localcontext() as context:
        context.prec = 80
        return rounded(left / right)


EDGES = [Decimal(text) for text in (
    "0", "0.000001", "0.000003", "0.5", "1", "2", "3", "7", "999999.999999", "1000000", "1000000.000001",
    "999000", "4611686", "999999999999", "999999999999.999999", "123456789.123456",
)]


@st.composite
def operands(draw) -> Decimal:
    """A DECIMAL(18, 6) value: an edge, a whole number, or any value of some magnitude."""
    kind = draw(st.sampled_from(["edge", "whole", "any"]))
    if kind == "edge":
        value = draw(st.sampled_from(EDGES))
    elif kind == "whole":
        value = Decimal(draw(st.integers(min_value=0, max_value=999_999_999_999)))
    else:
        digits = draw(st.integers(min_value=0, max_value=12))
        units = draw(st.integers(min_value=0, max_value=10 ** (digits + 6) - 1))
        value = Decimal(units).scaleb(-6)
    return -value if draw(st.booleans()) else value


def evaluate_pairs(connection, pairs, left_type: str, right_type: str) -> list[tuple]:
    connection.execute("CREATE OR REPLACE TEMP TABLE pairs (i INTEGER, a DECIMAL(18, 6), b DECIMAL(18, 6))")
    connection.executemany("INSERT INTO pairs VALUES (?, ?, ?)", [(i, str(a), str(b)) for i, (a, b) in enumerate(pairs)])
    left, right = f"CAST(a AS {left_type})", f"CAST(b AS {right_type})"
    return connection.execute(f"SELECT pr_times({left}, {right}), pr_div({left}, {right}) FROM pairs ORDER BY i").fetchall()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(operands(), operands()), min_size=1, max_size=60))
def test_times_and_divide_are_exact_on_every_route(connection, pairs):
    for (product, quotient), (left, right) in zip(evaluate_pairs(connection, pairs, "DECIMAL(18, 6)", "DECIMAL(18, 6)"), pairs):
        assert product == expected_product(left, right), f"{left} × {right}"
        assert quotient == expected_quotient(left, right), f"{left} ÷ {right}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(operands(), operands()), min_size=1, max_size=40),
       st.sampled_from(["DECIMAL(20, 6)", "DECIMAL(38, 6)"]))
def test_wider_operand_types_give_the_same_results(connection, pairs, wide):
    """Sums in the plan are DECIMAL(19, 6) and wider (stored as HUGEINT)."""
    for (product, quotient), (left, right) in zip(evaluate_pairs(connection, pairs, wide, wide), pairs):
        assert product == expected_product(left, right), f"{left} × {right}"
        assert quotient == expected_quotient(left, right), f"{left} ÷ {right}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(operands(), st.integers(min_value=-10**12 + 1, max_value=10**12 - 1)), min_size=1, max_size=40))
def test_whole_number_operands_of_integer_type(connection, pairs):
    """Rank positions and group sizes are BIGINTs: ``(position - 1)``, ``ceil(30% × size)``."""
    pairs = [(left, Decimal(right)) for left, right in pairs]
    for (product, quotient), (left, right) in zip(evaluate_pairs(connection, pairs, "DECIMAL(18, 6)", "BIGINT"), pairs):
        assert product == expected_product(left, right), f"{left} × {right}"
        assert quotient == expected_quotient(left, right), f"{left} ÷ {right}"


@pytest.mark.parametrize("left, right, product, quotient", [
    ("0.000001", "0.5", "0.000001", "0.000002"),        # halves round away from zero
    ("-0.000001", "0.5", "-0.000001", "-0.000002"),
    ("0.000003", "2", "0.000006", "0.000002"),          # 0.0000015 → 0.000002
    ("-0.000003", "-2", "0.000006", "0.000002"),
    ("-0.000003", "2", "-0.000006", "-0.000002"),
    ("1", "3", "3", "0.333333"),
    ("2", "3", "6", "0.666667"),
    ("999999999999", "0.5", "499999999999.5", "None"),   # the quotient does not fit
    ("1000000", "1000000", "None", "1"),                 # the product does not fit
    ("5", "0", "0", "None"),                             # a division by zero is missing
    ("0.123456", "1", "0.123456", "0.123456"),           # a division by 1 (all weights counted)
    ("-999999999999.999999", "1", "-999999999999.999999", "-999999999999.999999"),
])
def test_worked_examples(connection, left, right, product, quotient):
    row = connection.execute(
        "SELECT pr_times(CAST(? AS DECIMAL(18, 6)), CAST(? AS DECIMAL(18, 6))), "
        "pr_div(CAST(? AS DECIMAL(18, 6)), CAST(? AS DECIMAL(18, 6)))", [left, right, left, right]).fetchone()
    assert [str(value.normalize()) if value is not None else "None" for value in row] == [product, quotient]


def test_a_division_by_1_rounds_a_wider_operand_like_any_division(connection):
    """A sum of more than six decimals is rounded half away from zero, as pr_div rounds."""
    row = connection.execute("SELECT pr_div(CAST('1.2345675' AS DECIMAL(20, 7)), 1), "
                             "pr_div(CAST('-1.2345665' AS DECIMAL(20, 7)), CAST(1 AS DECIMAL(18, 6)))").fetchone()
    assert row == (Decimal("1.234568"), Decimal("-1.234567"))


@pytest.mark.parametrize("left, right, product, quotient", [
    ("1999999999998", "0.1", "199999999999.8", "19999999999980"),  # the quotient does not fit: missing
    ("1999999999998", "10", "None", "199999999999.8"),
    ("1100000000000", "0", "0", "None"),
    ("10000000000000000000000000", "10000000000000000000000000", "None", "1"),  # beyond 38 digits: missing
    ("1999999999998", "1", "None", "None"),  # a division by 1 that does not fit: missing
])
def test_operands_beyond_decimal_18_6(connection, left, right, product, quotient):
    """A sum in the plan can pass 999,999,999,999.999999; only a result that does not fit is missing."""
    row = connection.execute(
        "SELECT pr_times(CAST(? AS DECIMAL(38, 6)), CAST(? AS DECIMAL(38, 6))), "
        "pr_div(CAST(? AS DECIMAL(38, 6)), CAST(? AS DECIMAL(38, 6)))", [left, right, left, right]).fetchone()
    expected = [product, quotient if quotient == "None" or Decimal(quotient) <= LARGEST else "None"]
    assert [str(value.normalize()) if value is not None else "None" for value in row] == expected


def test_nested_formulas_compile_to_sql_of_linear_size():
    """Each operand is a column of its own, so 24 nested divisions and products stay small.

    Before operands became columns, every `/` repeated its operands in SQL three times, and
    24 levels would have been 3^24 copies.
    """
    from perfrules.check import analyse_policy
    from perfrules.engine.plan import compile_plan
    from perfrules.parser import parse_policy
    from perfrules.source import SourceFile

    lets = ["    let x0 = tickets"] + [
        f"    let x{level} = x{level - 1} {'/' if level % 2 else '*'} {'1.5' if level % 2 else '1.2'}"
        for level in range(1, 25)
    ]
    text = "\n".join([
        'policy "nested" {', '    version "1"', "    roles agent",
        '    metric tickets: count "工单数" higher is better', *lets,
        '    kpi "k" weight 100% {', "        points min(100, x24)", "    }", "}", "",
    ])
    parsed = parse_policy(SourceFile("nested.perf", text))
    assert parsed.diagnostics == []
    model, problems = analyse_policy(parsed.policy, "nested.perf", text)
    assert problems == []
    sql = compile_plan(model).sql("typed", "2026-11")
    assert len(sql) < 20_000, len(sql)
    connection = duckdb.connect()
    install_macros(connection)
    connection.execute("CREATE TEMP TABLE typed AS SELECT 1 AS _row, 'A' AS _agent, '2026-11' AS _period, "
                       "'agent' AS _role, NULL AS _name, NULL AS _team, NULL AS _supervisor, "
                       "CAST(100 AS DECIMAL(18, 6)) AS m0")
    (points,) = connection.execute(f"SELECT k0_points FROM ({sql})").fetchone()
    expected = Decimal(100)
    for level in range(1, 25):
        expected = expected / Decimal("1.5") if level % 2 else expected * Decimal("1.2")
        expected = expected.quantize(MILLIONTH, rounding=ROUND_HALF_UP)
    assert points == min(Decimal(100), expected)


@pytest.mark.parametrize("text", ["0.005", "-0.005", "0.004999", "12.345", "-12.345", "999999999999.994999",
                                  "999999999999.995", "-999999999999.995", "1000000000000.005", "-1234567890123.455",
                                  "99999999999999.994999", "-99999999999999.995"])
def test_two_decimals_rounds_like_round(connection, text):
    """The CSV's two-decimal numbers (perfrules.outputs.two_decimals) of a DECIMAL(20, 6), below
    10^12 and above: the same value and the 64-bit type, halves away from zero."""
    from perfrules.outputs import two_decimals

    sql = two_decimals("x", {"x": 14})
    value, kind, expected = connection.execute(
        f"SELECT {sql}, typeof({sql}), round(x, 2) FROM (SELECT CAST(? AS DECIMAL(20, 6)) AS x)", [text]).fetchone()
    assert (value, kind) == (expected, "DECIMAL(18,2)")
    assert value == Decimal(text).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
