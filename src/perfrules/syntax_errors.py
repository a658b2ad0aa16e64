"""Syntax errors: lark's exceptions turned into perfrules diagnostics.

Only :func:`perfrules.parser.parse_policy` calls :func:`describe_syntax_error`.  It
names expected tokens the way an author writes them ("expected `=>`", "a name"),
never lark's internal names, and recognises the common mistakes by their shape:
a missing ``=>``, an unclosed ``{``, ``95 %``, ``weight 30``, a string without its
closing quote, full-width punctuation typed with a Chinese input method, a
misspelled keyword, a keyword used as a name, ``=`` used to compare, and a number
with an unknown unit (``10mins``).
"""

from __future__ import annotations

import difflib
import re

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from perfrules.ast import Span
from perfrules.diagnostics import Diagnostic
from perfrules.parser import token_span
from perfrules.source import span_at_offset

FRIENDLY_TERMINALS = {
    "NAME": "a name",
    "STRING": 'a quoted text like "优秀"',
    "NUMBER": "a number",
    "PERCENT": "a percentage like 90%",
    "DURATION": "a duration like 10min",
    "DATE": "a date like 2026-12-31",
    "COMPARE": "a comparison like >=",
    "MUL_OP": "`*` or `/`",
    "$END": "the end of the file",
}

FULL_WIDTH = {
    "：": ":", "，": ",", "（": "(", "）": ")", "“": '"', "”": '"', "‘": "'", "’": "'",
    "％": "%", "＞": ">", "＜": "<", "＝": "=", "｛": "{", "｝": "}", "；": ";", "＋": "+",
    "－": "-", "＊": "*", "／": "/", "。": ".", "、": ",", "≥": ">=", "≤": "<=", "≠": "!=",
    "＃": "#", "！": "!", "【": "[", "】": "]", "　": " ",
}

STATEMENT_KEYWORDS = (
    "version", "roles", "period", "language", "metric", "let", "levels", "kpi", "adjust",
    "score", "veto", "grade", "bonus", "plan", "swot", "award", "target",
)

EXPRESSION_STARTS = {"NUMBER", "PERCENT", "DURATION", "STRING", "DATE", "NAME", "SCORE", "GRADE",
                     "RANK", "KPI", "TOP", "BOTTOM", "NOT", "_LPAR", "PLUS", "MINUS"}


def describe_syntax_error(error: UnexpectedInput, text: str, parser: Lark) -> Diagnostic:
    """The single diagnostic that best explains where and why the text stopped parsing."""
    names = _terminal_display_names(parser)
    tokens = _lex_prefix(parser, text)
    brace = _brace_problem(tokens, error)
    if brace is not None:
        return brace
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, text)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, tokens, names)
    if isinstance(error, UnexpectedEOF):
        span = span_at_offset(text, len(text))
        return Diagnostic("PR001", "the file ends in the middle of the policy", span)
    span = span_at_offset(text, getattr(error, "pos_in_stream", 0) or 0)
    return Diagnostic("PR001", "this policy does not parse here", span)


# ---- tokens and braces ----------------------------------------------------------


def _lex_prefix(parser: Lark, text: str) -> list[Token]:
    """The tokens of the text up to the first character the lexer cannot read."""
    tokens: list[Token] = []
    try:
        for token in parser.lex(text):
            tokens.append(token)
    except UnexpectedInput:
        pass
    return tokens


def _line_indent(token: Token, first_on_line: dict[int, Token]) -> int | None:
    first = first_on_line.get(token.line)
    return first.column if first is not None else None


def _brace_problem(tokens: list[Token], error: UnexpectedInput) -> Diagnostic | None:
    """An unmatched ``}`` or a ``{`` never closed, judged by indentation like a reader would.

    A ``{`` is taken as unclosed when a later line starts at or left of the indentation
    of the line that opened it with anything but ``}`` (or the file ends first), and
    the syntax error comes after that ``{``.
    """
    error_pos = _error_position(error)
    first_on_line: dict[int, Token] = {}
    for token in tokens:
        first_on_line.setdefault(token.line, token)
    stack: list[Token] = []
    for token in tokens:
        if first_on_line.get(token.line) is token and stack and token.type != "_RBRACE":
            opener = stack[-1]
            opener_indent = _line_indent(opener, first_on_line)
            if token.line > opener.line and opener_indent is not None and token.column <= opener_indent:
                if opener.start_pos < error_pos:
                    return _unclosed(opener)
        if token.type in ("_LBRACE", "_LPAR"):
            stack.append(token)
        elif token.type in ("_RBRACE", "_RPAR"):
            wanted = "_LBRACE" if token.type == "_RBRACE" else "_LPAR"
            if not stack or stack[-1].type != wanted:
                if token.start_pos <= error_pos:
                    return Diagnostic(
                        "PR015",
                        f"this `{token.value}` closes nothing",
                        token_span(token),
                        f"remove it, or add the matching `{'{' if wanted == '_LBRACE' else '('}` before it",
                    )
                return None
            stack.pop()
    if stack and isinstance(error, (UnexpectedToken, UnexpectedEOF)) and _at_end(error):
        return _unclosed(stack[-1])
    return None


def _unclosed(opener: Token) -> Diagnostic:
    closer = "}" if opener.value == "{" else ")"
    return Diagnostic(
        "PR003",
        f"this `{opener.value}` is never closed",
        token_span(opener),
        f"add `{closer}` where the block ends",
    )


def _error_position(error: UnexpectedInput) -> int:
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END" or token.start_pos is None:
            return 1 << 62
        return token.start_pos
    return getattr(error, "pos_in_stream", None) or 0


def _at_end(error: UnexpectedInput) -> bool:
    return isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END")


# ---- characters the lexer cannot read ----------------------------------------------


def _unexpected_character(error: UnexpectedCharacters, text: str) -> Diagnostic:
    position = error.pos_in_stream
    char = text[position]
    span = span_at_offset(text, position)
    if char == '"':
        return _unterminated_string(text, position)
    if char in FULL_WIDTH:
        ascii_form = FULL_WIDTH[char]
        return Diagnostic(
            "PR009",
            f"full-width '{char}' (U+{ord(char):04X}) is not part of the language",
            span,
            f"type the ASCII '{ascii_form}' instead (switch the input method to English)",
        )
    if char == "%":
        before = text[:position]
        match = re.search(r"(\d+(?:\.\d+)?)[ \t]+$", before)
        if match:
            number = match.group(1)
            start = match.start(1)
            return Diagnostic(
                "PR006",
                f"a space stands between {number} and %",
                span_at_offset(text, start, position + 1 - start),
                f"write {number}% with no space",
            )
    if char == "." and re.match(r"\.\d", text[position:]):
        number = re.match(r"\.(\d+)", text[position:]).group(1)
        return Diagnostic("PR014", f"a number cannot start with '.'", span, f"write 0.{number}")
    if char == ";":
        return Diagnostic("PR002", "unexpected ';'", span, "statements need no ';': put one per line")
    if char == "'":
        return Diagnostic("PR002", "unexpected \"'\"", span, 'texts are written in double quotes: "like this"')
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    return Diagnostic("PR002", f"unexpected character '{shown}'", span)


def _unterminated_string(text: str, position: int) -> Diagnostic:
    line_end = text.find("\n", position)
    if line_end == -1:
        line_end = len(text)
    rest = text[position + 1 : line_end]
    escape = re.search(r'\\([^"\\nt])', rest)
    closing = re.search(r'(?<!\\)"', rest)
    if escape and closing and escape.start() < closing.start():
        offset = position + 1 + escape.start()
        return Diagnostic(
            "PR014",
            f"unknown escape '\\{escape.group(1)}' in a string",
            span_at_offset(text, offset, 2),
            'strings know \\", \\\\, \\n and \\t; write \\\\ for a backslash',
        )
    return Diagnostic(
        "PR004",
        "this text has no closing quote",
        span_at_offset(text, position, line_end - position),
        'end it with " on the same line',
    )


# ---- tokens in the wrong place -------------------------------------------------------


def _terminal_display_names(parser: Lark) -> dict[str, str]:
    names = dict(FRIENDLY_TERMINALS)
    for terminal in parser.terminals:
        if terminal.name in names:
            continue
        if isinstance(terminal.pattern, PatternStr):
            names[terminal.name] = f"`{terminal.pattern.value}`"
    names.setdefault("COMPARE", FRIENDLY_TERMINALS["COMPARE"])
    return names


def _keyword_of(name: str, names: dict[str, str]) -> str | None:
    display = names.get(name, "")
    if display.startswith("`") and display[1:-1].isalpha():
        return display[1:-1]
    return None


def _previous_token(tokens: list[Token], token: Token) -> Token | None:
    previous = None
    for candidate in tokens:
        if candidate.start_pos is not None and token.start_pos is not None and candidate.start_pos >= token.start_pos:
            break
        previous = candidate
    return previous


def _expected_list(expected: set[str], names: dict[str, str]) -> str:
    if len(expected & EXPRESSION_STARTS) >= 6:
        expected = (expected - EXPRESSION_STARTS) | {"an expression"}
    shown = sorted({names.get(name, name) for name in expected}, key=lambda s: (s.startswith("`"), s))
    if len(shown) > 8:
        return "one of " + ", ".join(shown[:8]) + ", …"
    if len(shown) == 1:
        return shown[0]
    return "one of " + ", ".join(shown)


def _found(token: Token, names: dict[str, str]) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type in ("NAME", "NUMBER", "PERCENT", "DURATION", "DATE"):
        return f"'{token.value}'"
    if token.type == "STRING":
        return f"the text {token.value}"
    return names.get(token.type, f"'{token.value}'")


def _unexpected_token(error: UnexpectedToken, tokens: list[Token], names: dict[str, str]) -> Diagnostic:
    token = error.token
    expected = set(error.accepts or error.expected)
    span = token_span(token) if token.type != "$END" else _end_span(tokens)
    found = _found(token, names)
    previous = _previous_token(tokens, token) if token.type != "$END" else (tokens[-1] if tokens else None)

    if token.type == "$END":
        if not tokens:
            return Diagnostic("PR001", "the file is empty", span, 'a policy starts with: policy "name" {')
        return Diagnostic("PR001", f"the file ends too early: expected {_expected_list(expected, names)}", span)

    if (
        token.type == "NAME"
        and previous is not None
        and previous.type in ("NUMBER", "PERCENT", "DURATION")
        and previous.end_pos == token.start_pos
    ):
        glued = previous.value + token.value
        return Diagnostic(
            "PR008",
            f"'{token.value}' in {glued} is not a unit",
            token_span(previous).through(span),
            "durations take s, min, h or d (10min, 1.5h); counts and numbers take no unit",
        )

    if "_ARROW" in expected and token.type in EXPRESSION_STARTS | {"_ELSE"}:
        return Diagnostic("PR005", f"missing `=>` before {found}", span, "a rule is written `condition => outcome`")

    if "PERCENT" in expected and token.type == "NUMBER":
        what = "a weight" if previous is not None and previous.type == "WEIGHT" else "this value"
        return Diagnostic("PR007", f"{what} must be a percentage, not the plain number {token.value}", span, f"write {token.value}%")

    if "NAME" in expected and _keyword_of(token.type, names) and token.type not in EXPRESSION_STARTS:
        keyword = token.value
        return Diagnostic(
            "PR011",
            f"`{keyword}` is a keyword and cannot be used as a name",
            span,
            f"choose another name, for example {keyword}_value",
        )
    if "NAME" in expected and token.type in ("SCORE", "GRADE", "RANK") and previous is not None and previous.type in ("METRIC", "LET"):
        return Diagnostic(
            "PR011",
            f"`{token.value}` is a keyword and cannot be used as a name",
            span,
            f"choose another name, for example {token.value}_value",
        )

    if token.type == "_ASSIGN" and "COMPARE" in expected:
        return Diagnostic("PR013", "`=` cannot compare", span, "write == to test for equality")

    keywords = [keyword for name in expected if (keyword := _keyword_of(name, names))]
    if token.type == "NAME" and keywords:
        statement_level = "VERSION" in expected and "KPI" in expected
        close = difflib.get_close_matches(token.value, keywords, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else None
        if statement_level:
            return Diagnostic("PR012", f"unknown statement '{token.value}'", span, hint or "a statement starts with a keyword such as metric, kpi, grade or bonus")
        if close or len(expected) <= 3:
            return Diagnostic("PR012", f"expected {_expected_list(expected, names)}, found '{token.value}'", span, hint)

    if token.type == "_ELSE" and previous is not None:
        return Diagnostic("PR001", f"`else` cannot stand here: expected {_expected_list(expected, names)}", span, "`else` starts a rule of its own: else => outcome")

    return Diagnostic("PR001", f"unexpected {found}: expected {_expected_list(expected, names)}", span)


def _end_span(tokens: list[Token]) -> Span:
    if not tokens:
        return Span(1, 1, 1, 2, 0, 1)
    last = tokens[-1]
    return Span(last.end_line, last.end_column, last.end_line, last.end_column + 1, last.end_pos, last.end_pos + 1)
