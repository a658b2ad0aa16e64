"""The parse pass: policy text to a typed :class:`~perfrules.ast.Policy`.

The grammar lives in ``grammar/perfrules.lark``; lark parses it with LALR(1), the
basic lexer (so keywords are reserved) and ``propagate_positions`` so that every
node gets a :class:`~perfrules.ast.Span`.  :class:`AstBuilder` has one method per
grammar rule or alias and builds frozen AST nodes.  :func:`parse_policy` is the one
boundary where lark's exceptions are caught; :mod:`perfrules.syntax_errors` turns
them into diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from perfrules import ast
from perfrules.ast import Span
from perfrules.diagnostics import Diagnostic, DiagnosticSink

from perfrules.source import SourceFile
from perfrules.values import SECONDS_PER_UNIT

STRING_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
MAX_PLAN_DAYS = 3650  # due dates of periods up to 9989 (data periods end there) stay before year 10000



@lru_cache(maxsize=1)
def policy_parser() -> Lark:
    """The lark parser, once per process, from the tables shipped in the package
    (:mod:`perfrules.parser_tables`; never from a cache in a shared folder)."""
    from perfrules.parser_tables import load_parser

    return load_parser()


def token_span(token: Token, file: str = "") -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column, token.start_pos, token.end_pos, file)


def meta_span(meta, file: str = "") -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos, file)


def decode_string(token: Token, sink: DiagnosticSink, file: str = "") -> ast.Text:
    """A STRING token without its quotes, with ``\\"``, ``\\\\``, ``\\n``, ``\\t`` decoded."""
    raw = token.value[1:-1]
    out = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            escaped = raw[index + 1]
            if escaped in STRING_ESCAPES:
                out.append(STRING_ESCAPES[escaped])
            else:
                start = token.start_pos + 1 + index
                column = token.column + 1 + index
                sink.report(
                    "PR014",
                    f"unknown escape '\\{escaped}' in a string",
                    Span(token.line, column, token.line, column + 2, start, start + 2),
                    'strings know \\", \\\\, \\n and \\t; write \\\\ for a backslash',
                )
                out.append(escaped)
            index += 2
        else:
            out.append(char)
            index += 1
    return ast.Text("".join(out), token_span(token, file))


def _is_node(child) -> bool:
    return not isinstance(child, Token)


@v_args(meta=True)
class AstBuilder(Transformer):
    """Builds AST nodes from lark's tree: one method per rule or alias of the grammar."""

    def __init__(self, sink: DiagnosticSink, file: str = "") -> None:
        super().__init__()
        self.sink = sink
        self.file = file  # every span says which file it is in (a policy may extend another)

    def span(self, meta) -> Span:
        return meta_span(meta, self.file)

    def token_span(self, token: Token) -> Span:
        return token_span(token, self.file)

    def _text(self, token: Token) -> ast.Text:
        return decode_string(token, self.sink, self.file)

    # ---- the policy and its statements ----------------------------------------

    def start(self, meta, children):
        return children[0]

    def policy(self, meta, children):
        name = self._text(children[0])
        extends = None
        statements = []
        for child in children[1:]:
            if isinstance(child, tuple) and child[0] == "extends":
                extends = child[1]
            else:
                statements.append(child)
        return ast.Policy(name, extends, tuple(statements), self.span(meta))

    def extends(self, meta, children):
        return ("extends", self._text(children[0]))

    def version(self, meta, children):
        return ast.Version(self._text(children[0]), self.span(meta))

    def roles(self, meta, children):
        return ast.Roles(tuple(children), self.span(meta))

    def period(self, meta, children):
        return ast.Period(children[0], self.span(meta))

    def language(self, meta, children):
        return ast.Language(children[0], self.span(meta))

    def metric(self, meta, children):
        name, type_name, *options = children
        return ast.Metric(name, type_name, tuple(options), self.span(meta))

    def metric_unit(self, meta, children):
        return ast.MetricOption("unit", children[0], self.span(meta))

    def metric_label(self, meta, children):
        return ast.MetricOption("label", self._text(children[0]), self.span(meta))

    def metric_higher_is_better(self, meta, children):
        return ast.MetricOption("direction", "higher", self.span(meta))

    def metric_lower_is_better(self, meta, children):
        return ast.MetricOption("direction", "lower", self.span(meta))

    def metric_column(self, meta, children):
        return ast.MetricOption("column", self._text(children[0]), self.span(meta))

    def metric_sample(self, meta, children):
        count_metric, minimum = children
        return ast.MetricOption("sample", count_metric, self.span(meta), Decimal(minimum.value))

    def let(self, meta, children):
        return ast.Let(children[0], children[1], self.span(meta))

    def levels(self, meta, children):
        return ast.Levels(tuple(children), self.span(meta))

    def level(self, meta, children):
        name = children[0]
        label = self._text(children[1]) if len(children) == 3 else None
        points, points_span = children[-1]
        return ast.Level(name, label, points, points_span, self.span(meta))

    def kpi(self, meta, children):
        name_token, weight_token, *rest = children
        missing = None
        if rest and isinstance(rest[0], (ast.MissingExclude, ast.MissingLevel, ast.MissingPoints)):
            missing, rest = rest[0], rest[1:]
        return ast.Kpi(
            self._text(name_token),
            _percent_value(weight_token),
            self.token_span(weight_token),
            missing,
            tuple(rest),
            self.span(meta),
        )

    def missing_exclude(self, meta, children):
        return ast.MissingExclude(self.span(meta))

    def missing_level(self, meta, children):
        return ast.MissingLevel(children[0], self.span(meta))

    def missing_points(self, meta, children):
        return ast.MissingPoints(Decimal(children[0].value), self.span(meta))

    def measure(self, meta, children):
        return ast.Measure(children[0], self.span(meta))

    def kpi_rule(self, meta, children):
        return ast.KpiRule(children[0], children[1], self.span(meta))

    def kpi_else(self, meta, children):
        return ast.KpiRule(None, children[0], self.span(meta))

    def outcome_level(self, meta, children):
        return ast.LevelOutcome(children[0], self.span(meta))

    def outcome_points(self, meta, children):
        points, span = children[0]
        return ast.PointsOutcome(points, span)

    def points_linear(self, meta, children):
        measure, from_value, (from_points, _), to_value, (to_points, _) = children
        return ast.PointsLinear(measure, from_value, from_points, to_value, to_points, self.span(meta))

    def points_formula(self, meta, children):
        return ast.PointsFormula(children[0], self.span(meta))

    def adjust(self, meta, children):
        return ast.Adjust(self._text(children[0]), tuple(children[1:]), self.span(meta))

    def adjust_per(self, meta, children):
        (sign, _), amount, per, label = children
        return ast.AdjustPer(_signed(sign, amount), per, self._text(label), self.span(meta))

    def adjust_when(self, meta, children):
        (sign, _), amount, condition, label = children
        return ast.AdjustWhen(_signed(sign, amount), condition, self._text(label), self.span(meta))

    def adjust_limit(self, meta, children):
        (low, _), (high, _) = children
        return ast.Limit(low, high, self.span(meta))

    def score_limit(self, meta, children):
        (low, _), (high, _) = children
        span = self.span(meta)
        return ast.ScoreLimit(ast.Limit(low, high, span), span)

    def veto(self, meta, children):
        name, condition, grade = children
        return ast.Veto(self._text(name), condition, self._text(grade), self.span(meta))

    def grade(self, meta, children):
        return ast.Grade(tuple(children), self.span(meta))

    def grade_rule(self, meta, children):
        return ast.GradeRule(children[0], self._text(children[1]), self.span(meta))

    def grade_else(self, meta, children):
        return ast.GradeRule(None, self._text(children[0]), self.span(meta))

    def bonus(self, meta, children):
        return ast.Bonus(self._text(children[0]), tuple(children[1:]), self.span(meta))

    def bonus_rule(self, meta, children):
        return ast.BonusRule(children[0], children[1], self.span(meta))

    def bonus_else(self, meta, children):
        return ast.BonusRule(None, children[0], self.span(meta))

    def amount(self, meta, children):
        return ast.AmountExpression(children[0], self.span(meta))

    def amount_share(self, meta, children):
        return ast.AmountShare(_percent_value(children[0]), children[1], self.span(meta))

    def amount_share_range(self, meta, children):
        low, high, of = children
        return ast.AmountShareRange(_percent_value(low), _percent_value(high), of, self.span(meta))

    def plan(self, meta, children):
        name, condition, *actions = children
        return ast.Plan(self._text(name), condition, tuple(actions), self.span(meta))

    def plan_action(self, meta, children):
        text, _within, days = children
        count = _whole_number(days, self.sink)
        if count > MAX_PLAN_DAYS:  # a due date must stay a real date (and a plan a plan)
            self.sink.report("PR014", f"a plan action is due within at most {MAX_PLAN_DAYS} days, not {days.value}",
                             self.token_span(days), "ten years is the longest a plan can run; write a shorter time")
        return ast.PlanAction(self._text(text), min(count, MAX_PLAN_DAYS), self.span(meta))

    def swot(self, meta, children):
        return ast.Swot(tuple(children), self.span(meta))

    def swot_item(self, meta, children):
        kind, text, condition = children
        return ast.SwotItem(kind.value, self._text(text), condition, self.span(meta))

    def award(self, meta, children):
        title, condition, *periods = children
        count = _whole_number(periods[0], self.sink) if periods else None
        return ast.Award(self._text(title), condition, count, self.span(meta))

    def remove(self, meta, children):
        kind, name = children
        return ast.Remove(kind, self._text(name), self.span(meta))

    def removable(self, meta, children):
        return children[0].value

    def target(self, meta, children):
        name, *rest = children
        roles = rest.pop(0) if rest and isinstance(rest[0], tuple) else ()  # target_roles
        return ast.Target(self._text(name), roles, tuple(rest), self.span(meta))

    def target_roles(self, meta, children):
        return tuple(children)

    def target_line(self, meta, children):
        metric, operator, value, deadline, *baseline = children
        return ast.TargetLine(
            metric,
            operator.value,
            value,
            _date_value(deadline, self.sink),
            baseline[0] if baseline else None,
            self.span(meta),
        )

    # ---- expressions ------------------------------------------------------------

    def or_op(self, meta, children):
        return ast.Logical("or", children[0], children[1], self.span(meta))

    def and_op(self, meta, children):
        return ast.Logical("and", children[0], children[1], self.span(meta))

    def not_op(self, meta, children):
        return ast.Not(children[0], self.span(meta))

    def compare(self, meta, children):
        left, operator, right = children
        return ast.Compare(operator.value, left, right, self.token_span(operator), self.span(meta))

    def arithmetic(self, meta, children):
        left, operator, right = children
        if isinstance(operator, tuple):  # a `sign` child: (text, span)
            text, span = operator
        else:
            text, span = operator.value, self.token_span(operator)
        return ast.Arithmetic(text, left, right, span, self.span(meta))

    def signed(self, meta, children):
        (sign, _), operand = children
        if sign == "+":
            return operand
        return ast.Negate(operand, self.span(meta))

    def number(self, meta, children):
        token = children[0]
        return ast.NumberLiteral(Decimal(token.value), token.value, self.token_span(token))

    def percent(self, meta, children):
        token = children[0]
        return ast.PercentLiteral(_percent_value(token), token.value, self.token_span(token))

    def duration(self, meta, children):
        token = children[0]
        return ast.DurationLiteral(_duration_seconds(token.value), token.value, self.token_span(token))

    def string(self, meta, children):
        text = self._text(children[0])
        return ast.StringLiteral(text.value, text.span)

    def date(self, meta, children):
        token = children[0]
        return ast.DateLiteral(_date_value(token, self.sink) or date.min, self.token_span(token))

    def reference(self, meta, children):
        return ast.Reference(children[0].text, children[0].span)

    def score(self, meta, children):
        return ast.ScoreValue(self.span(meta))

    def grade_value(self, meta, children):
        return ast.GradeValue(self.span(meta))

    def rank_value(self, meta, children):
        return ast.RankValue(self.span(meta))

    def call(self, meta, children):
        function, *arguments = children
        return ast.Call(function, tuple(arguments), self.span(meta))

    def kpi_is(self, meta, children):
        return ast.KpiIs(self._text(children[0]), children[1], self.span(meta))

    def rank_condition(self, meta, children):
        direction, amount, *rest = children
        by = next((child for child in rest if _is_node(child)), None)
        within_team = any(isinstance(child, Token) and child.type == "WITHIN" for child in rest)
        is_percent = amount.type == "PERCENT"
        value = _percent_value(amount) if is_percent else Decimal(amount.value)
        return ast.RankCondition(
            direction.value, value, is_percent, self.token_span(amount), by, within_team, self.span(meta)
        )

    def signed_number(self, meta, children):
        if len(children) == 2:
            (sign, _), token = children
            return _signed(sign, token), self.span(meta)
        return Decimal(children[0].value), self.span(meta)

    def sign(self, meta, children):
        token = children[0]
        return token.value, self.token_span(token)

    def name(self, meta, children):
        token = children[0]
        return ast.Name(token.value, self.token_span(token))


def _signed(sign: str, token: Token) -> Decimal:
    value = Decimal(token.value)
    return -value if sign == "-" else value


def _percent_value(token: Token) -> Decimal:
    return Decimal(token.value[:-1]) / 100


def _duration_seconds(text: str) -> Decimal:
    for unit in ("min", "s", "h", "d"):
        if text.endswith(unit):
            return Decimal(text[: -len(unit)]) * SECONDS_PER_UNIT[unit]
    raise AssertionError(f"the grammar let through the duration {text!r}")


def _whole_number(token: Token, sink: DiagnosticSink) -> int:
    value = Decimal(token.value)
    if value != value.to_integral_value():
        sink.report("PR014", f"{token.value} is not a whole number", token_span(token), "write a whole number of days or periods")
    return int(value)


def _date_value(token: Token, sink: DiagnosticSink) -> date | None:
    try:
        return date.fromisoformat(token.value)
    except ValueError:
        sink.report("PR014", f"{token.value} is not a date", token_span(token), "write a real date as YYYY-MM-DD, for example 2026-12-31")
        return None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The policy (``None`` when the text does not parse) and the parse diagnostics."""

    policy: ast.Policy | None
    diagnostics: list[Diagnostic]


MAX_SYNTAX_ERRORS = 20


def parse_policy(source: SourceFile, parser: Lark | None = None, builder: type = AstBuilder) -> ParseResult:
    """Parse one policy file; lark's exceptions never leave this function.

    ``parser`` and ``builder`` default to the policy grammar's; a test file passes its own
    (:mod:`perfrules.policytest.parser`), so that both kinds of file share this boundary.

    On a syntax error the parser goes on where :mod:`perfrules.syntax_errors` knows a
    repair, so that one run reports the common mistakes of the whole file; a policy
    with any syntax error yields no AST (the checker does not run on guesses).
    """
    from perfrules.syntax_errors import SyntaxContext, brace_problem, explain

    sink = DiagnosticSink()
    parser = parser or policy_parser()
    syntax: list[Diagnostic] = []
    context: list[SyntaxContext] = []

    def on_error(error: UnexpectedInput) -> bool:
        if not context:
            context.append(SyntaxContext(source.text, parser))
        explanation = explain(error, context[0])
        diagnostic = explanation.diagnostic
        if not any(item.span == diagnostic.span and item.code == diagnostic.code for item in syntax):
            syntax.append(diagnostic)
        if explanation.repair is None or len(syntax) >= MAX_SYNTAX_ERRORS:
            return False
        try:
            explanation.repair(error.interactive_parser)
        except UnexpectedInput:
            return False
        return True

    policy = None
    try:
        tree = parser.parse(source.text, on_error=on_error)
        if not syntax and not report_deep_expressions(tree, sink):
            policy = builder(sink, source.path).transform(tree)
            report_huge_numbers(parser, source.text, sink)
    except UnexpectedInput as error:
        if not syntax:  # raised without passing through on_error
            syntax.append(explain(error, SyntaxContext(source.text, parser)).diagnostic)
    except VisitError as error:  # an AstBuilder bug: report it located, never a traceback
        sink.report("PR001", f"internal error while reading this policy: {error.orig_exc!r}", _error_span(error))
    except LarkError as error:
        sink.report("PR001", f"cannot parse this policy: {error}", Span(1, 1, 1, 2, 0, 1))
    if syntax:
        braces = brace_problem(context[0] if context else SyntaxContext(source.text, parser))
        if braces is not None:
            # What the parser met after an unbalanced brace is a consequence of it.
            syntax = [item for item in syntax if item.span.start < braces.span.start] + [braces]
        sink.items.extend(syntax)
        policy = None
    diagnostics = [
        Diagnostic(item.code, item.message, item.span, item.hint, source.path) for item in sink.items
    ]
    return ParseResult(policy, diagnostics)


# The parse-tree rules that are a level of an expression (:func:`perfrules.check.depth.expression_depth`).
EXPRESSION_LEVELS = frozenset({"or_op", "and_op", "not_op", "compare", "arithmetic", "signed", "call", "kpi_is",
                               "rank_condition"})


def report_deep_expressions(tree: Tree, sink: DiagnosticSink, has_lets: bool = True) -> bool:
    """PR116 for each expression nested deeper than evaluation can go, before any code
    recurses through it (the tree is walked with a stack); True if there was one.  Metric
    definitions share the rule names and the check (``has_lets=False``: they have no `let`)."""
    from perfrules.check.depth import MAX_EXPRESSION_DEPTH, report_too_deep

    deepest: dict[int, tuple[int, Tree]] = {}
    stack: list[tuple[Tree, int, Tree | None]] = [(tree, 0, None)]
    while stack:
        node, depth, outermost = stack.pop()
        if node.data in EXPRESSION_LEVELS and not _unary_plus(node):
            depth += 1
            outermost = outermost or node
            if depth > deepest.get(id(outermost), (0, None))[0]:
                deepest[id(outermost)] = (depth, outermost)
        stack.extend((child, depth, outermost) for child in node.children if isinstance(child, Tree))
    too_deep = [(depth, node) for depth, node in deepest.values() if depth > MAX_EXPRESSION_DEPTH]
    for depth, node in too_deep:
        report_too_deep(sink, depth, meta_span(node.meta), through_lets=False, has_lets=has_lets)
    return bool(too_deep)


def _unary_plus(node: Tree) -> bool:
    """``+x``: the builder drops the sign, so it is no level."""
    return node.data == "signed" and node.children[0].children[0].type == "PLUS"


LARGEST_NUMBER = Decimal("999999999999")


def report_huge_numbers(parser: Lark, text: str, sink: DiagnosticSink) -> None:
    """Numbers beyond what evaluation keeps exactly (a trillion, six decimals) are errors.

    A percentage is a fraction with two more decimals (``90.00001%`` is 0.9000001): evaluation
    would round it to 0.9, so that ``csat >= 90.00001%`` held at exactly 90%.  It may have
    four decimals."""
    for token in parser.lex(text):
        if token.type in ("NUMBER", "PERCENT", "DURATION"):
            digits = token.value.rstrip("%smindh")
            value = Decimal(digits)
            places = 4 if token.type == "PERCENT" else 6
            if value > LARGEST_NUMBER or (value and value.normalize().as_tuple().exponent < -places):  # 90.00000% is 90%
                hint = ("a percentage has at most four decimals (90.1234% is the fraction 0.901234)"
                        if places == 4 else "numbers go up to 999,999,999,999 with at most six decimals")
                sink.report("PR014", f"{token.value} is too large or too precise for perfrules", token_span(token), hint)


def _error_span(error: VisitError) -> Span:
    meta = getattr(error.obj, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta_span(meta)
    return Span(1, 1, 1, 2, 0, 1)
