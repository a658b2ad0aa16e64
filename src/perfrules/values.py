"""Exact values and how they are written back for people.

Policies and data are exact decimals.  These helpers write a value the way an HR
author would have typed it: ``0.95`` of a percent as ``95%``, 600 seconds as
``10min``.  Diagnostics, explanations and reports all use them, so a number looks
the same everywhere.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# The duration units of the language, in seconds; every module reads durations through these.
SECONDS_PER_UNIT = {"s": Decimal(1), "min": Decimal(60), "h": Decimal(3600), "d": Decimal(86400)}
DURATION_STEPS = tuple((SECONDS_PER_UNIT[unit], unit) for unit in ("d", "h", "min"))


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``Decimal('90.0')`` is ``90``."""
    if value == value.to_integral_value():
        return format(value.to_integral_value(), "f")
    return format(value.normalize(), "f")


def percent_text(fraction: Decimal) -> str:
    return plain(fraction * 100) + "%"


def duration_text(seconds: Decimal) -> str:
    """The largest of d, h, min that divides the duration exactly, else seconds."""
    for size, unit in DURATION_STEPS:
        if abs(seconds) >= size and (seconds / size) == (seconds / size).to_integral_value():
            return plain(seconds / size) + unit
    return plain(seconds) + "s"


def metric_value_text(value: Decimal, metric_type: str | None, unit: str | None = None) -> str:
    """A data value of a metric as people read it: ``92%``, ``10min`` (in the metric's own
    unit when that is exact to two decimals, else seconds), ``8000.00``, ``3``."""
    if metric_type == "percent":
        return percent_text(value)
    if metric_type == "duration":
        in_unit = value / SECONDS_PER_UNIT[unit or "s"]
        return f"{plain(in_unit)}{unit or 's'}" if in_unit == round_half_up(in_unit, 2) else f"{plain(value)}s"
    if metric_type == "money":
        return f"{round_half_up(value):.2f}"
    return plain(value)


DURATION_WORDS = {"zh": {"d": "天", "h": "小时", "min": "分钟", "s": "秒"},
                  "en": {"d": "d", "h": "h", "min": "min", "s": "s"}}


def duration_words(seconds: Decimal, language: str) -> str:
    """A duration for a sentence: ``1.5 分钟`` / ``1.5 min``, in the largest unit at least 1."""
    words = DURATION_WORDS["en" if language == "en" else "zh"]
    for size, unit in DURATION_STEPS + ((Decimal(1), "s"),):
        if abs(seconds) >= size or unit == "s":
            return f"{plain(round_half_up(seconds / size, 1))} {words[unit]}"
    raise AssertionError("unreachable")


# C0, DEL, C1, line and paragraph separators, and the bidi embeddings, overrides and isolates
# that reorder what a terminal shows ("Trojan Source": a name that reads backwards).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match) -> str:
    character = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(character, f"\\x{ord(character):02x}" if ord(character) < 0x100 else f"\\u{ord(character):04x}")


def one_line(text: str, keep: str = "") -> str:
    """A message that stays on one line: line breaks and other control characters from
    cells, ids, headers or arguments are shown escaped (``\\n``, ``\\x1b``, ``\\u202e``), so that no
    terminal escape sequence (ESC, CSI, OSC 8, BEL, C1) or bidi override reaches a terminal.  The
    characters in ``keep`` (``"\\n"`` for a multi-line text) stay as they are."""
    return _CONTROL.sub(lambda match: match.group(0) if match.group(0) in keep else _escaped(match), text)


# The longest cell text a message quotes whole; a longer one is cut, with its length.
MOST_QUOTED = 100


def quoted_cell(text: str) -> str:
    """A cell's text as a message quotes it: whole, or its first MOST_QUOTED characters and its
    length (a cell of megabytes must not become a message of megabytes)."""
    return text if len(text) <= MOST_QUOTED else f"{shortened(text, MOST_QUOTED)} ({len(text):,} characters)"


# The most characters of an id, name, team or supervisor a review packet's page shows: a name
# of 20,000 characters laid out over forty pages took WeasyPrint minutes.
MOST_SHOWN = 60


def page_text(text: str | None) -> str | None:
    """A text of the data as a packet's page shows it: cut after MOST_SHOWN characters."""
    return shortened(text, MOST_SHOWN) if text is not None else None


def shortened(text: str, most: int) -> str:
    """``text``, or its first ``most`` characters and an ellipsis when it is longer."""
    return text if len(text) <= most else text[:most] + "…"


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def period_end(period: str) -> date:
    """The last day of ``2026-11``, ``2026-Q4`` or ``2026``."""
    year = int(period[:4])
    if "-Q" in period:
        month = int(period[-1]) * 3
    elif "-" in period:
        month = int(period[5:7])
    else:
        month = 12
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


# A period of each kind, as hints write it ("write it like 2026-Q4").
PERIOD_EXAMPLES = {"month": "2026-11", "quarter": "2026-Q4", "year": "2026"}


def period_kind(period: str) -> str:
    """``month``, ``quarter`` or ``year``: the kind of ``2026-11``, ``2026-Q4`` (or ``2026-q4``) or ``2026``."""
    if "-" not in period:
        return "year"
    return "quarter" if period.split("-", 1)[1][:1] in "qQ" else "month"


def previous_period(period: str) -> str:
    """The period of the same kind just before: ``2026-10`` for ``2026-11``, ``2025-Q4`` for
    ``2026-Q1``, ``2025`` for ``2026``."""
    year = int(period[:4])
    if "-Q" in period:
        quarter = int(period[-1])
        return f"{year - 1:04d}-Q4" if quarter == 1 else f"{year:04d}-Q{quarter - 1}"
    if "-" in period:
        month = int(period[5:7])
        return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"
    return f"{year - 1:04d}"
