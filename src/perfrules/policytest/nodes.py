"""The typed syntax tree of a test file: frozen dataclasses whose spans take no part in equality.

Values reuse the policy's literal nodes (``95%`` is an :class:`~perfrules.ast.PercentLiteral`
of 0.95), so that a value means in a test exactly what it means in a policy.  A test keeps
its agents and expectations in the order written (``items``), which ``fmt`` needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from perfrules import ast
from perfrules.ast import Span


@dataclass(frozen=True)
class Missing:
    """``NAME = missing``: the cell is empty."""

    span: Span = field(compare=False)


Value = Union[ast.NumberLiteral, ast.PercentLiteral, ast.DurationLiteral, ast.StringLiteral, ast.DateLiteral,
              ast.Name, Missing]


@dataclass(frozen=True)
class Assignment:
    """``csat = 92%``: a value of a metric (or of role, team, name, supervisor) for a row."""

    name: ast.Name
    value: Value
    span: Span = field(compare=False)


@dataclass(frozen=True)
class PeriodText:
    """A period as written (``2026-11``, ``2026-Q4``, ``2026``)."""

    text: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class TestPeriod:
    value: PeriodText
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Given:
    assignments: tuple[Assignment, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class AgentRow:
    """``agent A1 { ... }`` (a row in the test's period) or ``agent A1 in 2026-10 { ... }``."""

    agent: ast.Text
    period: PeriodText | None
    assignments: tuple[Assignment, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Field:
    """What an ``expect ... CMP VALUE`` compares: ``score``, ``bonus "name"``, ``kpi "name" points``..."""

    name: str  # score, base_score, rank, grade, veto, bonus_total, bonus, kpi points, kpi value
    subject: ast.Text | None  # the bonus's or KPI's name
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Expectation:
    """``expect ID ...``: ``form`` is compare, kpi_is, plan, no_plan, award, target or error."""

    agent: ast.Text
    form: str
    field: Field | None  # compare only
    subject: ast.Text | None  # the KPI, plan, award or target named
    operator: str | None  # compare only
    value: Value | None  # compare: the expected value; kpi_is and target: the level or status (a Name)
    body: Span = field(compare=False)  # the expectation after its agent, as reports quote it
    span: Span = field(compare=False)


@dataclass(frozen=True)
class TestCase:
    name: ast.Text
    items: tuple[AgentRow | Expectation, ...]
    span: Span = field(compare=False)

    @property
    def agents(self) -> list[AgentRow]:
        return [item for item in self.items if isinstance(item, AgentRow)]

    @property
    def expectations(self) -> list[Expectation]:
        return [item for item in self.items if isinstance(item, Expectation)]


@dataclass(frozen=True)
class TestFile:
    """``tests for "policy.perf" { ... }``; statements in source order."""

    policy: ast.Text
    statements: tuple[TestPeriod | Given | TestCase, ...]
    span: Span = field(compare=False)

    def of_type(self, kind: type) -> list:
        return [statement for statement in self.statements if isinstance(statement, kind)]

    @property
    def tests(self) -> list[TestCase]:
        return self.of_type(TestCase)
