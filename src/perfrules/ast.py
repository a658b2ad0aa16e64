"""The typed syntax tree of a policy: frozen dataclasses, each with a source span.

The parser (:mod:`perfrules.parser`) builds these nodes from lark's parse tree; every
later pass (checking, planning, evaluation, explanation, reports) reads them and
never goes back to lark.  Numbers are exact :class:`~decimal.Decimal` values: ``95%``
is ``Decimal("0.95")`` and ``10min`` is ``Decimal("600")`` seconds.  A rule whose
``condition`` is ``None`` is an ``else`` rule.  Nodes compare by structure: spans take no
part in equality, so the same policy laid out differently gives equal trees (``fmt``
and ``diff`` rely on it) and a rule is never identified by where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Union


@dataclass(frozen=True)
class Span:
    """Where a node stands in its file: 1-based line/column, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int
    # The display path of the file the node is written in.  A policy that extends another
    # is one tree of nodes from several files; each diagnostic and each rule shown as
    # written reads its file from here.  Like every span, it takes no part in equality.
    file: str = field(default="", compare=False)

    def through(self, other: "Span") -> "Span":
        """The span that runs from the start of this one to the end of ``other``."""
        return Span(self.line, self.column, other.end_line, other.end_column, self.start, other.end, self.file)


@dataclass(frozen=True)
class Name:
    """An identifier as written, with its span."""

    text: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Text:
    """A quoted string after its escapes were decoded, with the span of the quotes."""

    value: str
    span: Span = field(compare=False)


# ---- expressions -----------------------------------------------------------------


@dataclass(frozen=True)
class NumberLiteral:
    value: Decimal
    text: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class PercentLiteral:
    """``95%``: ``value`` is the fraction 0.95."""

    value: Decimal
    text: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class DurationLiteral:
    """``10min``: ``seconds`` is 600."""

    seconds: Decimal
    text: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class StringLiteral:
    value: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class DateLiteral:
    value: date
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Reference:
    """A metric or ``let`` name used in an expression."""

    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class ScoreValue:
    span: Span = field(compare=False)


@dataclass(frozen=True)
class GradeValue:
    span: Span = field(compare=False)


@dataclass(frozen=True)
class RankValue:
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Call:
    function: Name
    arguments: tuple["Expression", ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class KpiIs:
    """``kpi "name" is LEVEL``."""

    kpi: Text
    level: Name
    span: Span = field(compare=False)


@dataclass(frozen=True)
class RankCondition:
    """``top 30%``, ``bottom 2 by csat within team`` (spec §9)."""

    direction: str  # "top" | "bottom"
    amount: Decimal  # a fraction for percentages, a count otherwise
    is_percent: bool
    amount_span: Span = field(compare=False)
    by: "Expression | None"
    within_team: bool
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Negate:
    """Unary ``-x`` (a unary ``+`` is dropped by the parser)."""

    operand: "Expression"
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Arithmetic:
    operator: str  # + - * /
    left: "Expression"
    right: "Expression"
    operator_span: Span = field(compare=False)
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Compare:
    operator: str  # >= <= == != > <
    left: "Expression"
    right: "Expression"
    operator_span: Span = field(compare=False)
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Logical:
    operator: str  # "and" | "or"
    left: "Expression"
    right: "Expression"
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Not:
    operand: "Expression"
    span: Span = field(compare=False)


Literal = Union[NumberLiteral, PercentLiteral, DurationLiteral, StringLiteral, DateLiteral]
Expression = Union[
    NumberLiteral, PercentLiteral, DurationLiteral, StringLiteral, DateLiteral, Reference,
    ScoreValue, GradeValue, RankValue, Call, KpiIs, RankCondition, Negate, Arithmetic,
    Compare, Logical, Not,
]


def children(expression: Expression) -> tuple[Expression, ...]:
    """The direct sub-expressions of an expression, left to right."""
    match expression:
        case Arithmetic(left=left, right=right) | Compare(left=left, right=right) | Logical(
            left=left, right=right
        ):
            return (left, right)
        case Negate(operand=operand) | Not(operand=operand):
            return (operand,)
        case Call(arguments=arguments):
            return arguments
        case RankCondition(by=by) if by is not None:
            return (by,)
    return ()


def walk(expression: Expression):
    """Every node of an expression, parents before children."""
    stack = [expression]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


# ---- statements ------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    value: Text
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Roles:
    roles: tuple[Name, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Period:
    value: Name
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Language:
    value: Name
    span: Span = field(compare=False)


@dataclass(frozen=True)
class MetricOption:
    """One option of a ``metric`` line, kept as written so duplicates can be reported.

    ``kind`` is one of ``unit``, ``label``, ``direction``, ``column``, ``sample``;
    ``value`` is a :class:`Name` (unit, sample count metric), a :class:`Text` (label,
    column) or the string ``"higher"``/``"lower"``; ``minimum`` is set for ``sample``.
    """

    kind: str
    value: object
    span: Span = field(compare=False)
    minimum: Decimal | None = None


@dataclass(frozen=True)
class Metric:
    name: Name
    type: Name
    options: tuple[MetricOption, ...]
    span: Span = field(compare=False)

    def option(self, kind: str) -> MetricOption | None:
        for option in self.options:
            if option.kind == kind:
                return option
        return None

    @property
    def unit(self) -> str | None:
        option = self.option("unit")
        return option.value.text if option else None

    @property
    def label(self) -> str | None:
        option = self.option("label")
        return option.value.value if option else None

    @property
    def direction(self) -> str | None:
        option = self.option("direction")
        return option.value if option else None

    @property
    def column(self) -> str:
        option = self.option("column")
        return option.value.value if option else self.name.text

    @property
    def sample(self) -> tuple[str, Decimal] | None:
        option = self.option("sample")
        return (option.value.text, option.minimum) if option else None


@dataclass(frozen=True)
class Let:
    name: Name
    expression: Expression
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Level:
    name: Name
    label: Text | None
    points: Decimal
    points_span: Span = field(compare=False)
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Levels:
    levels: tuple[Level, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class MissingExclude:
    span: Span = field(compare=False)


@dataclass(frozen=True)
class MissingLevel:
    level: Name
    span: Span = field(compare=False)


@dataclass(frozen=True)
class MissingPoints:
    points: Decimal
    span: Span = field(compare=False)


MissingClause = Union[MissingExclude, MissingLevel, MissingPoints]


@dataclass(frozen=True)
class LevelOutcome:
    level: Name
    span: Span = field(compare=False)


@dataclass(frozen=True)
class PointsOutcome:
    points: Decimal
    span: Span = field(compare=False)


Outcome = Union[LevelOutcome, PointsOutcome]


@dataclass(frozen=True)
class Measure:
    expression: Expression
    span: Span = field(compare=False)


@dataclass(frozen=True)
class KpiRule:
    condition: Expression | None
    outcome: Outcome
    span: Span = field(compare=False)


@dataclass(frozen=True)
class PointsLinear:
    """``points linear X from A => P to B => Q``."""

    measure: Expression
    from_value: Expression
    from_points: Decimal
    to_value: Expression
    to_points: Decimal
    span: Span = field(compare=False)


@dataclass(frozen=True)
class PointsFormula:
    expression: Expression
    span: Span = field(compare=False)


KpiLine = Union[Measure, KpiRule, PointsLinear, PointsFormula]


@dataclass(frozen=True)
class Kpi:
    name: Text
    weight: Decimal
    weight_span: Span = field(compare=False)
    missing: MissingClause | None
    lines: tuple[KpiLine, ...]
    span: Span = field(compare=False)

    @property
    def rules(self) -> tuple[KpiRule, ...]:
        return tuple(line for line in self.lines if isinstance(line, KpiRule))


@dataclass(frozen=True)
class AdjustPer:
    """``+2 per qa_commendations "label"``."""

    amount: Decimal
    per: Expression
    label: Text
    span: Span = field(compare=False)


@dataclass(frozen=True)
class AdjustWhen:
    """``+3 when COND "label"``."""

    amount: Decimal
    condition: Expression
    label: Text
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Limit:
    low: Decimal
    high: Decimal
    span: Span = field(compare=False)


AdjustLine = Union[AdjustPer, AdjustWhen, Limit]


@dataclass(frozen=True)
class Adjust:
    name: Text
    lines: tuple[AdjustLine, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class ScoreLimit:
    limit: Limit
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Veto:
    name: Text
    condition: Expression
    grade: Text
    span: Span = field(compare=False)


@dataclass(frozen=True)
class GradeRule:
    condition: Expression | None
    grade: Text
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Grade:
    rules: tuple[GradeRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class AmountExpression:
    expression: Expression
    span: Span = field(compare=False)


@dataclass(frozen=True)
class AmountShare:
    """``10% of base_salary``."""

    share: Decimal
    of: Expression
    span: Span = field(compare=False)


@dataclass(frozen=True)
class AmountShareRange:
    """``10%..20% of base_salary``, only under a single ``top`` condition."""

    low: Decimal
    high: Decimal
    of: Expression
    span: Span = field(compare=False)


Amount = Union[AmountExpression, AmountShare, AmountShareRange]


@dataclass(frozen=True)
class BonusRule:
    condition: Expression | None
    amount: Amount
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Bonus:
    name: Text
    rules: tuple[BonusRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class PlanAction:
    text: Text
    days: int
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Plan:
    name: Text
    condition: Expression
    actions: tuple[PlanAction, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class SwotItem:
    kind: str  # strength | weakness | opportunity | threat
    text: Text
    condition: Expression
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Swot:
    items: tuple[SwotItem, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Award:
    """``award "金牌客服" when COND for 3 periods`` (spec §14); ``periods`` None means 1."""

    title: Text
    condition: Expression
    periods: int | None
    span: Span = field(compare=False)


@dataclass(frozen=True)
class TargetLine:
    """``csat >= 92% by 2026-12-31 from 2026-10-01``: ``baseline`` is the expression after
    ``from`` (a :class:`DateLiteral` is the day the target was set, anything else a value)."""

    metric: Name
    operator: str
    value: Expression
    deadline: date | None
    baseline: Expression | None
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Target:
    """A SMART target (spec §13): goal lines with deadlines, for some roles or (empty) all."""

    name: Text
    roles: tuple[Name, ...]
    lines: tuple[TargetLine, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Remove:
    """``remove kpi "name"``: drop a statement inherited through ``extends`` (spec §12).

    ``kind`` is the keyword: kpi, adjust, veto, bonus, plan, target or award.
    """

    kind: str
    name: Text
    span: Span = field(compare=False)


Statement = Union[
    Version, Roles, Period, Language, Metric, Let, Levels, Kpi, Adjust, ScoreLimit, Veto,
    Grade, Bonus, Plan, Swot, Award, Target, Remove,
]


@dataclass(frozen=True)
class Policy:
    """One ``policy "name" { ... }``; statements in source order."""

    name: Text
    extends: Text | None
    statements: tuple[Statement, ...]
    span: Span = field(compare=False)

    def of_type(self, kind: type) -> list:
        return [statement for statement in self.statements if isinstance(statement, kind)]

    def first(self, kind: type):
        found = self.of_type(kind)
        return found[0] if found else None

    @property
    def metrics(self) -> list[Metric]:
        return self.of_type(Metric)

    @property
    def lets(self) -> list[Let]:
        return self.of_type(Let)

    @property
    def kpis(self) -> list[Kpi]:
        return self.of_type(Kpi)

    @property
    def levels(self) -> list[Level]:
        return [level for block in self.of_type(Levels) for level in block.levels]

    @property
    def roles(self) -> list[Name]:
        return [role for statement in self.of_type(Roles) for role in statement.roles]

    @property
    def language(self) -> str:
        statement = self.first(Language)
        return statement.value.text if statement else "zh"

    @property
    def period(self) -> str:
        statement = self.first(Period)
        return statement.value.text if statement else "month"

    @property
    def is_base(self) -> bool:
        """A policy without ``roles`` is a base: only used through ``extends`` (spec §12)."""
        return not self.of_type(Roles)

    @property
    def version(self) -> str:
        statement = self.first(Version)
        return statement.value.value if statement else ""
