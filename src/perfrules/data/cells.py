"""Typing data cells in SQL: each metric type's accepted spellings and its error text.

For a raw text column this module builds two SQL expressions: the exact value
(``DECIMAL(18, 6)``: percent as a fraction, duration in seconds; text as is; bool)
and the reason the cell is bad (``NULL`` when it is fine or empty).  Cells accepted
(``shared/spec/cli.md``, Data): percent as ``0.92`` or ``92%`` between 0% and 100%;
duration as a plain number in the metric's unit, ``HH:MM:SS`` or with a unit
(``10min``, ``1.5h``, ``30s``, ``2d``, or 秒/分钟/小时/天); count as a whole number;
money and number with optional thousands separators (money may carry ¥, ￥, $, €
or £ in front, or 元 behind); bool as true/false, yes/no, 1/0, 是/否.  Counts,
durations and money may not be negative.  An empty cell is missing.
"""

from __future__ import annotations

from decimal import Decimal

from perfrules.engine.sql import DECIMAL_TYPE, decimal_literal, text_literal, times
from perfrules.values import SECONDS_PER_UNIT

NUMBER = r"[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+|[0-9]*\.[0-9]+)(\.[0-9]+)?([eE][+-]?[0-9]+)?"
PERCENT = NUMBER + r"\s*%"  # 92.5% or 92.5 %
WHOLE = r"[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.0+)?"
CLOCK = r"([0-9]+):([0-5][0-9]):([0-5][0-9](\.[0-9]+)?)"
# The language's units, and the spellings a cell may also use for them.
UNIT_ALIASES = {"sec": "s", "秒": "s", "分": "min", "分钟": "min", "小时": "h", "时": "h", "天": "d"}
UNIT_SECONDS = {
    **{unit: int(seconds) for unit, seconds in SECONDS_PER_UNIT.items()},
    **{alias: int(SECONDS_PER_UNIT[unit]) for alias, unit in UNIT_ALIASES.items()},
}
DURATION_WITH_UNIT = r"(" + NUMBER + r")\s*(" + "|".join(sorted(UNIT_SECONDS, key=len, reverse=True)) + r")"
MONEY = r"[¥￥$€£]?\s*(" + NUMBER + r")\s*元?"
NEGATIVE_DURATION = r"-\s*(" + CLOCK + "|" + DURATION_WITH_UNIT + ")"
# 4,200 or 1,234.50: how a spreadsheet writes most amounts that a plain cast cannot read
# (the same value as NUMBER's reading of them, without its regular expressions).
GROUPED = r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?"
GROUPED_WHOLE = r"[0-9]{1,3}(,[0-9]{3})+(\.0+)?"
TRUE_WORDS = ("true", "yes", "y", "t", "1", "是", "对")
FALSE_WORDS = ("false", "no", "n", "f", "0", "否", "错")

ERRORS = {
    "percent": "is not a percent",
    "duration": "is not a duration",
    "count": "is not a whole number",
    "number": "is not a number",
    "money": "is not an amount of money",
    "bool": "is not true or false",
}


def _matches(text: str, pattern: str) -> str:
    return f"regexp_full_match({text}, {text_literal(pattern)})"


def _to_decimal(text: str) -> str:
    return f"TRY_CAST(replace({text}, ',', '') AS {DECIMAL_TYPE})"


def number_cast(text: str, to: str = DECIMAL_TYPE) -> str:
    """DuckDB's cast of a cell's text to a number, which has not been matched against a
    pattern: not of a text with an underscore, which the cast skips (`1_0` is 10, `1e1_0` is
    1e10: a typo read as another number); such a cell matches no pattern either, and is bad."""
    return f"TRY_CAST(CASE WHEN NOT contains(CAST({text} AS VARCHAR), '_') THEN {text} END AS {to})"


def cleaned(raw: str) -> str:
    """The cell without surrounding spaces; NULL when nothing is left."""
    return f"NULLIF(trim(CAST({raw} AS VARCHAR)), '')"


def typed_value(metric_type: str, unit: str | None, raw: str) -> str:
    """SQL for the exact value of the cell (NULL when empty or bad)."""
    text = cleaned(raw)
    if metric_type == "text":
        return text
    if metric_type == "bool":
        words = lambda options: ", ".join(text_literal(word) for word in options)  # noqa: E731
        return (f"CASE WHEN lower({text}) IN ({words(TRUE_WORDS)}) THEN true "
                f"WHEN lower({text}) IN ({words(FALSE_WORDS)}) THEN false END")
    # The common cells are read by a plain cast of the raw text (which allows surrounding
    # spaces); only what that cannot read goes through trimming and regular expressions.
    plain_number = number_cast(raw)

    def grouped(pattern: str, slow: str) -> str:
        """A cell with a comma (which DuckDB's cast never reads, and a failed TRY_CAST costs
        0.36 s a million cells) skips the plain cast; GROUPED's cells skip the regexes.
        ``slow`` is written once (see _duration_value)."""
        text_of = f"CAST({raw} AS VARCHAR)"
        return (f"coalesce(CASE WHEN NOT contains({text_of}, ',') THEN {plain_number} "
                f"WHEN {_matches(text_of, pattern)} THEN {_to_decimal(raw)} END, {slow})")
    if metric_type == "percent":
        number = _to_decimal(f"rtrim({text}, '%')")
        # 92.5% is read as the decimal 92.5e-2: exact, and cheaper than a multiplication.
        fast_percent = number_cast(f"left({raw}, length({raw}) - 1) || 'e-2'")
        hundredth = decimal_literal(Decimal("0.01"))
        spelled_percent = f"CASE WHEN {_matches(text, PERCENT)} THEN {times(number, hundredth)} END"
        return (
            f"CASE WHEN right({raw}, 1) = '%' THEN coalesce({fast_percent}, {spelled_percent}) "
            f"ELSE coalesce({plain_number}, {spelled_percent}, "
            f"CASE WHEN {_matches(text, NUMBER)} THEN {_to_decimal(text)} END) END"
        )
    if metric_type == "duration":
        return _duration_value(raw, text, unit)
    if metric_type == "money":
        return grouped(GROUPED, f"CASE WHEN {_matches(text, MONEY)} THEN {_to_decimal(_extract(text, MONEY, 1))} END")
    if metric_type == "count":
        return grouped(GROUPED_WHOLE, f"CASE WHEN {_matches(text, WHOLE)} THEN {_to_decimal(text)} END")
    return grouped(GROUPED, f"CASE WHEN {_matches(text, NUMBER)} THEN {_to_decimal(text)} END")


def number_value(metric_type: str, unit: str | None, number: str) -> str:
    """SQL for the exact value of a cell that DuckDB's reader typed as DECIMAL(18, 6) (``number``):
    what :func:`typed_value` makes of the same text, which its plain cast reads the same way."""
    if metric_type == "duration":
        return times(number, decimal_literal(UNIT_SECONDS.get(unit or "s", 1)))
    return number


NUMERIC_TYPES = ("percent", "duration", "count", "number", "money")


def _extract(text: str, pattern: str, group: int) -> str:
    return f"regexp_extract({text}, {text_literal('^' + pattern + '$')}, {group})"


def _duration_value(raw: str, text: str, unit: str | None) -> str:
    """Seconds: a number in the metric's unit, a clock or a number with its unit.  Each factor
    is whole, so a product is exact and needs no `times`; the TRY_CASTs make a duration beyond
    DECIMAL(18, 6) NULL (a bad cell) instead of an overflow error.  Every part is written once:
    DuckDB computes a part written twice for every row, whichever branch of a CASE needs it
    (a million `00:06:30` cells took 1.5 s; a clock's parts are now `split_part`s)."""
    def seconds_of(number: str, factor: str) -> str:  # widened first: DECIMAL(18, 6) × 3600 is an overflow error
        return f"TRY_CAST(CAST({number} AS DECIMAL(38, 6)) * {factor} AS {DECIMAL_TYPE})"

    factor = str(UNIT_SECONDS.get(unit or "s", 1))
    hours, minutes, seconds = (_to_decimal(f"split_part({text}, ':', {part})") for part in (1, 2, 3))
    clock = (f"TRY_CAST(CAST({hours} AS DECIMAL(38, 6)) * 3600 + CAST({minutes} AS DECIMAL(38, 6)) * 60 + {seconds} "
             f"AS {DECIMAL_TYPE})")
    names = list(UNIT_SECONDS)  # the unit's factor by its position: the unit is extracted once
    unit_factor = (f"[{', '.join(str(UNIT_SECONDS[name]) for name in names)}]"
                   f"[list_position([{', '.join(text_literal(name) for name in names)}], "
                   f"{_extract(text, DURATION_WITH_UNIT, 6)})]")
    with_unit = seconds_of(_to_decimal(_extract(text, DURATION_WITH_UNIT, 1)), unit_factor)
    spelled = (f"CASE WHEN {_matches(text, CLOCK)} THEN {clock} "
               f"WHEN {_matches(text, DURATION_WITH_UNIT)} THEN {with_unit} "
               f"WHEN {_matches(text, NUMBER)} THEN {seconds_of(_to_decimal(text), factor)} END")
    # A clock or a number with its unit is no number DuckDB's cast reads: it skips the cast,
    # whose failure costs as much as the reading (0.36 s a million cells).
    ends = ", ".join(text_literal(end) for end in sorted({name[-1] for name in names}))
    plain = seconds_of(number_cast(raw), factor)
    return (f"coalesce(CASE WHEN NOT (contains(CAST({raw} AS VARCHAR), ':') OR right({text}, 1) IN ({ends})) "
            f"THEN {plain} END, {spelled})")


def cell_may_be_bad(metric_type: str, value: str, raw: str) -> str:
    """SQL, cheap enough for every row: true for every bad cell (see :func:`cell_error`).

    It may also be true for a cell of spaces only (empty, so fine): it only decides
    whether the exact, slower check of :func:`cell_error` runs at all.
    """
    if metric_type == "text":
        return "false"
    unreadable = f"({value} IS NULL AND {raw} IS NOT NULL)"
    if metric_type == "percent":
        return f"({unreadable} OR {value} < 0 OR {value} > 1)"
    if metric_type == "count":
        return f"({unreadable} OR {value} < 0 OR {value} <> trunc({value}))"
    if metric_type in ("duration", "money"):
        return f"({unreadable} OR {value} < 0)"
    return unreadable


def cell_error(metric_type: str, value: str, raw: str) -> str:
    """SQL for why a non-empty cell is bad (NULL when it is fine or empty)."""
    text = cleaned(raw)
    if metric_type == "text":
        return "NULL"
    unreadable = text_literal(ERRORS[metric_type])
    number = number_cast(f"replace({text}, ',', '')", "DOUBLE")
    too_large = f"isfinite({number}) AND abs({number}) >= 1e12"
    checks = [f"WHEN {text} IS NULL THEN NULL",
              f"WHEN {value} IS NULL AND {too_large} THEN 'is too large (at most 999,999,999,999)'",
              f"WHEN {value} IS NULL AND regexp_matches({text}, '[0-9]_[0-9]') THEN {unreadable} || "
              f"{text_literal(' (remove the underscore: digits are grouped with commas, as in 1,000)')}"]
    if metric_type == "duration":  # -00:06:30 (a negative [h]:mm:ss cell of a workbook), -10min
        checks.append(f"WHEN {value} IS NULL AND {_matches(text, NEGATIVE_DURATION)} THEN 'is negative'")
    checks.append(f"WHEN {value} IS NULL THEN {unreadable}")
    if metric_type == "percent":
        checks.append(
            f"WHEN {value} > 1 AND {value} <= 100 AND NOT {_matches(text, PERCENT)} "
            f"THEN 'is not between 0% and 100% (did you mean ' || {text} || '%?)'"
        )
        checks.append(f"WHEN {value} < 0 OR {value} > 1 THEN 'is not between 0% and 100%'")
    elif metric_type == "count":
        checks.append(f"WHEN {value} <> trunc({value}) THEN {unreadable}")
        checks.append(f"WHEN {value} < 0 THEN 'is negative'")
    elif metric_type in ("duration", "money"):
        checks.append(f"WHEN {value} < 0 THEN 'is negative'")
    return "CASE " + " ".join(checks) + " END"
