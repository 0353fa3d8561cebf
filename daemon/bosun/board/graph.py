"""Dependency graph checks: finding the cycle a new edge would close."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bosun.board.dialect import Conn
from bosun.errors import DependencyCycleError


def run_edges(conn: Conn, run_id: int) -> dict[int, set[int]]:
    """task id → the ids it depends on, for every task of a run."""
    edges: dict[int, set[int]] = {}
    rows = conn.execute(
        "SELECT d.task_id, d.depends_on_id FROM dependencies AS d "
        "JOIN tasks AS t ON t.id = d.task_id WHERE t.run_id = ?",
        (run_id,),
    )
    for task_id, dep in rows:
        edges.setdefault(task_id, set()).add(dep)
    return edges


def find_cycle(edges: Mapping[int, Iterable[int]]) -> list[int] | None:
    """Some cycle as task ids in dependency order, first id repeated last; or None."""
    done: set[int] = set()
    for root in sorted(edges):
        if root in done:
            continue
        # Iterative DFS: plans can be deep, Python's recursion limit is not.
        path: list[int] = [root]
        on_path = {root}
        stack = [iter(sorted(edges.get(root, ())))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                continue
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt in done:
                continue
            path.append(nxt)
            on_path.add(nxt)
            stack.append(iter(sorted(edges.get(nxt, ()))))
    return None


def labels(conn: Conn, cycle: list[int]) -> list[str]:
    """'#12 build-api' for each id of a cycle (the key is what planners wrote)."""
    marks = ",".join("?" * len(set(cycle)))
    keys = dict(
        conn.execute(f"SELECT id, key FROM tasks WHERE id IN ({marks})", sorted(set(cycle)))
    )
    return [f"#{t} {keys[t]}" if t in keys else f"#{t}" for t in cycle]


def refuse_cycle(conn: Conn, edges: Mapping[int, Iterable[int]]) -> None:
    """Raise DependencyCycleError naming the cycle if `edges` has one."""
    cycle = find_cycle(edges)
    if cycle is not None:
        raise DependencyCycleError(cycle, labels(conn, cycle))


def path_between(edges: Mapping[int, Iterable[int]], start: int, goal: int) -> list[int] | None:
    """A dependency path start → … → goal (both included), or None."""
    parent: dict[int, int] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following: list[int] = []
        for node in frontier:
            if node == goal:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            for nxt in sorted(edges.get(node, ())):
                if nxt not in seen:
                    seen.add(nxt)
                    parent[nxt] = node
                    following.append(nxt)
        frontier = following
    return None
