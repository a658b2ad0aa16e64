"""The cycles pass: ``let`` definitions that depend on themselves (PR306).

Definitions may come in any order, so each ``let`` can read any other; a chain that
comes back to where it started has no value.  Each group of lets that use each other
is reported once, at the definition of the group that comes first in the file, with the
shortest cycle through it.
"""

from __future__ import annotations

from collections import deque

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
    firsts = ((min(group, key=order.__getitem__), group) for group in _cyclic_groups(graph))
    for first, group in sorted(firsts, key=lambda item: order[item[0]]):
        cycle = _shortest_cycle(first, graph, group)
        let = symbols.lets[first]
        if len(cycle) == 2:
            sink.report("PR306", f"'{first}' is defined by itself", let.name.span, "a definition cannot use its own name")
            continue
        sink.report(
            "PR306",
            f"'{first}' depends on itself: {' → '.join(cycle)}",
            let.name.span,
            "break the cycle: one of these definitions must not use the other",
        )


def _cyclic_groups(graph: dict[str, list[str]]) -> list[set[str]]:
    """The lets that reach each other (strongly connected, Tarjan's algorithm without
    recursion: a chain of thousands of lets is linear work), each group that holds a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            successor = next(successors, None)
            if successor is not None:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph.get(successor, ()))))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph.get(node, ()):
                    groups.append(group)
    return groups


def _shortest_cycle(start: str, graph: dict[str, list[str]], group: set[str]) -> list[str]:
    """start → ... → start through the fewest lets of its group (breadth-first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in graph[node]:
            if successor == start:
                path = [start]
                while node != start:
                    path.append(node)
                    node = came_from[node]
                return [start, *reversed(path[1:]), start] if len(path) > 1 else [start, start]
            if successor in group and successor not in came_from:
                came_from[successor] = node
                queue.append(successor)
    raise AssertionError(f"{start} is in a cycle")
