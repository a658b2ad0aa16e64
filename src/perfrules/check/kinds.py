"""The kinds pass: types and units of every expression (spec §4), and when values exist.

Each expression gets a :class:`Kind`.  ``percent``, ``count`` and ``number`` are
dimensionless and mix freely (giving ``number``); ``duration`` and ``money`` keep
their kind under multiplication or division by a dimensionless value and only add
to their own kind.  A percent compared with a plain number, or a duration with a
plain number, is the classic mistake of an HR author and gets its own code and a
hint with the corrected literal.

The same walk checks *when* a value exists.  A policy is evaluated in phases:
metrics, then KPI levels, then the score, then ranks, then the grade.  A KPI rule
cannot read the score, an adjustment cannot read a rank, a grade rule cannot read
the grade: each such use is reported where it is written (PR209).
"""

from __future__ import annotations

import enum
from decimal import Decimal

from perfrules import ast
from perfrules.check.coverage import is_fraction
from perfrules.check.symbols import Symbols, grade_declared, level_declared
from perfrules.diagnostics import DiagnosticSink, did_you_mean
from perfrules.values import plain


class Kind(enum.Enum):
    PERCENT = "percent"
    DURATION = "duration"
    COUNT = "count"
    NUMBER = "number"
    MONEY = "money"
    TEXT = "text"
    BOOL = "condition"
    DATE = "date"
    UNKNOWN = "unknown"  # an error was already reported; stay quiet about it


DIMENSIONLESS = {Kind.PERCENT, Kind.COUNT, Kind.NUMBER}
QUANTITIES = {Kind.DURATION, Kind.MONEY}
NUMERIC = DIMENSIONLESS | QUANTITIES
METRIC_KINDS = {
    "percent": Kind.PERCENT, "duration": Kind.DURATION, "count": Kind.COUNT,
    "number": Kind.NUMBER, "money": Kind.MONEY, "text": Kind.TEXT, "bool": Kind.BOOL,
}


class Phase(enum.IntEnum):
    """When a value is known during evaluation."""

    METRICS = 0
    KPIS = 1
    SCORE = 2
    RANK = 3
    GRADE = 4


PHASE_WORDS = {
    Phase.KPIS: "KPI levels", Phase.SCORE: "the score", Phase.RANK: "ranks", Phase.GRADE: "the grade",
}
FUNCTIONS = ("min", "max", "abs", "round", "clamp", "coalesce")
MAX_ROUND_DIGITS = 12  # exact values have at most six decimals; more digits than 12 only overflow


KIND_NAMES = {Kind.BOOL: "a condition", Kind.MONEY: "an amount of money", Kind.UNKNOWN: "unknown"}


def kind_name(kind: Kind) -> str:
    """``a percent``, ``an amount of money``, ``a condition``..."""
    return KIND_NAMES.get(kind, f"a {kind.value}")


CONDITION_EXAMPLES = {
    Kind.PERCENT: ">= 90%", Kind.DURATION: "<= 10min", Kind.COUNT: "> 0", Kind.NUMBER: ">= 1",
    Kind.MONEY: "> 0", Kind.TEXT: '== "..."', Kind.DATE: ">= 2026-01-01",
}


def _plain_number(expression: ast.Expression) -> Decimal | None:
    """The value of a bare number literal (``90``, ``-3``), else None."""
    if isinstance(expression, ast.NumberLiteral):
        return expression.value
    if isinstance(expression, ast.Negate) and isinstance(expression.operand, ast.NumberLiteral):
        return -expression.operand.value
    return None


class KindChecker:
    """Infers kinds and phases of expressions, reporting mistakes into the sink."""

    def __init__(self, symbols: Symbols, sink: DiagnosticSink, kpi_levels: dict[str, set[str]]):
        self.symbols = symbols
        self.sink = sink
        self.kpi_levels = kpi_levels
        self._let_kinds: dict[str, Kind] = {}
        self._let_phases: dict[str, Phase] = {}
        self._in_progress: set[str] = set()

    # ---- lets ------------------------------------------------------------------

    def let_kind(self, name: str) -> tuple[Kind, Phase]:
        if name in self._let_kinds:
            return self._let_kinds[name], self._let_phases[name]
        if name in self._in_progress:  # a cycle: reported by the cycles pass
            return Kind.UNKNOWN, Phase.METRICS
        self._in_progress.add(name)
        kind, phase = self.infer(self.symbols.lets[name].expression, Phase.GRADE, "a let")
        self._in_progress.discard(name)
        self._let_kinds[name], self._let_phases[name] = kind, phase
        return kind, phase

    # ---- entry points ------------------------------------------------------------

    def condition(self, expression: ast.Expression, allowed: Phase, where: str) -> None:
        kind, _ = self.infer(expression, allowed, where)
        if kind not in (Kind.BOOL, Kind.UNKNOWN):
            hint = None
            if isinstance(expression, ast.Reference) and kind in CONDITION_EXAMPLES:
                hint = f"compare it with a value, for example {expression.name} {CONDITION_EXAMPLES[kind]}"
            self.sink.report("PR205", f"a condition (true or false) is needed here, but this is {kind_name(kind)}", expression.span, hint)

    def value(self, expression: ast.Expression, allowed: Phase, where: str) -> Kind:
        kind, _ = self.infer(expression, allowed, where)
        if kind is Kind.BOOL:
            self.sink.report("PR206", "a value is needed here, but this is a condition", expression.span)
            return Kind.UNKNOWN
        return kind

    # ---- inference -----------------------------------------------------------------

    def infer(self, expression: ast.Expression, allowed: Phase, where: str) -> tuple[Kind, Phase]:
        method = getattr(self, "_" + type(expression).__name__)
        return method(expression, allowed, where)

    def _too_early(self, span: ast.Span, needed: Phase, allowed: Phase, where: str, what: str) -> None:
        if needed > allowed:
            self.sink.report(
                "PR209",
                f"{what} is not known yet in {where}: it needs {PHASE_WORDS[needed]}",
                span,
                "policies are evaluated in order: metrics, KPI levels, score, ranks, grade",
            )

    def _NumberLiteral(self, node, allowed, where):
        return Kind.NUMBER, Phase.METRICS

    def _PercentLiteral(self, node, allowed, where):
        return Kind.PERCENT, Phase.METRICS

    def _DurationLiteral(self, node, allowed, where):
        return Kind.DURATION, Phase.METRICS

    def _StringLiteral(self, node, allowed, where):
        return Kind.TEXT, Phase.METRICS

    def _DateLiteral(self, node, allowed, where):
        return Kind.DATE, Phase.METRICS

    def _Reference(self, node: ast.Reference, allowed, where):
        name = node.name
        if name in self.symbols.metrics:
            return METRIC_KINDS.get(self.symbols.metrics[name].type.text, Kind.UNKNOWN), Phase.METRICS
        if name in self.symbols.lets:
            kind, phase = self.let_kind(name)
            self._too_early(node.span, phase, allowed, where, f"'{name}'")
            return kind, phase
        if name in self.symbols.levels:
            self.sink.report("PR301", f"'{name}' is a level, not a value", node.span, f'to test a KPI\'s level write: kpi "name" is {name}')
        else:
            hint = did_you_mean(name, self.symbols.values) or (
                "did you mean `else`?" if did_you_mean(name, ["else"]) else "declare it with metric or let")
            self.sink.report("PR301", f"unknown name '{name}'", node.span, hint)
        return Kind.UNKNOWN, Phase.METRICS

    def _ScoreValue(self, node, allowed, where):
        self._too_early(node.span, Phase.SCORE, allowed, where, "`score`")
        return Kind.NUMBER, Phase.SCORE

    def _RankValue(self, node, allowed, where):
        self._too_early(node.span, Phase.RANK, allowed, where, "`rank`")
        return Kind.COUNT, Phase.RANK

    def _GradeValue(self, node, allowed, where):
        self._too_early(node.span, Phase.GRADE, allowed, where, "`grade`")
        return Kind.TEXT, Phase.GRADE

    def _KpiIs(self, node: ast.KpiIs, allowed, where):
        self._too_early(node.span, Phase.KPIS, allowed, where, "a KPI's level")
        kpi_name = node.kpi.value
        level = node.level.text
        if kpi_name not in self.symbols.kpis:
            hint = did_you_mean(kpi_name, self.symbols.kpis, quote='"')
            self.sink.report("PR304", f'unknown KPI "{kpi_name}"', node.kpi.span, hint)
        elif level not in self.symbols.levels:
            level_declared(node.level, self.symbols, self.sink)
        elif level not in self.kpi_levels.get(kpi_name, set()):
            self.sink.report("PR309", f'the KPI "{kpi_name}" never gives the level \'{level}\', so this is never true', node.level.span)
        return Kind.BOOL, Phase.KPIS

    def _RankCondition(self, node: ast.RankCondition, allowed, where):
        needed = Phase.RANK
        if node.by is not None:
            kind, by_phase = self.infer(node.by, Phase.SCORE, "a `by` ranking")
            if kind not in NUMERIC | {Kind.UNKNOWN}:
                self.sink.report("PR213", f"agents can only be ranked by a number, but this is {kind_name(kind)}", node.by.span)
        self._too_early(node.span, needed, allowed, where, f"`{node.direction}`")
        if node.is_percent and not 0 < node.amount <= 1:
            self.sink.report("PR014", f"`{node.direction}` takes a share from above 0% to 100%", node.amount_span)
        if not node.is_percent and (node.amount < 1 or node.amount != node.amount.to_integral_value()):
            hint = f"write {node.direction} {plain(node.amount)}% for a share" if 0 < node.amount < 1 else None
            self.sink.report("PR014", f"`{node.direction}` takes a whole number of agents from 1, or a percentage", node.amount_span, hint)
        return Kind.BOOL, needed

    def _Negate(self, node: ast.Negate, allowed, where):
        kind, phase = self.infer(node.operand, allowed, where)
        if kind not in NUMERIC | {Kind.UNKNOWN}:
            self.sink.report("PR204", f"`-` cannot negate {kind_name(kind)}", node.span)
            return Kind.UNKNOWN, phase
        return (Kind.NUMBER if kind in DIMENSIONLESS else kind), phase

    def _Not(self, node: ast.Not, allowed, where):
        kind, phase = self.infer(node.operand, allowed, where)
        if kind not in (Kind.BOOL, Kind.UNKNOWN):
            self.sink.report("PR205", f"`not` needs a condition, but this is {kind_name(kind)}", node.operand.span)
        return Kind.BOOL, phase

    def _Logical(self, node: ast.Logical, allowed, where):
        phases = []
        for side in (node.left, node.right):
            kind, phase = self.infer(side, allowed, where)
            phases.append(phase)
            if kind not in (Kind.BOOL, Kind.UNKNOWN):
                self.sink.report("PR205", f"`{node.operator}` joins conditions, but this is {kind_name(kind)}", side.span)
        return Kind.BOOL, max(phases)

    def _Arithmetic(self, node: ast.Arithmetic, allowed, where):
        left, left_phase = self.infer(node.left, allowed, where)
        right, right_phase = self.infer(node.right, allowed, where)
        phase = max(left_phase, right_phase)
        if Kind.UNKNOWN in (left, right):
            return Kind.UNKNOWN, phase
        # A bare number stands for an amount of money next to money (there is no money literal).
        if left is Kind.MONEY and _plain_number(node.right) is not None:
            right = Kind.MONEY if node.operator in "+-" else right
        if right is Kind.MONEY and _plain_number(node.left) is not None:
            left = Kind.MONEY if node.operator in "+-" else left
        result = arithmetic_kind(node.operator, left, right)
        if result is None:
            hint = None
            number = _plain_number(node.left) if _plain_number(node.left) is not None else _plain_number(node.right)
            if where == "a points formula" and Kind.DURATION in (left, right):
                hint = "points are a plain number: divide a duration by a unit, for example aht / 1min"
            elif node.operator in "+-" and Kind.DURATION in (left, right) and number is not None:
                hint = f"write a unit: {plain(number)}min"
            self.sink.report(
                "PR204",
                f"`{node.operator}` cannot combine {kind_name(left)} and {kind_name(right)}",
                node.operator_span,
                hint,
            )
            return Kind.UNKNOWN, phase
        return result, phase

    def _Compare(self, node: ast.Compare, allowed, where):
        left, left_phase = self.infer(node.left, allowed, where)
        right, right_phase = self.infer(node.right, allowed, where)
        phase = max(left_phase, right_phase)
        if Kind.UNKNOWN not in (left, right):
            self._comparison(node, left, right)
        return Kind.BOOL, phase

    def linear_end(self, measure: ast.Expression, end: ast.Expression) -> None:
        """An end of ``points linear X from A => P to B => Q``: in the unit of X."""
        measure_kind, _ = self.infer(measure, Phase.METRICS, "a KPI rule")
        end_kind, _ = self.infer(end, Phase.METRICS, "a KPI rule")
        if Kind.UNKNOWN not in (measure_kind, end_kind):
            self._comparison(ast.Compare(">=", measure, end, end.span, end.span), measure_kind, end_kind,
                             "an end of `points linear` on")

    def _comparison(self, node: ast.Compare, left: Kind, right: Kind, phrase: str | None = None) -> None:
        for value_side, value_kind, other_side, other_kind in (
            (node.left, left, node.right, right),
            (node.right, right, node.left, left),
        ):
            number = _plain_number(other_side)
            if number is None:
                continue
            if value_kind is Kind.PERCENT and is_fraction(number):
                continue  # `resolution_rate >= 0.95` is `>= 95%` exactly (spec §4)
            if value_kind is Kind.PERCENT:
                suggestion = plain(number * 100) if 0 < abs(number) < 1 else plain(number)
                message = (f"{phrase} {self._describe(value_side, value_kind)} must be a percentage, not the plain number {plain(number)}"
                           if phrase else f"{self._describe(value_side, value_kind)} compared with the plain number {plain(number)}")
                hint = "did you mean 1% or 100%?" if number == 1 else f"did you mean {suggestion}%?"
                self.sink.report("PR201", message, other_side.span, hint)
                return
            if value_kind is Kind.DURATION:
                unit = self._unit_of(value_side)
                message = (f"{phrase} {self._describe(value_side, value_kind)} needs a unit, not the plain number {plain(number)}"
                           if phrase else f"{self._describe(value_side, value_kind)} compared with the plain number {plain(number)}")
                self.sink.report(
                    "PR202",
                    message,
                    other_side.span,
                    f"write a unit: {plain(number)}{unit}",
                )
                return
        if Kind.BOOL in (left, right):
            self.sink.report("PR203", f"`{node.operator}` cannot compare conditions; join them with and / or", node.operator_span)
            return
        if Kind.TEXT in (left, right) or Kind.DATE in (left, right):
            if left is not right:
                self._incompatible(node, left, right)
            elif left is Kind.TEXT and node.operator not in ("==", "!="):
                self.sink.report("PR210", f"texts can only be compared with == or !=, not `{node.operator}`", node.operator_span)
            elif left is Kind.TEXT:
                self._grade_text(node)
            return
        if left in DIMENSIONLESS and right in DIMENSIONLESS:
            return
        if left is right:
            return
        if Kind.MONEY in (left, right) and {left, right} <= {Kind.MONEY, Kind.NUMBER, Kind.COUNT}:
            return
        self._incompatible(node, left, right)

    def _incompatible(self, node: ast.Compare, left: Kind, right: Kind) -> None:
        self.sink.report(
            "PR203",
            f"{self._describe(node.left, left)} compared with {self._describe(node.right, right)}",
            node.operator_span,
        )

    def _grade_text(self, node: ast.Compare) -> None:
        """``grade == "优秀"``: the grade must be one the policy can give."""
        for grade_side, text_side in ((node.left, node.right), (node.right, node.left)):
            if isinstance(grade_side, ast.GradeValue) and isinstance(text_side, ast.StringLiteral):
                grade_declared(ast.Text(text_side.value, text_side.span), self.symbols, self.sink)

    def _describe(self, expression: ast.Expression, kind: Kind) -> str:
        if isinstance(expression, ast.Reference):
            what = "metric" if expression.name in self.symbols.metrics else "value"
            return f"{kind.value} {what} '{expression.name}'"
        if isinstance(expression, (ast.PercentLiteral, ast.DurationLiteral, ast.NumberLiteral)):
            return f"the {kind.value} {expression.text}"
        if isinstance(expression, ast.StringLiteral):
            return f'the text "{expression.value}"'
        return kind_name(kind)

    def _unit_of(self, expression: ast.Expression) -> str:
        if isinstance(expression, ast.Reference) and expression.name in self.symbols.metrics:
            return self.symbols.metrics[expression.name].unit or "s"
        return "min"

    def _Call(self, node: ast.Call, allowed, where):
        name = node.function.text
        kinds = []
        phase = Phase.METRICS
        for argument in node.arguments:
            kind, argument_phase = self.infer(argument, allowed, where)
            kinds.append(kind)
            phase = max(phase, argument_phase)
        if name not in FUNCTIONS:
            hint = did_you_mean(name, FUNCTIONS) or f"functions are: {', '.join(FUNCTIONS)}"
            self.sink.report("PR307", f"unknown function '{name}'", node.function.span, hint)
            return Kind.UNKNOWN, phase
        expected = {"abs": (1, 1), "round": (2, 2), "clamp": (3, 3)}.get(name, (2, None))
        low, high = expected
        if len(kinds) < low or (high is not None and len(kinds) > high):
            count = str(low) if low == high else f"at least {low}"
            self.sink.report("PR207", f"{name}() takes {count} argument{'s' if low != 1 else ''}, not {len(kinds)}", node.span)
            return Kind.UNKNOWN, phase
        if Kind.UNKNOWN in kinds:
            return Kind.UNKNOWN, phase
        if name == "coalesce" and len(set(kinds)) == 1:  # coalesce(shift, "白班") keeps any kind
            return kinds[0], phase
        for argument, kind in zip(node.arguments, kinds):
            if kind not in NUMERIC:
                self.sink.report("PR207", f"{name}() needs numbers, but this is {kind_name(kind)}", argument.span)
                return Kind.UNKNOWN, phase
        if name == "round":
            digits = node.arguments[1]
            if not isinstance(digits, ast.NumberLiteral) or digits.value != digits.value.to_integral_value():
                self.sink.report("PR207", "round() takes a whole number of digits, like round(x, 2)", digits.span)
            elif digits.value > MAX_ROUND_DIGITS:
                self.sink.report("PR207", f"round() keeps 0 to {MAX_ROUND_DIGITS} digits, not {digits.text}", digits.span,
                                 "values have at most six decimals; round(x, 2) keeps cents")

            return _keep_quantity(kinds[0]), phase
        if name == "abs":
            return _keep_quantity(kinds[0]), phase
        quantities = {kind for kind in kinds if kind in QUANTITIES}
        if not quantities:
            return (kinds[0] if len(set(kinds)) == 1 else Kind.NUMBER), phase
        quantity = quantities.pop()
        # A bare number may stand beside money (`max(0, base_salary)`), as in arithmetic.
        mixable = not quantities and all(
            kind is quantity or (quantity is Kind.MONEY and _plain_number(argument) is not None)
            for argument, kind in zip(node.arguments, kinds)
        )
        if not mixable:
            names = ", ".join(sorted({kind.value for kind in kinds}))
            self.sink.report("PR207", f"{name}() cannot mix {names}", node.span)
            return Kind.UNKNOWN, phase
        return quantity, phase


def _keep_quantity(kind: Kind) -> Kind:
    return kind if kind in QUANTITIES else Kind.NUMBER if kind in DIMENSIONLESS else kind


def arithmetic_kind(operator: str, left: Kind, right: Kind) -> Kind | None:
    """The kind of ``left operator right``, or None when the two do not combine."""
    if left not in NUMERIC or right not in NUMERIC:
        return None
    if left in DIMENSIONLESS and right in DIMENSIONLESS:
        return Kind.NUMBER
    if operator in "+-":
        return left if left is right else None
    if operator == "*":
        if left in QUANTITIES and right in DIMENSIONLESS:
            return left
        if right in QUANTITIES and left in DIMENSIONLESS:
            return right
        return None
    if left in QUANTITIES and right in DIMENSIONLESS:
        return left
    if left is right:
        return Kind.NUMBER
    return None
