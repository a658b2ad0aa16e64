"""Diagnostics: source spans, the catalogue of stable codes, and their rendering.

Every problem perfrules reports about a policy is a :class:`Diagnostic` carrying a
stable code (``PR201``), a severity fixed by that code, a message, an optional hint
and the :class:`~perfrules.ast.Span` it is about.  The passes only create
diagnostics; this module alone decides how they look, as text with the source line
and a caret under the exact span (``render_text``) or as JSON (``to_json``).
``docs/diagnostics.md`` documents every code in :data:`CODES`; a test keeps the two
in step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable

from perfrules.ast import Span
from perfrules.values import one_line



class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Code:
    """One stable diagnostic code: its identifier, severity and a short title."""

    code: str
    severity: Severity
    title: str


def _catalogue(*codes: Code) -> dict[str, Code]:
    return {entry.code: entry for entry in codes}


E, W = Severity.ERROR, Severity.WARNING

CODES: dict[str, Code] = _catalogue(
    # PR0xx: reading and parsing
    Code("PR001", E, "unexpected token"),
    Code("PR002", E, "unexpected character"),
    Code("PR003", E, "unclosed bracket"),
    Code("PR004", E, "string without its closing quote"),
    Code("PR005", E, "missing `=>` in a rule"),
    Code("PR006", E, "space inside a percentage"),
    Code("PR007", E, "percentage expected"),
    Code("PR008", E, "unknown unit after a number"),
    Code("PR009", E, "full-width punctuation"),
    Code("PR010", E, "file cannot be read"),
    Code("PR011", E, "keyword used as a name"),
    Code("PR012", E, "unknown statement or keyword"),
    Code("PR013", E, "`=` used to compare"),
    Code("PR014", E, "invalid literal"),
    Code("PR015", E, "unmatched closing bracket"),
    # PR1xx: structure of a policy
    Code("PR101", E, "required statement missing"),
    Code("PR102", E, "statement given twice"),
    Code("PR104", E, "rule after `else`"),
    Code("PR105", E, "misplaced `measure`"),
    Code("PR106", E, "invalid setting"),
    Code("PR107", E, "unknown metric type"),
    Code("PR108", E, "invalid unit"),
    Code("PR109", E, "KPI block with no rules or mixed forms"),
    Code("PR110", E, "points outside 0..100"),
    Code("PR111", E, "range with its bounds reversed"),
    Code("PR112", E, "weight outside 0%..100%"),
    Code("PR113", E, "empty block"),
    Code("PR114", E, "KPI reads several values without `measure`"),
    Code("PR115", E, "metric option given twice or contradicting"),
    Code("PR116", E, "expression nested too deeply"),
    # PR2xx: types and units
    Code("PR201", E, "percent compared with a plain number"),
    Code("PR202", E, "duration compared with a plain number"),
    Code("PR203", E, "comparison of incompatible kinds"),
    Code("PR204", E, "arithmetic on incompatible kinds"),
    Code("PR205", E, "condition expected"),
    Code("PR206", E, "value expected, condition found"),
    Code("PR207", E, "wrong function arguments"),
    Code("PR208", E, "amount of money expected"),
    Code("PR209", E, "value not available at this point"),
    Code("PR210", E, "text compared by order"),
    Code("PR211", E, "`sample` needs a count metric"),
    Code("PR212", E, "invalid `points linear`"),
    Code("PR213", E, "count or number expected"),
    # PR3xx: names
    Code("PR301", E, "unknown name"),
    Code("PR302", E, "duplicate name"),
    Code("PR303", E, "unknown level"),
    Code("PR304", E, "unknown KPI"),
    Code("PR305", E, "unknown grade"),
    Code("PR306", E, "`let` definitions form a cycle"),
    Code("PR307", E, "unknown function"),
    Code("PR308", E, "data column claimed twice"),
    Code("PR309", W, "level that the KPI never gives"),
    # PR4xx: KPI and grade rules, weights, bonus tiers
    Code("PR401", E, "KPI weights do not add up to 100%"),
    Code("PR402", W, "values that match no rule"),
    Code("PR403", W, "rule that can never match"),
    Code("PR404", W, "rule that rewards worse values"),
    Code("PR405", E, "`A%..B%` outside a single `top` condition"),
    Code("PR406", W, "score can fall below 0"),
    Code("PR407", W, "bonus can be negative"),
    # PR5xx: several policies together
    Code("PR501", E, "role claimed by two policies"),
    Code("PR502", E, "two policies with the same name"),
    # PR6xx: inheritance (`extends` and `remove`)
    Code("PR601", E, "`extends` forms a cycle"),
    Code("PR602", E, "inherited policy cannot be read"),
    Code("PR603", E, "`remove` of something not inherited"),
    Code("PR604", E, "`remove` in a policy that extends nothing"),
    # PR7xx: SMART targets and awards
    Code("PR701", E, "target for a role the policy does not evaluate"),
    Code("PR702", E, "deadline before the day the target was set"),
    Code("PR703", E, "goal of the wrong kind"),
    Code("PR704", W, "goal that asks for a worse value"),
    Code("PR705", W, "target on a value the review does not read"),
    Code("PR706", E, "award streak of an invalid length"),
    Code("PR707", E, "goal that does not compare with >=, >, <= or <"),
    # PR8xx: metric definitions (*.perfm, docs/metrics.md)
    Code("PR801", E, "unknown name in metric definitions"),
    Code("PR802", E, "metric definitions miss a setting"),
    Code("PR803", E, "given twice in metric definitions"),
    Code("PR804", E, "kinds do not fit in metric definitions"),
    Code("PR805", E, "invalid setting in metric definitions"),
    # PR9xx: policy test files (`NAME.test.perf`, `perfrules test`)
    Code("PR901", E, "policy under test cannot be used"),
    Code("PR902", E, "unknown metric in a test"),
    Code("PR903", E, "value of the wrong kind in a test"),
    Code("PR904", E, "value its metric does not allow"),
    Code("PR905", E, "unknown agent in an expectation"),
    Code("PR906", E, "unknown name in a test"),
    Code("PR907", E, "level named like a KPI state in a test"),
    Code("PR908", E, "given twice in a test file"),
    Code("PR909", E, "invalid period in a test file"),
    Code("PR910", W, "test without expectations"),
    Code("PR911", E, "comparison that does not fit the field"),
)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a policy file."""

    code: str
    message: str
    span: Span
    hint: str | None = None
    file: str = field(default="", compare=False)

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.file, self.span.start, self.span.end, self.code, self.message)


class DiagnosticSink:
    """Collects the diagnostics of one file; passes report into it."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def report(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        if code not in CODES:
            raise KeyError(f"unregistered diagnostic code {code}")
        # The file comes with the span: in a policy that extends another, the node may
        # be written in the parent (spans of parse errors have none: the parser adds it).
        self.items.append(Diagnostic(code, message, span, hint, span.file))


def sorted_unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by file and position and drop exact repeats (the same fact found twice)."""
    seen: set[tuple] = set()
    result = []
    for item in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (item.file, item.code, item.span, item.message)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _display_width(text: str) -> int:
    """Columns a terminal gives the text: CJK and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


SHOWN_LINE, SHOWN_BEFORE = 200, 40  # characters of a long source line shown, and before the span


def render_text(diagnostic: Diagnostic, source_text: str | None) -> str:
    """``file:line:col: severity CODE: message``, the source line, a caret line, a hint."""
    span = diagnostic.span
    header = one_line(
        f"{diagnostic.file}:{span.line}:{span.column}: "
        f"{diagnostic.severity.value} {diagnostic.code}: {diagnostic.message}"
    )
    lines = [header]
    if source_text is not None:
        source_lines = source_text.split("\n")  # lines as the parser counts them
        if 1 <= span.line <= len(source_lines) and source_lines[span.line - 1].strip():
            raw = source_lines[span.line - 1].rstrip("\r")
            stripped = raw.lstrip()
            indent = len(raw) - len(stripped)  # columns count a tab as one character
            start = max(span.column - 1 - indent, 0)
            if span.end_line == span.line:
                end = max(span.end_column - 1 - indent, start + 1)
            else:
                end = max(len(stripped.rstrip()), start + 1)
            end = min(end, max(len(stripped), start + 1))
            # Control characters (ESC, BEL, C1) show escaped, so a policy cannot drive the terminal.
            def shown(text: str) -> str:
                return one_line(text, keep="\t").expandtabs(4)

            # A very long line (a generated policy, a policy on one line) shows a window around the span.
            code = stripped.rstrip()
            first = 0 if len(code) <= SHOWN_LINE else max(0, min(start - SHOWN_BEFORE, len(code) - SHOWN_LINE))
            last = first + SHOWN_LINE
            before, after = ("…" if first else ""), ("…" if last < len(code) else "")
            lines.append("    " + before + shown(code[first:last]) + after)
            caret_offset = _display_width(before + shown(stripped[first:start]))
            caret_width = max(_display_width(shown(stripped[start:min(end, last)])), 1)
            lines.append("    " + " " * caret_offset + "^" * caret_width)
    if diagnostic.hint:
        lines.append(one_line(f"  hint: {diagnostic.hint}"))
    return "\n".join(lines)


def to_json(diagnostic: Diagnostic) -> dict:
    span = diagnostic.span
    return {
        "file": diagnostic.file,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
    }


def checked_summary(files: int, errors: int, warnings: int, test_files: int = 0) -> str:
    """``checked 2 policy files: 1 error, 0 warnings``: what ``check`` says last, and a command
    that stops at a policy's errors before ``: nothing was evaluated``."""
    def count(number: int, word: str) -> str:
        return f"{number} {word}{'' if number == 1 else 's'}"

    checked = f"checked {count(files, 'policy file')}"
    if test_files:
        checked += f" and {count(test_files, 'test file')}"
    if not errors and not warnings:
        return f"{checked}: no problems"
    return f"{checked}: {count(errors, 'error')}, {count(warnings, 'warning')}"


def did_you_mean(name: str, candidates, quote: str = "'") -> str | None:
    """``did you mean 'x'?`` for the closest candidate, or None when nothing is close.

    A candidate that differs only in case, width or spaces (``sharon``, ``ＳＨＡＲＯＮ``,
    ``SHA RON`` for ``SHARON``, a header ``CSAT`` for ``csat``) comes first; then the closest
    by difflib's ratio, unless two are equally close (no guess).
    """
    import difflib

    spelled: dict[str, str] = {}
    for candidate in candidates:
        spelled.setdefault(same_name(candidate), candidate)
    wanted = same_name(name)
    close = [wanted] if wanted in spelled else difflib.get_close_matches(wanted, list(spelled), n=2, cutoff=0.6)
    if len(close) == 2 and _ratio(wanted, close[0]) == _ratio(wanted, close[1]):
        return None  # 'a01' is as close to A001 as to A051: no guess
    return f"did you mean {quote}{spelled[close[0]]}{quote}?" if close and spelled[close[0]] != name else None


def same_name(text: str) -> str:
    """``text`` as people see it: NFKC (full-width ``ｃｓａｔ`` is ``csat``), any letter case, no spaces."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _ratio(first: str, second: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, first, second).ratio()
