"""The canonical layout of a perfrules source file, driven by its tokens and its parse tree.

``perfrules fmt`` must give one layout whatever the author typed, and must never change
what a file means.  So the printer never edits text: it re-emits the file's own tokens
(strings, numbers, percents and parentheses exactly as written) and decides only the
white space between them.  Where lines break comes from the lark parse tree, not from a
list of policy statements: every child of a tree node that sits between that node's own
``{`` and ``}`` is one line (a statement, a rule, a plan action, a level...), and so is the
closing brace; the children of the root are lines too.  Any grammar built the same way
(the policy grammar, the test-file grammar of language.md §15, a new ``target ... for
ROLE`` clause) is laid out by the same code, with nothing to add.

Comments are not in the tree (the grammar ignores them); they are collected from the
lexer's ignored tokens with their positions and placed by line: a comment after the last
token of an output line stays at its end, any other comment goes on its own line above
the line that follows it (or that it sat inside of, when a statement written over several
lines is joined), at that line's indentation.  One blank line is kept where the author
left one or more between two lines; none after ``{``, before ``}``, or at the file's ends.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from lark import Lark, Token, Tree

INDENT = "    "
TRAILING_GAP = "  "  # between code and the comment at the end of its line
INLINE_GAP = "  "  # between the items of an inline block
OPEN, CLOSE = "{", "}"


@dataclass
class Comment:
    text: str  # from '#', trailing white space removed
    position: int
    line: int


@dataclass
class Line:
    """One output line of code: its tokens, its depth, and the comments that go with it."""

    tokens: list[Token]
    depth: int
    above: list[Comment] = field(default_factory=list)
    trailing: Comment | None = None

    @property
    def first_line(self) -> int:
        return self.tokens[0].line

    @property
    def last_line(self) -> int:
        return self.tokens[-1].end_line


@dataclass(frozen=True)
class Lexed:
    """A source text as the parser sees it: its tokens, and the comments it ignores."""

    tokens: list[Token]
    comments: list[Comment]


def lex(parser: Lark, text: str) -> Lexed:
    """Every token of ``text`` with its position, comments apart (ignored tokens that are not
    white space).  Raises lark's exceptions on text that does not lex: call on parsed text."""
    ignored = set(parser.lexer_conf.ignore)
    tokens: list[Token] = []
    comments: list[Comment] = []
    for token in parser.lex(text, dont_ignore=True):
        if token.type not in ignored:
            tokens.append(token)
        elif token.value.strip():
            comments.append(Comment(token.value.rstrip(), token.start_pos, token.line))
    return Lexed(tokens, comments)


def canonical_layout(parser: Lark, text: str, inline: frozenset[str] = frozenset()) -> str:
    """``text`` (which must parse with ``parser``) in the canonical layout.

    ``inline`` names grammar rules whose block stays on one line, its items two spaces
    apart (``agent A1 { csat = 80%  aht = 6min }`` in a test file), when it holds no block
    and no comment and fits in :data:`WIDTH` columns; policies have none."""
    lexed = lex(parser, text)
    if not lexed.tokens:
        return "".join(comment.text + "\n" for comment in lexed.comments)
    tree = parser.parse(text)
    glued = _prefix_positions(tree)
    breaks, separated = _line_breaks(tree, lexed, inline, glued)
    lines = _split_lines(lexed.tokens, breaks)
    closing = _attach_comments(lines, lexed)
    return _render(lines, closing, glued, separated)


# ---- where lines break -------------------------------------------------------------------------


def _span(node) -> tuple[int, int] | None:
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    if node.meta.empty:
        return None
    return node.meta.start_pos, node.meta.end_pos


def _subtrees(tree: Tree):
    """Every subtree, without recursion (an expression may nest hundreds of levels)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in node.children if isinstance(child, Tree))


WIDTH = 100  # columns an inline block may take, indentation included


def _line_breaks(tree: Tree, lexed: Lexed, inline: frozenset[str], glued: set[int]) -> tuple[set[int], set[int]]:
    """Start positions of the tokens that begin an output line, and of the items of inline
    blocks (two spaces before them)."""
    tokens = lexed.tokens
    starts = [token.start_pos for token in tokens]
    commented = [comment.position for comment in lexed.comments]
    breaks = {tokens[0].start_pos}
    separated: set[int] = set()
    depths = _depths(tokens) if inline else []
    breaks.update(span[0] for child in tree.children if (span := _span(child)) is not None)
    for node in _subtrees(tree):
        if _span(node) is None:
            continue
        own = _own_tokens(node, tokens, starts)
        opened: list[Token] = []
        for token in own:
            if token.value == OPEN:
                opened.append(token)
            elif token.value == CLOSE and opened:
                start = opened.pop()
                items = [span[0] for child in node.children
                         if (span := _span(child)) is not None and start.end_pos <= span[0] < token.start_pos
                         and not (isinstance(child, Token) and child.value in (OPEN, CLOSE))]
                commented_inside = _index(commented, token.start_pos) > _index(commented, start.end_pos)
                if items and not commented_inside and node.data in inline and \
                        _fits_inline(tokens, starts, depths, node, start, token, glued, items):
                    separated.update(items[1:])
                    continue
                breaks.update(items)
                if items or commented_inside:
                    breaks.add(token.start_pos)  # else an empty block, printed `{}`
    return breaks, separated


def _fits_inline(tokens: list[Token], starts: list[int], depths: list[int], node: Tree, start: Token,
                 end: Token, glued: set[int], items: list[int]) -> bool:
    first, last = _index(starts, node.meta.start_pos), _index(starts, end.start_pos)
    inside = tokens[_index(starts, start.start_pos) + 1:last]
    if any(token.value in (OPEN, CLOSE) for token in inside):
        return False
    width = len(INDENT) * depths[first] + len(_join(tokens[first:last + 1], glued, set(items[1:])))
    return width <= WIDTH


def _depths(tokens: list[Token]) -> list[int]:
    """The number of blocks open before each token."""
    depths, depth = [], 0
    for token in tokens:
        depths.append(depth)
        depth += (token.value == OPEN) - (token.value == CLOSE)
    return depths


def _index(starts: list[int], position: int) -> int:
    return bisect.bisect_left(starts, position)


def _own_tokens(node: Tree, tokens: list[Token], starts: list[int]) -> list[Token]:
    """The tokens inside ``node`` that no child tree holds (its keywords and braces)."""
    begin, end = _span(node)
    holes = sorted(span for child in node.children if isinstance(child, Tree) and (span := _span(child)))
    own: list[Token] = []
    position = begin
    for hole_start, hole_end in holes + [(end, end)]:
        own.extend(tokens[_index(starts, position):_index(starts, hole_start)])
        position = max(position, hole_end)
    return own


def _prefix_positions(tree: Tree) -> set[int]:
    """Start positions of the trees longer than one token: a sign token at such a position
    begins its construct (``-3``, ``+2 per``), and is glued to what follows."""
    positions = set()
    for node in _subtrees(tree):
        span = _span(node)
        if span is not None and not (len(node.children) == 1 and isinstance(node.children[0], Token)):
            positions.add(span[0])
    return positions


def _split_lines(tokens: list[Token], breaks: set[int]) -> list[Line]:
    lines: list[Line] = []
    depth = 0
    for token in tokens:
        if token.value == CLOSE:
            depth -= 1
        if token.start_pos in breaks or not lines:
            lines.append(Line([token], depth))
        else:
            lines[-1].tokens.append(token)
        if token.value == OPEN:
            depth += 1
    return lines


# ---- comments ------------------------------------------------------------------------------------


def _attach_comments(lines: list[Line], lexed: Lexed) -> list[Comment]:
    """Give each comment its line (above it, or at its end); returns those after the last token."""
    line_of: dict[int, int] = {}
    for number, line in enumerate(lines):
        for token in line.tokens:
            line_of[token.start_pos] = number
    starts = [token.start_pos for token in lexed.tokens]
    after_all: list[Comment] = []
    for comment in lexed.comments:
        following = _index(starts, comment.position)
        before = lexed.tokens[following - 1] if following else None
        after = lexed.tokens[following] if following < len(lexed.tokens) else None
        if before is not None:
            line = lines[line_of[before.start_pos]]
            ends_its_line = line.tokens[-1] is before
            if before.end_line == comment.line and ends_its_line and line.trailing is None:
                line.trailing = comment
                continue
            if not ends_its_line:  # inside a statement that is joined onto one line
                line.above.append(comment)
                continue
        if after is None:
            after_all.append(comment)
        else:
            lines[line_of[after.start_pos]].above.append(comment)
    return after_all


# ---- printing ------------------------------------------------------------------------------------


def _render(lines: list[Line], closing: list[Comment], glued: set[int], separated: set[int]) -> str:
    out: list[str] = []
    previous_last: int | None = None  # source line where the previous output ended
    previous_opens = False

    def blank_before(first_line: int, closes: bool = False) -> None:
        if previous_last is not None and first_line - previous_last >= 2 and not previous_opens and not closes:
            out.append("")

    for line in lines:
        closes = line.tokens[0].value == CLOSE
        comment_depth = line.depth + 1 if closes else line.depth
        for comment in line.above:
            blank_before(min(comment.line, line.first_line))
            out.append(INDENT * comment_depth + comment.text)
            previous_last, previous_opens = max(comment.line, previous_last or 0), False
        blank_before(line.first_line, closes)
        code = INDENT * line.depth + _join(line.tokens, glued, separated)
        if line.trailing is not None:
            code += TRAILING_GAP + line.trailing.text
        out.append(code)
        previous_last = max(line.last_line, line.trailing.line if line.trailing else 0)
        previous_opens = line.tokens[-1].value == OPEN
    for comment in closing:
        blank_before(comment.line)
        out.append(comment.text)
        previous_last, previous_opens = comment.line, False
    return "\n".join(out) + "\n"


NO_SPACE_AFTER = {"(", ".."}
NO_SPACE_BEFORE = {")", ",", ":", ".."}
SIGNS = {"+", "-"}


def _join(tokens: list[Token], glued: set[int], separated: set[int]) -> str:
    """One line's tokens with the canonical spaces: one between tokens, none inside
    parentheses, before ``,`` and ``:``, around ``..``, after a leading sign (``-3``) or
    between a function's name and its ``(``; two before the items of an inline block."""
    parts = [tokens[0].value]
    for previous, token in itertools.pairwise(tokens):
        glue = (
            previous.value in NO_SPACE_AFTER
            or token.value in NO_SPACE_BEFORE
            or (previous.value in SIGNS and previous.start_pos in glued)
            or (token.value == "(" and previous.type == "NAME")
            or (previous.value == OPEN and token.value == CLOSE)
        )
        if token.start_pos in separated:
            parts.append(INLINE_GAP)
        elif not glue:
            parts.append(" ")
        parts.append(token.value)
    return "".join(parts)
