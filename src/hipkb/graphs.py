"""Strongly connected components without recursion (KB-sized graphs can be deep).

>>> components(["a", "b", "c"], {"a": ["b"], "b": ["a", "c"]}.get)
[['c'], ['a', 'b']]
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, Sequence, TypeVar

__all__ = ["components"]

N = TypeVar("N", bound=Hashable)


def components(nodes: Sequence[N], successors: Callable[[N], Iterable[N] | None]) -> list[list[N]]:
    """Tarjan's strongly connected components, iteratively.

    Components come out sinks first (every component after those its
    nodes have edges to); nodes within one keep the order of ``nodes``.
    """
    position = {node: i for i, node in enumerate(nodes)}
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    out: list[list[N]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[N, Iterable[N]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(successors(root) or ())))
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in position:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child) or ())))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                component.sort(key=position.__getitem__)
                out.append(component)
    return out
