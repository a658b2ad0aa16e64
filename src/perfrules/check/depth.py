"""The depth pass: an expression nested deeper than evaluation can go is an error (PR116).

The engine compiles each expression into one DuckDB SQL expression, writing every
``let`` out where it is used, and DuckDB refuses an expression nested more than 1,000
deep (``max_expression_depth``).  Each level of a policy expression costs at most two
levels of SQL (a comparison is ``coalesce((a >= b), false)``, an operator keeps its
brackets), and a ``let`` written out adds its brackets; :data:`MAX_EXPRESSION_DEPTH`
levels therefore stay under DuckDB's limit with room for the plan around them
(docs/diagnostics.md, PR116, has the measurements).  The parser refuses a deeper tree
before building it (so no pass recurses through one); this pass adds the depth of the
``let`` values each expression uses.  Everything here walks with explicit stacks.
"""

from __future__ import annotations

import dataclasses
import typing

from perfrules import ast
from perfrules.check.symbols import Symbols
from perfrules.diagnostics import DiagnosticSink

MAX_EXPRESSION_DEPTH = 400

_EXPRESSION_TYPES = typing.get_args(ast.Expression)
_LEAVES = (ast.NumberLiteral, ast.PercentLiteral, ast.DurationLiteral, ast.StringLiteral, ast.DateLiteral,
           ast.ScoreValue, ast.GradeValue, ast.RankValue)


def report_too_deep(sink: DiagnosticSink, depth: int, span: ast.Span, through_lets: bool, has_lets: bool = True) -> None:
    """PR116 for an expression ``depth`` levels deep (``through_lets``: only because of its lets;
    ``has_lets``: the language has `let`, a policy's does, metric definitions' not)."""
    if through_lets:
        sink.report("PR116", f"this expression is nested {depth} levels deep once the `let` values it uses are "
                    f"written out; perfrules can evaluate at most {MAX_EXPRESSION_DEPTH}", span,
                    "each `let` is written out where it is used, so a chain of `let` values nests like one "
                    "expression: make the chain shorter")
        return
    lets = "; `let` values do not help, each is written out where it is used" if has_lets else ""
    sink.report("PR116", f"this expression is nested {depth} levels deep; perfrules can evaluate at most "
                f"{MAX_EXPRESSION_DEPTH}", span,
                "write it less deeply, for example a long run of `and`, `or` or `+` in groups: `(a and b) and (c and d)` "
                f"is 2 levels, `a and b and c and d` is 3{lets}")


def check_depth(policy: ast.Policy, symbols: Symbols, sink: DiagnosticSink) -> None:
    """Report each expression (a ``let`` or a statement's) too deep to evaluate, once.

    A ``let`` too deep is reported at its definition, and what uses it is not reported
    again; let cycles (PR306) count as no depth.
    """
    let_depths = _let_depths(symbols)
    too_deep = {name for name, depth in let_depths.items() if depth > MAX_EXPRESSION_DEPTH}
    roots = [(let.expression, name) for name, let in symbols.lets.items()]
    roots += [(expression, None) for statement in policy.statements if not isinstance(statement, ast.Let)
              for expression in _expressions_of(statement)]
    for expression, own_name in roots:
        depth = expression_depth(expression, let_depths)
        if depth <= MAX_EXPRESSION_DEPTH:
            continue
        uses = {node.name for node in ast.walk(expression) if isinstance(node, ast.Reference)}
        if (uses & too_deep) - {own_name}:
            continue  # the let it uses is reported
        report_too_deep(sink, depth, expression.span, expression_depth(expression, {}) <= MAX_EXPRESSION_DEPTH)


def expression_depth(expression: ast.Expression, let_depths: dict[str, int]) -> int:
    """Levels of nesting: each operator, comparison, sign, call, ``kpi ... is``, ``top``/``bottom``
    and use of a ``let`` (with the depth of the let, from ``let_depths``) is one level."""
    depths: dict[int, int] = {}
    stack: list[tuple[ast.Expression, bool]] = [(expression, False)]
    while stack:
        node, visited = stack.pop()
        children = ast.children(node)
        if not visited and children:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        if isinstance(node, ast.Reference):
            depth = 1 + let_depths[node.name] if node.name in let_depths else 0
        elif isinstance(node, _LEAVES):
            depth = 0
        else:
            depth = 1 + max((depths[id(child)] for child in children), default=0)
        depths[id(node)] = depth
    return depths[id(expression)]


def _let_depths(symbols: Symbols) -> dict[str, int]:
    """The depth of every ``let`` with the lets it uses written out, dependencies first."""
    uses = {name: {node.name for node in ast.walk(let.expression)
                   if isinstance(node, ast.Reference) and node.name in symbols.lets}
            for name, let in symbols.lets.items()}
    depths: dict[str, int] = {}
    in_progress: set[str] = set()
    for start in symbols.lets:
        stack = [start]
        while stack:
            name = stack[-1]
            if name in depths:
                stack.pop()
                continue
            waiting = [used for used in uses[name] if used not in depths and used not in in_progress]
            if waiting:
                in_progress.add(name)
                stack.extend(waiting)
                continue
            in_progress.discard(name)
            depths[name] = expression_depth(symbols.lets[name].expression,
                                            {used: depths.get(used, 0) for used in uses[name]})
            stack.pop()
    return depths


def _expressions_of(statement) -> list[ast.Expression]:
    """The outermost expressions a statement holds, wherever they stand in it."""
    found = []
    stack = [statement]
    while stack:
        item = stack.pop()
        if isinstance(item, _EXPRESSION_TYPES):
            found.append(item)
        elif isinstance(item, tuple):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, ast.Span):
            stack.extend(getattr(item, field.name) for field in dataclasses.fields(item))
    return found
