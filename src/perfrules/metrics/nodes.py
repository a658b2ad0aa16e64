"""The typed syntax tree of a metric definitions file (frozen dataclasses, spans outside equality).

Expressions (filters, conditions, values) are the policy language's own nodes
(:mod:`perfrules.ast`: ``Compare``, ``Logical``, ``Reference``, literals...), plus
:class:`IsKnown` (``x is unknown``) and :class:`BoolLiteral`; so a condition is written
and compared the same way in both files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perfrules.ast import Expression, Name, Span, Text


@dataclass(frozen=True)
class IsKnown:
    """``x is known`` (``known`` true) or ``x is unknown``: empty or the unknown marker."""

    operand: Expression
    known: bool
    span: Span = field(compare=False)


@dataclass(frozen=True)
class BoolLiteral:
    value: bool
    span: Span = field(compare=False)


@dataclass(frozen=True)
class ColumnRef:
    """A column named in a source's settings: by a name, or by its header in quotes."""

    header: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class ColumnType:
    """``count``, ``duration in min``, ``timestamp "D/M/YYYY HH:MM"``."""

    name: Name
    unit: Name | None
    format: Text | None
    span: Span = field(compare=False)


@dataclass(frozen=True)
class SourceColumn:
    """``column NAME: TYPE [from "header"]``: how a column's cells are typed."""

    name: Name
    type: ColumnType
    header: Text | None
    span: Span = field(compare=False)

    @property
    def header_text(self) -> str:
        return self.header.value if self.header is not None else self.name.text


@dataclass(frozen=True)
class Setting:
    """One line of a source or roster block: ``agent server``, ``unknown "?"``, ``where ...``.

    ``kind`` says which (agent, period, where, latest, unknown, encoding, sheet; in a roster
    agent, role or the field's word); ``value`` is a ColumnRef, a Text, an expression, or
    for ``latest`` the tuple (key, order columns...)."""

    kind: str
    value: object
    span: Span = field(compare=False)
    word: Name | None = None  # a roster field as written (name, team, supervisor)


@dataclass(frozen=True)
class Source:
    name: Name
    path: Text
    columns: tuple[SourceColumn, ...]
    settings: tuple[Setting, ...]
    span: Span = field(compare=False)

    def settings_of(self, kind: str) -> list[Setting]:
        return [setting for setting in self.settings if setting.kind == kind]

    def setting(self, kind: str):
        found = self.settings_of(kind)
        return found[0].value if found else None


@dataclass(frozen=True)
class Roster:
    path: Text
    settings: tuple[Setting, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Aggregate:
    """``count``, ``share``, ``distinct``, ``sum``, ``average``, ``median``, ``min``, ``max``:
    over the value (None for count and share) of the rows of ``source`` where ``where`` holds."""

    function: str
    value: Expression | None
    source: Name | None
    where: Expression | None
    span: Span = field(compare=False)


@dataclass(frozen=True)
class MetricDefinition:
    name: Name
    type: Name
    unit: Name | None
    aggregate: Aggregate
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Definitions:
    name: Text
    period: Name | None
    role: Text | None
    sources: tuple[Source, ...]
    roster: Roster | None
    metrics: tuple[MetricDefinition, ...]
    statements: tuple  # every statement in order, for "given twice" checks
    span: Span = field(compare=False)
