"""The engine's in-memory view of every live run's task graph, and the ready queue.

The board is the truth; this view is rebuilt from it on start and kept current from the
board's change notices. It answers the scheduler's questions in O(1) or O(degree):
which planned tasks just became ready, which ready task to start next (critical path
first), whether a run has anything left. Nodes are small (slots), so 10,000 tasks cost
a few megabytes.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bosun_protocol.entities import Profile, Task, TaskState

_S = TaskState
TERMINAL = frozenset({_S.COMPLETE, _S.ABANDONED})


@dataclass(slots=True)
class Node:
    """One task as the scheduler needs it."""

    id: int
    run_id: int
    state: TaskState
    deps: tuple[int, ...]
    attempt: int = 0
    level: int = 1  # tasks on the longest chain from here to the end of the graph
    claimed: bool = False  # a driver is starting it
    held: bool = False  # not to be promoted yet (a merger whose worktree is being made)
    ready_at: float = 0.0  # monotonic time it last joined the ready queue (for metrics)


@dataclass
class TaskGraph:
    """Tasks of live runs by id, their dependents, and a heap of ready tasks."""

    nodes: dict[int, Node] = field(default_factory=dict)
    dependents: dict[int, set[int]] = field(default_factory=dict)
    by_run: dict[int, set[int]] = field(default_factory=dict)
    counts: dict[int, Counter[TaskState]] = field(default_factory=dict)
    _heap: list[tuple[int, int]] = field(default_factory=list)
    _dirty_runs: set[int] = field(default_factory=set)

    # -- keeping current ---------------------------------------------------------------

    def apply(self, task: Task) -> tuple[TaskState | None, bool]:
        """Take a task's new snapshot; return (its previous state, whether deps changed)."""
        deps = tuple(task.dependencies)
        node = self.nodes.get(task.id)
        if node is None:
            node = Node(task.id, task.run_id, task.state, deps, task.attempt)
            node.held = task.profile is Profile.MERGER and task.state is _S.PLANNED
            self.nodes[task.id] = node
            self.by_run.setdefault(task.run_id, set()).add(task.id)
            self._link(task.id, deps, ())
            self._dirty_runs.add(task.run_id)
            self.counts.setdefault(task.run_id, Counter())[task.state] += 1
            if task.state is _S.READY:
                node.ready_at = time.monotonic()
                heapq.heappush(self._heap, (-node.level, node.id))
            return None, True
        old = node.state
        changed = deps != node.deps
        if changed:
            self._link(task.id, deps, node.deps)
            node.deps = deps
            self._dirty_runs.add(task.run_id)
        node.state = task.state
        node.attempt = task.attempt
        if old is not task.state:
            counts = self.counts[task.run_id]
            counts[old] -= 1
            counts[task.state] += 1
            node.claimed = False
            if task.state is _S.READY:
                node.ready_at = time.monotonic()
                heapq.heappush(self._heap, (-node.level, node.id))
        return old, changed

    def _link(self, task_id: int, new: Iterable[int], old: Iterable[int]) -> None:
        for dep in old:
            self.dependents.get(dep, set()).discard(task_id)
        for dep in new:
            self.dependents.setdefault(dep, set()).add(task_id)

    def forget_run(self, run_id: int) -> None:
        """Drop a finished run's tasks from memory."""
        self.counts.pop(run_id, None)
        for task_id in self.by_run.pop(run_id, set()):
            node = self.nodes.pop(task_id, None)
            if node is not None:
                self._link(task_id, (), node.deps)
            self.dependents.pop(task_id, None)

    # -- questions -------------------------------------------------------------------------

    def deps_complete(self, task_id: int) -> bool:
        """Whether every dependency of the task is complete."""
        node = self.nodes[task_id]
        for dep in node.deps:
            other = self.nodes.get(dep)
            if other is None or other.state is not _S.COMPLETE:
                return False
        return True

    def promotable(self, task_ids: Iterable[int]) -> list[int]:
        """Of these tasks, the planned ones whose dependencies are all complete."""
        return [
            t
            for t in task_ids
            if (n := self.nodes.get(t)) is not None
            and n.state is _S.PLANNED
            and self.deps_complete(t)
        ]

    def demotable(self, task_id: int) -> bool:
        """A ready task that gained a dependency which is not complete."""
        node = self.nodes.get(task_id)
        return (
            node is not None
            and node.state is _S.READY
            and not node.claimed
            and not self.deps_complete(task_id)
        )

    def run_counts(self, run_id: int) -> dict[str, int]:
        """How many of the run's tasks are in each state."""
        return {s.value: n for s, n in self.counts.get(run_id, Counter()).items() if n}

    def open_dependents(self, task_id: int) -> list[int]:
        """Dependents that are not finished."""
        return sorted(
            d
            for d in self.dependents.get(task_id, ())
            if (n := self.nodes.get(d)) is not None and n.state not in TERMINAL
        )

    # -- the ready queue -----------------------------------------------------------------

    def pop_ready(self, admissible: dict[int, bool]) -> Node | None:
        """The ready task with the longest chain behind it among admissible runs."""
        self._refresh_levels()
        held: list[tuple[int, int]] = []
        found: Node | None = None
        while self._heap:
            entry = heapq.heappop(self._heap)
            node = self.nodes.get(entry[1])
            if node is None or node.state is not _S.READY or node.claimed:
                continue  # stale entry
            if -entry[0] != node.level:
                continue  # a fresher entry with the new level is in the heap
            if not admissible.get(node.run_id, False):
                held.append(entry)
                continue
            found = node
            break
        for entry in held:
            heapq.heappush(self._heap, entry)
        return found

    def release(self, task_id: int) -> None:
        """A driver let go of the task: queue it again if it is still ready."""
        node = self.nodes.get(task_id)
        if node is not None and node.claimed:
            node.claimed = False
            if node.state is _S.READY:
                node.ready_at = time.monotonic()
                heapq.heappush(self._heap, (-node.level, node.id))

    def queued(self) -> int:
        """Ready tasks waiting for a worker slot (not yet claimed by a driver)."""
        return sum(1 for n in self.nodes.values() if n.state is _S.READY and not n.claimed)

    def has_ready(self) -> bool:
        """Whether any entry might be ready (cheap check)."""
        return bool(self._heap)

    def _refresh_levels(self) -> None:
        if not self._dirty_runs:
            return
        for run_id in self._dirty_runs:
            self._compute_levels(run_id)
        self._dirty_runs.clear()
        self._heap = [
            (-n.level, n.id) for n in self.nodes.values() if n.state is _S.READY and not n.claimed
        ]
        heapq.heapify(self._heap)

    def _compute_levels(self, run_id: int) -> None:
        # Longest path to a sink, counting tasks; iterative post-order (graphs are acyclic,
        # the board refuses cycles).
        ids = self.by_run.get(run_id, set())
        level: dict[int, int] = {}
        for root in ids:
            if root in level:
                continue
            stack: list[tuple[int, bool]] = [(root, False)]
            while stack:
                task_id, expanded = stack.pop()
                if task_id in level:
                    continue
                kids = [k for k in self.dependents.get(task_id, ()) if k in ids]
                if expanded:
                    level[task_id] = 1 + max((level.get(k, 1) for k in kids), default=0)
                    continue
                stack.append((task_id, True))
                stack.extend((k, False) for k in kids if k not in level)
        for task_id, value in level.items():
            self.nodes[task_id].level = value
