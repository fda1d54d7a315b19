"""No module of the application imports itself back through others: a cycle is how the
order steps came to be wired twice (views and unit_views importing each other)."""

from __future__ import annotations

import grimp

PACKAGES = ("mall", "catalog", "suppliers", "admin", "bidding_rounds")
# The composition root wires everything and is started through the package itself.
ROOT = {"mall", "mall.app", "mall.cli"}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_application_module_imports_itself_back():
    graph = grimp.build_graph(*PACKAGES)
    edges = {module: {imported for imported in graph.find_modules_directly_imported_by(module)
                      if imported not in ROOT}
             for module in graph.modules if module not in ROOT}
    assert _cycles(edges) == []
