"""Merging into a run branch: computed off-line, journaled, published by compare-and-swap.

A merge is: merge-tree --write-tree (no working tree) → commit-tree → journal the intent
(task, old head, new head) on the board → `update-ref <run branch> NEW OLD`. The journal
entry is the only state between steps, so `recover()` can always finish or drop it:
after a crash a merge is either done or redone, never half-done and never done twice.

A squash merge (`git.task_commits = "squash"`, the default) commits the merged tree with
the run head as its only parent: the task's attempts, a failed one included, never
reach the run branch or the user's history. The task's work is then never an ancestor
of the run head, so "already merged" is also "merging changes nothing": the merged tree
is the run head's own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bosun.errors import ConflictError, GitError
from bosun.git import points
from bosun.git.board import GitBoard
from bosun.git.command import GitCli, git_failure
from bosun.git.repository import MERGED_PREFIX, run_branch

log = logging.getLogger(__name__)

JOURNAL_KIND = "merge"

MergeStatus = Literal["merged", "already_merged", "conflict"]


@dataclass(frozen=True)
class ConflictFile:
    """One path the merge could not resolve, with git's kind of conflict."""

    path: str
    kinds: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MergeOutcome:
    """What merging a commit into a run branch did."""

    status: MergeStatus
    run_head: str  # the run branch head after the merge (or unchanged, on conflict)
    source: str
    merge_commit: str | None = None
    conflicts: list[ConflictFile] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TreeMerge:
    """The result of merge-tree: a tree, and conflicts when it is not clean."""

    tree: str
    conflicts: list[ConflictFile]
    messages: list[str]


def merge_trees(cli: GitCli, root: Path, ours: str, theirs: str) -> TreeMerge:
    """Merge two commits without touching any working tree or index."""
    out = cli.run(
        root, "merge-tree", "--write-tree", "-z", "--name-only", ours, theirs, check=False
    )
    if out.returncode not in (0, 1):
        raise git_failure(out)
    fields = out.stdout.split("\0")
    tree, rest = fields[0], fields[1:]
    names: list[str] = []
    while rest and rest[0]:
        names.append(rest.pop(0))
    kinds: dict[str, list[str]] = {name: [] for name in names}
    messages: list[str] = []
    rest = rest[1:]
    # Informational groups: <count> NUL <path>×count NUL <type> NUL <message> NUL
    while rest and rest[0].isdigit():
        count = int(rest[0])
        paths, kind, message = rest[1 : 1 + count], rest[1 + count], rest[2 + count]
        rest = rest[3 + count :]
        messages.append(message.strip())
        for path in paths:
            if path in kinds and kind.startswith("CONFLICT"):
                kinds[path].append(kind)
    conflicts = [ConflictFile(path=n, kinds=kinds[n]) for n in names]
    return TreeMerge(tree=tree, conflicts=conflicts, messages=messages)


def commit_tree(cli: GitCli, root: Path, tree: str, parents: list[str], message: str) -> str:
    """Write a commit object (durably) and return its id."""
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return cli.run(root, *args, "-F", "-", input=message).stdout.strip()


def cas_update(cli: GitCli, root: Path, ref: str, new: str, old: str) -> bool:
    """Move `ref` from `old` to `new` atomically; False when it no longer points at `old`."""
    out = cli.run(root, "update-ref", "-m", "bosun: merge", ref, new, old, check=False)
    if out.ok:
        return True
    current = cli.rev(root, ref)
    if current != old:
        return False
    raise git_failure(out)


class Merger:
    """Merges commits into run branches with a journaled compare-and-swap."""

    def __init__(self, cli: GitCli, root: Path, board: GitBoard, retries: int) -> None:
        self.cli = cli
        self.root = root
        self.board = board
        self.retries = retries

    async def merge(
        self,
        run_id: int,
        source: str,
        *,
        message: str,
        task_id: int | None = None,
        squash: bool = False,
        marks: dict[str, str] | None = None,
    ) -> MergeOutcome:
        """Merge commit `source` into the run branch (one new commit on it with `squash`);
        a conflict is a result, not an error. `marks` (ref → commit), set once the merge
        is published, record what a squashed merge took in: `source` is merged when a
        mark under refs/bosun/merged/ points at it."""
        ref = "refs/heads/" + run_branch(run_id)
        for _ in range(self.retries):
            old = await self._head(run_id)
            if await self._ancestor(source, old) or (squash and await self._marked(source)):
                return MergeOutcome("already_merged", run_head=old, source=source)
            if not squash and await self._ancestor(old, source):
                new = source  # nothing of the run's is missing from source: fast-forward
            else:
                merged = await self._merge_tree(old, source)
                if merged.conflicts:
                    return MergeOutcome(
                        "conflict",
                        run_head=old,
                        source=source,
                        conflicts=merged.conflicts,
                        messages=merged.messages,
                    )
                if squash and merged.tree == await self._tree(old):
                    return MergeOutcome("already_merged", run_head=old, source=source)
                parents = [old] if squash else [old, source]
                new = await self._commit(merged.tree, parents, message)
            points.failpoint(points.MERGE_COMPUTED)
            key = journal_key(run_id, source)
            intent = {
                "run_id": run_id,
                "task_id": task_id,
                "old": old,
                "new": new,
                "source": source,
                "marks": marks or {},
            }
            await self.board.journal_put(JOURNAL_KIND, key, intent)
            points.failpoint(points.MERGE_JOURNALED)
            # Marks before the publish, with the intent naming them: recover() keeps or
            # drops them with the merge, so they never claim a merge that did not happen.
            await self._set_marks(marks or {})
            if await self._cas(ref, new, old):
                points.failpoint(points.MERGE_PUBLISHED)
                await self._record(run_id, task_id, old, new, source)
                points.failpoint(points.MERGE_RECORDED)
                await self.board.journal_delete(JOURNAL_KIND, key)
                return MergeOutcome("merged", run_head=new, source=source, merge_commit=new)
            # Another merge published first: drop our intent and recompute on its head.
            await self._drop_marks(marks or {})
            await self.board.journal_delete(JOURNAL_KIND, key)
            log.info("run %s moved during a merge; recomputing", run_id)
        raise ConflictError(
            f"the run branch {run_branch(run_id)} kept moving during {self.retries} merge "
            "attempts; try again"
        )

    async def recover(self) -> list[dict[str, Any]]:
        """Finish or drop every journaled merge intent; return what was done with each."""
        actions: list[dict[str, Any]] = []
        for key, intent in await self.board.journal_list(JOURNAL_KIND):
            run_id, old, new = int(intent["run_id"]), str(intent["old"]), str(intent["new"])
            source, task_id = str(intent["source"]), intent.get("task_id")
            ref = "refs/heads/" + run_branch(run_id)
            head = await self._head(run_id)
            if head == new or await self._ancestor(new, head):
                outcome = "was_done"
            elif head == old and await self._object_exists(new):
                outcome = "redone" if await self._cas(ref, new, old) else "dropped"
            elif await self._ancestor(source, head):
                outcome = "was_done"
            else:
                # The run moved on without this merge; the caller merges the task again.
                outcome = "dropped"
            marks = {str(k): str(v) for k, v in dict(intent.get("marks") or {}).items()}
            if outcome != "dropped":
                await self._set_marks(marks)
                await self._record(run_id, task_id, old, await self._head(run_id), source)
            else:
                await self._drop_marks(marks)
            await self.board.journal_delete(JOURNAL_KIND, key)
            actions.append({"key": key, "task_id": task_id, "run_id": run_id, "outcome": outcome})
        return actions

    async def _record(
        self, run_id: int, task_id: int | None, old: str, new: str, source: str
    ) -> None:
        data = {"task_id": task_id, "old": old, "new": new, "source": source}
        await self.board.update_run(run_id, event="run.merged", data=data, head_commit=new)

    async def _head(self, run_id: int) -> str:
        head = await asyncio.to_thread(self.cli.rev, self.root, "refs/heads/" + run_branch(run_id))
        if head is None:
            raise GitError(
                f"the run branch {run_branch(run_id)} does not exist; was the run started?"
            )
        return head

    async def _set_marks(self, marks: dict[str, str]) -> None:
        for mark, commit in marks.items():
            await self.cli.arun(self.root, "update-ref", mark, commit)

    async def _drop_marks(self, marks: dict[str, str]) -> None:
        for mark, commit in marks.items():
            await self.cli.arun(self.root, "update-ref", "-d", mark, commit, check=False)

    async def _marked(self, commit: str) -> bool:
        out = await self.cli.arun(
            self.root, "for-each-ref", "--points-at", commit, "--format=%(refname)", MERGED_PREFIX
        )
        return bool(out.stdout.strip())

    async def _tree(self, commit: str) -> str:
        return await asyncio.to_thread(self.cli.tree_of, self.root, commit)

    async def _ancestor(self, a: str, b: str) -> bool:
        return await asyncio.to_thread(self.cli.is_ancestor, self.root, a, b)

    async def _merge_tree(self, ours: str, theirs: str) -> TreeMerge:
        return await asyncio.to_thread(merge_trees, self.cli, self.root, ours, theirs)

    async def _commit(self, tree: str, parents: list[str], message: str) -> str:
        return await asyncio.to_thread(commit_tree, self.cli, self.root, tree, parents, message)

    async def _cas(self, ref: str, new: str, old: str) -> bool:
        return await asyncio.to_thread(cas_update, self.cli, self.root, ref, new, old)

    async def _object_exists(self, oid: str) -> bool:
        out = await self.cli.arun(self.root, "cat-file", "-e", oid + "^{commit}", check=False)
        return out.ok


def journal_key(run_id: int, source: str) -> str:
    """One intent per (run, source commit): concurrent merges of different work never share."""
    return f"{run_id}:{source}"
