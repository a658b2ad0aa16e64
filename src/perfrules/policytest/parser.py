"""The parse pass of test files: text to a :class:`~perfrules.policytest.nodes.TestFile`.

The grammar is ``grammar/tests.lark`` (LALR, basic lexer, positions), which imports the
policy grammar's terminals.  Parsing goes through the policy parser's one boundary
(:func:`perfrules.parser.parse_policy` with this grammar and :class:`TestBuilder`), so lark's
exceptions become the same located diagnostics, with the same repairs, as in a policy.
:class:`TestBuilder` extends the policy's :class:`~perfrules.parser.AstBuilder`: values are
built by the very methods that build a policy's literals.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from lark import Lark, Token, v_args

from perfrules import ast
from perfrules.diagnostics import Diagnostic
from perfrules.parser import AstBuilder, ParseResult, parse_policy
from perfrules.policytest import nodes
from perfrules.resources import resource_dir
from perfrules.source import FILE_START, SourceFile

OPTIONS = dict(parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)


def tests_grammar_path():
    return resource_dir("grammar") / "tests.lark"


@lru_cache(maxsize=1)
def tests_parser() -> Lark:
    """Built from the grammar in memory (a small grammar: no tables cached anywhere)."""
    return Lark.open(str(tests_grammar_path()), cache=False, **OPTIONS)


def parse_tests(source: SourceFile) -> ParseResult:
    """Parse one test file; ``ParseResult.policy`` holds the TestFile (None on a syntax error)."""
    if not _has_tokens(source.text):
        return ParseResult(None, [Diagnostic("PR001", "the file is empty", FILE_START,
                                             'a test file starts with: tests for "policy.perf" {', source.path)])
    parsed = parse_policy(source, tests_parser(), TestBuilder)
    return ParseResult(parsed.policy, [_in_words(item) for item in parsed.diagnostics])


def _in_words(item: Diagnostic) -> Diagnostic:
    """Where the policy grammar would expect an expression, a test file expects a value."""
    if item.code != "PR001" or "an expression" not in item.message:
        return item
    found = item.message.split(": expected", 1)[0]
    return Diagnostic(item.code, f"{found}: expected a value", item.span,
                      'write a value as in a policy: 95%, 6min, 6000, "text", or missing', item.file)


def _has_tokens(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in text.split("\n"))


@v_args(meta=True)
class TestBuilder(AstBuilder):
    """Builds test-file nodes; literals, names and signs come from the policy's builder."""

    def start(self, meta, children):
        return children[0]

    def tests_file(self, meta, children):
        policy, *statements = children
        return nodes.TestFile(self._text(policy), tuple(statements), self.span(meta))

    def test_period(self, meta, children):
        return nodes.TestPeriod(self._period(children[0]), self.span(meta))

    def _period(self, token: Token) -> nodes.PeriodText:
        return nodes.PeriodText(token.value, self.token_span(token))

    def given(self, meta, children):
        return nodes.Given(tuple(children), self.span(meta))

    def test(self, meta, children):
        name, *items = children
        return nodes.TestCase(self._text(name), tuple(items), self.span(meta))

    def agent(self, meta, children):
        agent, *rest = children
        period = None
        if rest and isinstance(rest[0], Token):
            period, rest = self._period(rest[0]), rest[1:]
        return nodes.AgentRow(self._agent_id(agent), period, tuple(rest), self.span(meta))

    def _agent_id(self, token: Token) -> ast.Text:
        if token.type == "STRING":
            return self._text(token)
        return ast.Text(token.value, self.token_span(token))

    def assignment(self, meta, children):
        name, value = children
        return nodes.Assignment(name, value, self.span(meta))

    def missing(self, meta, children):
        return nodes.Missing(self.span(meta))

    def bare_word(self, meta, children):
        return children[0]

    def word(self, meta, children):
        token = children[0]
        return ast.Name(token.value, self.token_span(token))

    def signed_number(self, meta, children):
        *sign, number = children
        written = (sign[0][0] if sign else "") + number.value
        return ast.NumberLiteral(Decimal(written), written, self.span(meta))

    def expect(self, meta, children):
        agent, (form, field, subject, operator, value, body) = children
        return nodes.Expectation(self._agent_id(agent), form, field, subject, operator, value, body, self.span(meta))

    def field(self, meta, children):
        keyword, *rest = children
        name = keyword.value
        subject = self._text(rest[0]) if rest else None
        if len(rest) == 2:
            name = f"kpi {rest[1].value}"
        return nodes.Field(name, subject, self.span(meta))

    def expect_compare(self, meta, children):
        field, operator, value = children
        return "compare", field, None, operator.value, value, self.span(meta)

    def expect_kpi_is(self, meta, children):
        _, name, level = children
        return "kpi_is", None, self._text(name), None, level, self.span(meta)

    def expect_plan(self, meta, children):
        return "plan", None, self._text(children[1]), None, None, self.span(meta)

    def expect_no_plan(self, meta, children):
        return "no_plan", None, self._text(children[1]), None, None, self.span(meta)

    def expect_award(self, meta, children):
        return "award", None, self._text(children[1]), None, None, self.span(meta)

    def expect_target(self, meta, children):
        _, name, status = children
        return "target", None, self._text(name), None, status, self.span(meta)

    def expect_error(self, meta, children):
        return "error", None, None, None, None, self.span(meta)
