"""The cycles pass: ``let`` definitions that depend on themselves (PR306).

Definitions may come in any order, so each ``let`` can read any other; a chain that
comes back to where it started has no value.  Each cycle is reported once, at the
definition of the cycle that comes first in the file.
"""

from __future__ import annotations

from perfrules import ast
from perfrules.check.symbols import Symbols
from perfrules.diagnostics import DiagnosticSink


def let_dependencies(symbols: Symbols) -> dict[str, list[str]]:
    return {
        name: [node.name for node in ast.walk(let.expression) if isinstance(node, ast.Reference) and node.name in symbols.lets]
        for name, let in symbols.lets.items()
    }


def check_let_cycles(symbols: Symbols, sink: DiagnosticSink) -> None:
    graph = let_dependencies(symbols)
    order = {name: index for index, name in enumerate(symbols.lets)}
    reported: set[frozenset[str]] = set()
    for start in symbols.lets:
        path = _cycle_through(start, graph)
        if path is None:
            continue
        members = frozenset(path)
        if members in reported:
            continue
        reported.add(members)
        first = min(members, key=order.__getitem__)
        rotation = path.index(first)
        cycle = path[rotation:-1] + path[:rotation] + [first]
        let = symbols.lets[first]
        if len(members) == 1:
            sink.report("PR306", f"'{first}' is defined by itself", let.name.span, "a definition cannot use its own name")
            continue
        sink.report(
            "PR306",
            f"'{first}' depends on itself: {' → '.join(cycle)}",
            let.name.span,
            "break the cycle: one of these definitions must not use the other",
        )


def _cycle_through(start: str, graph: dict[str, list[str]]) -> list[str] | None:
    """A path start → ... → start, if there is one (depth-first, iterative)."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for successor in graph.get(node, ()):
            if successor == start:
                return path + [start]
            if successor not in seen:
                seen.add(successor)
                stack.append((successor, path + [successor]))
    return None
