"""A small typed SQL tree for the metrics query: nodes render themselves, quoting as they go.

Names go through :func:`perfrules.engine.sql.identifier` and every value from a
definitions file (a text compared with, the unknown marker, a file's path) through
:func:`~perfrules.engine.sql.text_literal` or ``decimal_literal``: no user text is ever
pasted into SQL.  :class:`Fragment` holds SQL that perfrules' own builders made (the
cell typing of :mod:`perfrules.data.cells`, the exact division macros).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from perfrules.engine.sql import decimal_literal, identifier, text_literal


class Node:
    def sql(self) -> str:  # pragma: no cover - every node defines it
        raise NotImplementedError


@dataclass(frozen=True)
class Fragment(Node):
    """SQL built by perfrules itself (never from user text)."""

    text: str

    def sql(self) -> str:
        return f"({self.text})"


@dataclass(frozen=True)
class Col(Node):
    name: str

    def sql(self) -> str:
        return identifier(self.name)


@dataclass(frozen=True)
class Lit(Node):
    value: object

    def sql(self) -> str:
        value = self.value
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, Decimal)):
            return decimal_literal(value)
        if isinstance(value, date):
            return f"CAST({text_literal(value.isoformat())} AS TIMESTAMP)"
        return text_literal(str(value))


@dataclass(frozen=True)
class Fn(Node):
    name: str  # a fixed function name of perfrules' own
    args: tuple[Node, ...]

    def sql(self) -> str:
        return f"{self.name}({', '.join(arg.sql() for arg in self.args)})"


def fn(name: str, *args: Node) -> Fn:
    return Fn(name, tuple(args))


@dataclass(frozen=True)
class Op(Node):
    operator: str  # one of OPERATORS
    left: Node
    right: Node

    OPERATORS = ("=", "<>", "<", "<=", ">", ">=", "+", "-", "||", "AND", "OR")

    def sql(self) -> str:
        if self.operator not in self.OPERATORS:
            raise ValueError(f"not an operator: {self.operator}")
        return f"({self.left.sql()} {self.operator} {self.right.sql()})"


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def sql(self) -> str:
        return f"(NOT {self.operand.sql()})"


@dataclass(frozen=True)
class IsNull(Node):
    operand: Node
    negated: bool = False

    def sql(self) -> str:
        return f"({self.operand.sql()} IS {'NOT ' if self.negated else ''}NULL)"


@dataclass(frozen=True)
class Cast(Node):
    operand: Node
    type: str  # a fixed SQL type of perfrules' own

    def sql(self) -> str:
        return f"CAST({self.operand.sql()} AS {self.type})"


@dataclass(frozen=True)
class Agg(Node):
    """An aggregate: ``name(arg) FILTER (WHERE ...)``; ``arg`` None is ``count(*)``."""

    name: str
    arg: Node | None = None
    filter: Node | None = None
    distinct: bool = False
    extra: tuple[Node, ...] = ()

    def sql(self) -> str:
        inner = "*" if self.arg is None else ("DISTINCT " if self.distinct else "") + self.arg.sql()
        extra = "".join(", " + item.sql() for item in self.extra)
        where = f" FILTER (WHERE {self.filter.sql()})" if self.filter is not None else ""
        return f"{self.name}({inner}{extra}){where}"


@dataclass(frozen=True)
class Window(Node):
    """``function OVER (PARTITION BY ... ORDER BY ... DESC NULLS LAST)``."""

    function: Node
    partition: tuple[Node, ...]
    order_descending: tuple[Node, ...] = ()

    def sql(self) -> str:
        parts = []
        if self.partition:
            parts.append("PARTITION BY " + ", ".join(item.sql() for item in self.partition))
        if self.order_descending:
            parts.append("ORDER BY " + ", ".join(f"{item.sql()} DESC NULLS LAST" for item in self.order_descending))
        return f"{self.function.sql()} OVER ({' '.join(parts)})"


@dataclass(frozen=True)
class Relation(Node):
    """A table, a view or a table function call built by perfrules (``read_csv(...)``)."""

    text: str

    def sql(self) -> str:
        return self.text


@dataclass(frozen=True)
class Select(Node):
    items: tuple[tuple[Node, str], ...]  # (value, output name)
    source: Node
    where: Node | None = None
    group_by: tuple[Node, ...] = ()
    qualify: Node | None = None
    star: bool = False  # `*, items`

    def sql(self) -> str:
        columns = ", ".join(f"{value.sql()} AS {identifier(name)}" for value, name in self.items)
        if self.star:
            columns = "*" + (", " + columns if columns else "")
        source = self.source.sql()
        if isinstance(self.source, Select):
            source = f"({source})"
        text = f"SELECT {columns} FROM {source}"
        if self.where is not None:
            text += f" WHERE {self.where.sql()}"
        if self.group_by:
            text += " GROUP BY " + ", ".join(item.sql() for item in self.group_by)
        if self.qualify is not None:
            text += f" QUALIFY {self.qualify.sql()}"
        return text


@dataclass(frozen=True)
class Join(Node):
    """``left FULL JOIN right USING (...)`` or a LEFT JOIN ON."""

    left: Node
    right: Node
    kind: str  # "FULL" or "LEFT"
    using: tuple[str, ...] = ()
    on: Node | None = None
    right_alias: str = ""

    def sql(self) -> str:
        left = self.left.sql() if isinstance(self.left, (Join, Relation)) else f"({self.left.sql()})"
        right = self.right.sql() if isinstance(self.right, Relation) else f"({self.right.sql()})"
        alias = f" AS {identifier(self.right_alias)}" if self.right_alias else ""
        condition = (f"USING ({', '.join(identifier(name) for name in self.using)})" if self.using
                     else f"ON {self.on.sql()}")
        return f"{left} {self.kind} JOIN {right}{alias} {condition}"


@dataclass(frozen=True)
class Query(Node):
    """``WITH name AS NOT MATERIALIZED (...), ... SELECT ...``: each step is inlined where it is
    read (DuckDB would otherwise store every step's rows, all ten million of them)."""

    ctes: tuple[tuple[str, Select], ...]
    body: Node

    def sql(self) -> str:
        if not self.ctes:
            return self.body.sql()
        ctes = ", ".join(f"{identifier(name)} AS NOT MATERIALIZED ({select.sql()})" for name, select in self.ctes)
        return f"WITH {ctes} {self.body.sql()}"
