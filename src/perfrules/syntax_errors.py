"""Syntax errors: lark's exceptions turned into perfrules diagnostics, with repairs.

Only :func:`perfrules.parser.parse_policy` calls into this module.  For each error
lark reports, :func:`explain` names what went wrong the way an author writes it
("missing `=>`", "a name", never lark's terminal names) and recognises the common
mistakes by their shape: a missing ``=>``, an unclosed ``{``, ``95 %``,
``weight 30``, a string without its closing quote, full-width punctuation typed
with a Chinese input method, a misspelled keyword, a keyword used as a name, ``=``
used to compare, a number with an unknown unit (``10mins``), a trailing comma.

Where the intended text is certain (a missing ``=>``, ``30`` for ``30%``, ``=`` for
``==``, ``：`` for ``:``...) the explanation carries a *repair*: the tokens to feed
the parser so that it can go on and report the next mistake of the file too.  Any
other error ends the parse of that file.  Unbalanced braces are judged once over the
whole file (:func:`brace_problem`), by indentation as a reader would.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
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
    "PERIOD": "a period like 2026-11",
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
# The token an ASCII replacement stands for, when it is one token on its own.
ASCII_TOKENS = {
    ":": "_COLON", ",": "_COMMA", "(": "_LPAR", ")": "_RPAR", "{": "_LBRACE", "}": "_RBRACE",
    "=": "_ASSIGN", ">": "COMPARE", "<": "COMPARE", ">=": "COMPARE", "<=": "COMPARE", "!=": "COMPARE",
    "+": "PLUS", "-": "MINUS", "*": "MUL_OP", "/": "MUL_OP",
}

EXPRESSION_STARTS = {"NUMBER", "PERCENT", "DURATION", "STRING", "DATE", "NAME", "SCORE", "GRADE",
                     "RANK", "KPI", "TOP", "BOTTOM", "NOT", "_LPAR", "PLUS", "MINUS"}

Repair = Callable[[object], None]  # feeds tokens to lark's interactive parser


@dataclass
class Explanation:
    """A diagnostic, and how to repair the token stream to go on parsing (or None)."""

    diagnostic: Diagnostic
    repair: Repair | None = None


class SyntaxContext:
    """What the explanations need to know of one file: its text, tokens and names."""

    def __init__(self, text: str, parser: Lark):
        self.text = text
        self.names = _terminal_display_names(parser)
        self.tokens, self.lexes_fully = _lex(parser, text)

    def previous_token(self, token: Token) -> Token | None:
        previous = None
        for candidate in self.tokens:
            if candidate.start_pos >= token.start_pos:
                break
            previous = candidate
        return previous


def explain(error: UnexpectedInput, context: SyntaxContext) -> Explanation:
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, context)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, context)
    span = span_at_offset(context.text, getattr(error, "pos_in_stream", 0) or 0)
    return Explanation(Diagnostic("PR001", "this policy does not parse here", span))


def _lex(parser: Lark, text: str) -> tuple[list[Token], bool]:
    tokens: list[Token] = []
    try:
        for token in parser.lex(text):
            tokens.append(token)
    except UnexpectedInput:
        return tokens, False
    return tokens, True


# ---- braces -----------------------------------------------------------------------------


def brace_problem(context: SyntaxContext) -> Diagnostic | None:
    """An unclosed ``{``/``(`` or a ``}``/``)`` that closes nothing, or None when balanced."""
    if not context.lexes_fully:
        return None
    tokens = context.tokens
    kinds = [token.type for token in tokens]
    if kinds.count("_LBRACE") == kinds.count("_RBRACE") and kinds.count("_LPAR") == kinds.count("_RPAR"):
        return None
    first_on_line: dict[int, Token] = {}
    for token in tokens:
        first_on_line.setdefault(token.line, token)

    def indent(token: Token) -> int:
        return first_on_line[token.line].column

    def leads_line(token: Token) -> bool:
        return first_on_line[token.line] is token

    stack: list[Token] = []
    misaligned: list[Token] = []  # `}` that closed a block opened at another indentation
    for token in tokens:
        if token.type in ("_LBRACE", "_LPAR"):
            stack.append(token)
        elif token.type == "_RPAR":
            if stack and stack[-1].type == "_LPAR":
                stack.pop()
            else:
                return _closes_nothing(token)
        elif token.type == "_RBRACE":
            if stack and stack[-1].type == "_LPAR":
                return _unclosed(stack[-1])
            if not stack:
                return _closes_nothing(misaligned[0] if misaligned else token)
            opener = stack[-1]
            if leads_line(token) and token.column < indent(opener):
                # `}` at the indentation of an outer block: the inner block was left open.
                if any(indent(outer) == token.column for outer in stack[:-1]):
                    return _unclosed(opener)
            if leads_line(token) and token.column != indent(opener):
                misaligned.append(token)
            stack.pop()
    if stack:
        for opener in reversed(stack):
            if opener.type == "_LPAR":
                return _unclosed(opener)
        # The innermost block whose end is visible by indentation, else the innermost.
        for opener in reversed(stack):
            later = [token for token in tokens if token.line > opener.line and leads_line(token)]
            if any(token.column <= indent(opener) for token in later):
                return _unclosed(opener)
        return _unclosed(stack[-1])
    return None


def _unclosed(opener: Token) -> Diagnostic:
    closer = "}" if opener.value == "{" else ")"
    return Diagnostic("PR003", f"this `{opener.value}` is never closed", token_span(opener),
                      f"add `{closer}` where the block ends")


def _closes_nothing(token: Token) -> Diagnostic:
    opener = "{" if token.value == "}" else "("
    return Diagnostic("PR015", f"this `{token.value}` closes nothing", token_span(token),
                      f"remove it, or add the matching `{opener}` before it")


# ---- characters the lexer cannot read -------------------------------------------------------


def _feed(kind: str, value: str, at: Token | None = None) -> Repair:
    def repair(interactive) -> None:
        if at is not None:
            interactive.feed_token(Token.new_borrow_pos(kind, value, at))
        else:
            interactive.feed_token(Token(kind, value))
    return repair


def _skip(interactive) -> None:
    """Repair by dropping what failed (lark moves past it when we return)."""


def _unexpected_character(error: UnexpectedCharacters, context: SyntaxContext) -> Explanation:
    text = context.text
    position = error.pos_in_stream
    char = text[position]
    span = span_at_offset(text, position)
    if char == '"':
        return Explanation(_unterminated_string(text, position))
    if char in FULL_WIDTH:
        ascii_form = FULL_WIDTH[char]
        kind = ASCII_TOKENS.get(ascii_form)
        location = Token("FULL_WIDTH", char, position, span.line, span.column, span.line, span.end_column, position + 1)
        repair = _feed(kind, ascii_form, location) if kind else None
        return Explanation(Diagnostic(
            "PR009",
            f"full-width '{char}' (U+{ord(char):04X}) is not part of the language",
            span,
            f"type the ASCII '{ascii_form}' instead (switch the input method to English)",
        ), repair)
    if char == "%":
        match = re.search(r"(\d+(?:\.\d+)?)[ \t]+$", text[:position])
        if match:
            return Explanation(_space_before_percent(text, match, position), _skip)
    if char == "." and re.match(r"\.\d", text[position:]):
        digits = re.match(r"\.(\d+%?)", text[position:]).group(1)
        return Explanation(Diagnostic("PR014", "a number cannot start with '.'", span, f"write 0.{digits}"))
    if char == ";":
        return Explanation(Diagnostic("PR002", "unexpected ';'", span, "statements need no ';': put one per line"), _skip)
    if char == "'":
        return Explanation(Diagnostic("PR002", "unexpected \"'\"", span, 'texts are written in double quotes: "like this"'))
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    return Explanation(Diagnostic("PR002", f"unexpected character '{shown}'", span))


def _space_before_percent(text: str, match: re.Match, percent_position: int) -> Diagnostic:
    number = match.group(1)
    start = match.start(1)
    return Diagnostic("PR006", f"a space stands between {number} and %",
                      span_at_offset(text, start, percent_position + 1 - start), f"write {number}% with no space")


def _unterminated_string(text: str, position: int) -> Diagnostic:
    line_end = text.find("\n", position)
    if line_end == -1:
        line_end = len(text)
    rest = text[position + 1 : line_end]
    escape = re.search(r'\\([^"\\nt])', rest)
    closing = re.search(r'(?<!\\)"', rest)
    if escape and closing and escape.start() < closing.start():
        offset = position + 1 + escape.start()
        return Diagnostic("PR014", f"unknown escape '\\{escape.group(1)}' in a string", span_at_offset(text, offset, 2),
                          'strings know \\", \\\\, \\n and \\t; write \\\\ for a backslash')
    return Diagnostic("PR004", "this text has no closing quote", span_at_offset(text, position, line_end - position),
                      'end it with " on the same line')


# ---- tokens in the wrong place -----------------------------------------------------------------


def _terminal_display_names(parser: Lark) -> dict[str, str]:
    names = dict(FRIENDLY_TERMINALS)
    for terminal in parser.terminals:
        if terminal.name not in names and isinstance(terminal.pattern, PatternStr):
            names[terminal.name] = f"`{terminal.pattern.value}`"
    return names


def _keyword_of(name: str, names: dict[str, str]) -> str | None:
    display = names.get(name, "")
    if display.startswith("`") and display[1:-1].isalpha():
        return display[1:-1]
    return None


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
    if token.type == "STRING":
        return f"the text {token.value}"
    if token.type in ("NAME", "NUMBER", "PERCENT", "DURATION", "DATE"):
        return f"'{token.value}'"
    return f"`{token.value}`"


def _unexpected_token(error: UnexpectedToken, context: SyntaxContext) -> Explanation:
    token = error.token
    names = context.names
    expected = set(error.accepts or error.expected)
    if token.type == "$END":
        return Explanation(_early_end(expected, context))
    span = token_span(token)
    found = _found(token, names)
    previous = context.previous_token(token)

    if token.type == "NAME" and previous is not None and previous.type in ("NUMBER", "PERCENT", "DURATION") \
            and previous.end_pos == token.start_pos:
        return Explanation(Diagnostic(
            "PR008", f"'{token.value}' in {previous.value + token.value} is not a unit", token_span(previous).through(span),
            "durations take s, min, h or d (10min, 1.5h); counts and numbers take no unit",
        ), _skip)

    if previous is not None and previous.type == "_COMMA" and token.line > previous.line and "NAME" in expected:
        return Explanation(Diagnostic("PR001", "a name must follow ','", token_span(previous), "remove the trailing ','"))

    if previous is not None and previous.type == "SCORE" and expected == {"LIMIT"}:
        return Explanation(Diagnostic(
            "PR001", "a rule on the score cannot stand on its own", token_span(previous).through(span),
            "put grade rules inside a block: grade { score >= 90 => \"优秀\" ... }",
        ))

    if "_ARROW" in expected and token.type in EXPRESSION_STARTS | {"_ELSE"}:
        return Explanation(Diagnostic("PR005", f"missing `=>` before {found}", span, "a rule is written `condition => outcome`"),
                           lambda interactive: _feed_all(interactive, Token.new_borrow_pos("_ARROW", "=>", token), token))

    if "PERCENT" in expected and token.type == "NUMBER":
        percent = Token.new_borrow_pos("PERCENT", token.value + "%", token)
        space = re.match(r"[ \t]+%", context.text[token.end_pos:])
        if space:
            match = re.search(r"(\d+(?:\.\d+)?)[ \t]+$", context.text[: token.end_pos + space.end() - 1])
            diagnostic = _space_before_percent(context.text, match, token.end_pos + space.end() - 1)
        else:
            what = "a weight" if previous is not None and previous.type == "WEIGHT" else "this value"
            diagnostic = Diagnostic("PR007", f"{what} must be a percentage, not the plain number {token.value}", span,
                                    f"write {token.value}%")
        return Explanation(diagnostic, _feed("PERCENT", percent.value, token))

    if token.type == "_RANGE" and previous is not None and previous.type == "NUMBER":
        return Explanation(Diagnostic("PR007", f"a bonus range is written in percentages, not the plain number {previous.value}",
                                      token_span(previous), f"write {previous.value}%"))

    keyword = _keyword_of(token.type, names)
    if "NAME" in expected and keyword and token.type not in expected:
        return Explanation(Diagnostic("PR011", f"`{keyword}` is a keyword and cannot be used as a name", span,
                                      f"choose another name, for example {keyword}_value"),
                           _feed("NAME", token.value, token))

    if token.type == "_ASSIGN" and "COMPARE" in expected:
        return Explanation(Diagnostic("PR013", "`=` cannot compare", span, "write == to test for equality"),
                           _feed("COMPARE", "==", token))

    keywords = [word for name in expected if (word := _keyword_of(name, names))]
    if token.type == "NAME" and keywords:
        statement_level = "VERSION" in expected and "KPI" in expected
        close = difflib.get_close_matches(token.value, keywords, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else None
        if statement_level:
            line = context.text.splitlines()[token.line - 1] if token.line <= len(context.text.splitlines()) else ""
            if hint is None and "=>" in line:
                hint = "rules go inside a kpi, grade or bonus block"
            return Explanation(Diagnostic("PR012", f"unknown statement '{token.value}'", span,
                                          hint or "a statement starts with a keyword such as metric, kpi, grade or bonus"))
        if close or len(expected) <= 3:
            return Explanation(Diagnostic("PR012", f"expected {_expected_list(expected, names)}, found '{token.value}'", span, hint))

    if token.type == "_ELSE":
        return Explanation(Diagnostic("PR001", f"`else` cannot stand here: expected {_expected_list(expected, names)}", span,
                                      "`else` starts a rule of its own: else => outcome"))

    return Explanation(Diagnostic("PR001", f"unexpected {found}: expected {_expected_list(expected, names)}", span))


def _feed_all(interactive, *tokens: Token) -> None:
    for token in tokens:
        interactive.feed_token(token)


def _early_end(expected: set[str], context: SyntaxContext) -> Diagnostic:
    tokens = context.tokens
    if not tokens:
        return Diagnostic("PR001", "the file is empty", Span(1, 1, 1, 2, 0, 1), 'a policy starts with: policy "name" {')
    last = tokens[-1]
    span = Span(last.end_line, last.end_column, last.end_line, last.end_column + 1, last.end_pos, last.end_pos + 1)
    return Diagnostic("PR001", f"the file ends too early: expected {_expected_list(expected, context.names)}", span)
