"""Compiling policy expressions to DuckDB SQL over whole columns.

:class:`ExpressionCompiler` turns an AST expression into one SQL expression.  Names
resolve through a :class:`Scope`: metrics to typed columns, ``let`` values inlined
(so a definition may come anywhere in the file), ``score``/``rank``/``grade``,
KPI levels and rank conditions to columns of earlier stages of the plan.  The
semantics are those of the spec: exact decimals, missing (``NULL``) spreading through
arithmetic and functions, a comparison with a missing value false (never unknown),
a division by zero missing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from perfrules import ast
from perfrules.check.model import rank_key
from perfrules.engine.sql import DepthCut, StageValues, decimal_literal, divide, text_literal, times

COMPARISONS = {">=": ">=", "<=": "<=", ">": ">", "<": "<", "==": "=", "!=": "<>"}
# Conditions whose SQL is never NULL already: `condition` does not wrap them again.
NEVER_MISSING = (ast.Compare, ast.Logical, ast.Not, ast.KpiIs, ast.RankCondition)


@dataclass
class Scope:
    """What names mean at one stage of the plan (SQL expressions by name)."""

    metrics: dict[str, str]
    lets: dict[str, ast.Let]
    kpi_levels: dict[str, str] = field(default_factory=dict)
    score: str | None = None
    rank: str | None = None
    grade: str | None = None
    rank_conditions: dict[tuple, tuple[str, str]] = field(default_factory=dict)


class ExpressionCompiler:
    """AST expression → SQL text, within a :class:`Scope`.

    Operands that SQL would mention more than once (of ``*``, ``/``, ``min``, ``max``,
    ``clamp``) become columns of the current stage's :class:`StageValues`, computed once.
    """

    def __init__(self, scope: Scope):
        self.scope = scope
        self._names = itertools.count()
        self.values = StageValues(self._names)
        self._cut = DepthCut()

    def new_stage(self) -> StageValues:
        """Start a stage of the plan: the values collected from here on are its own."""
        self.values = StageValues(self._names)
        return self.values

    def times(self, left: str, right: str) -> str:
        return times(self.values.once(left), self.values.once(right))

    def divide(self, left: str, right: str) -> str:
        return divide(self.values.once(left), self.values.once(right))

    def condition(self, expression: ast.Expression) -> str:
        """A condition that is true or false, never NULL.

        Only a value that can be missing is wrapped in ``coalesce(…, false)``: DuckDB's
        common-subexpression pass takes time exponential in the depth of nested
        ``coalesce((… AND …), false)`` (a 40-deep chain of `and`s: 1.5 s, 60: 8 s), while
        the same conditions without the wrappers plan in milliseconds at 400 levels.
        """
        sql = self.compile(expression)
        return sql if isinstance(self._written_out(expression), NEVER_MISSING) else f"coalesce({sql}, false)"

    def _written_out(self, expression: ast.Expression) -> ast.Expression:
        """The expression a ``let`` name stands for (through a chain of lets), else itself."""
        while isinstance(expression, ast.Reference) and expression.name not in self.scope.metrics:
            expression = self.scope.lets[expression.name].expression
        return expression

    def compile(self, expression: ast.Expression) -> str:
        """The SQL of ``expression``; a deep one cut into values of the stage (:class:`DepthCut`)."""
        handler = getattr(self, "_" + type(expression).__name__)
        return self._cut.build(lambda: handler(expression), self.values, str, str)

    def _NumberLiteral(self, node: ast.NumberLiteral) -> str:
        return decimal_literal(node.value)

    def _PercentLiteral(self, node: ast.PercentLiteral) -> str:
        return decimal_literal(node.value)

    def _DurationLiteral(self, node: ast.DurationLiteral) -> str:
        return decimal_literal(node.seconds)

    def _StringLiteral(self, node: ast.StringLiteral) -> str:
        return text_literal(node.value)

    def _DateLiteral(self, node: ast.DateLiteral) -> str:
        return f"DATE {text_literal(node.value.isoformat())}"

    def _Reference(self, node: ast.Reference) -> str:
        if node.name in self.scope.metrics:
            return self.scope.metrics[node.name]
        return f"({self.compile(self.scope.lets[node.name].expression)})"

    def _ScoreValue(self, node) -> str:
        return self._known(self.scope.score, "score")

    def _RankValue(self, node) -> str:
        return self._known(self.scope.rank, "rank")

    def _GradeValue(self, node) -> str:
        return self._known(self.scope.grade, "grade")

    @staticmethod
    def _known(column: str | None, what: str) -> str:
        if column is None:  # the checker's phase rules make this unreachable
            raise AssertionError(f"{what} used before it is computed")
        return column

    def _KpiIs(self, node: ast.KpiIs) -> str:
        column = self.scope.kpi_levels[node.kpi.value]
        return f"coalesce({column} = {text_literal(node.level.text)}, false)"

    def _RankCondition(self, node: ast.RankCondition) -> str:
        position, size = self.scope.rank_conditions[rank_key(node)]
        return f"coalesce({position} <= {rank_cutoff(node, size)}, false)"

    def _Negate(self, node: ast.Negate) -> str:
        return f"(-{self.compile(node.operand)})"

    def _Not(self, node: ast.Not) -> str:
        return f"(NOT {self.condition(node.operand)})"

    def _Logical(self, node: ast.Logical) -> str:
        """A chain of one operator (`a and b and c`, lets written out) as one n-ary AND/OR:
        the same truth, one level of SQL rather than one per operand."""
        operands, pending = [], [node]
        while pending:
            current = self._written_out(pending.pop())
            if isinstance(current, ast.Logical) and current.operator == node.operator:
                pending += [current.right, current.left]
            else:
                operands.append(current)
        operator = " AND " if node.operator == "and" else " OR "
        return f"({operator.join(self.condition(operand) for operand in operands)})"

    def _Compare(self, node: ast.Compare) -> str:
        left, right = self.compile(node.left), self.compile(node.right)
        return f"coalesce(({left} {COMPARISONS[node.operator]} {right}), false)"

    def _Arithmetic(self, node: ast.Arithmetic) -> str:
        left, right = self.compile(node.left), self.compile(node.right)
        if node.operator == "*":
            return self.times(left, right)
        if node.operator == "/":
            return self.divide(left, right)
        return f"({left} {node.operator} {right})"

    def _Call(self, node: ast.Call) -> str:
        arguments = [self.compile(argument) for argument in node.arguments]
        name = node.function.text
        if name == "coalesce":
            return f"coalesce({', '.join(arguments)})"
        if name == "abs":
            return f"abs({arguments[0]})"
        if name == "round":
            return f"round({arguments[0]}, {int(node.arguments[1].value)})"
        arguments = [self.values.once(argument) for argument in arguments]
        any_missing = " OR ".join(f"{argument} IS NULL" for argument in arguments)
        if name == "clamp":
            value, low, high = arguments
            body = f"greatest({low}, least({value}, {high}))"
        else:
            body = f"{'least' if name == 'min' else 'greatest'}({', '.join(arguments)})"
        # least/greatest skip NULLs; the spec says a missing argument makes the result missing.
        return f"(CASE WHEN {any_missing} THEN NULL ELSE {body} END)"


def rank_cutoff(condition: ast.RankCondition, size: str) -> str:
    """The last position a ``top``/``bottom`` condition admits: ceil(P × N), or K."""
    if condition.is_percent:
        return f"ceil({times(decimal_literal(condition.amount), size)})"
    return decimal_literal(condition.amount)
