"""Merging into the run branch: off-line merge, journaled CAS publish, races, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.errors import GitError
from bosun.git.merges import JOURNAL_KIND, Merger, commit_tree, journal_key, merge_trees
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Run, Task

NewTask = Callable[[int, str], Awaitable[Task]]


async def _work(service: GitService, task_id: int, files: dict[str, str]) -> Task:
    task = await service.acquire_worktree(task_id)
    for name, text in files.items():
        (Path(task.worktree or "") / name).write_text(text)
    await service.commit(task_id, 1, f"edit {', '.join(files)}")
    return await service.board.get_task(task_id)


async def test_merge_publishes_both_tasks_and_records_the_head(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    b = await _work(service, (await new_task(run.id, "b")).id, {"b.txt": "b\n"})
    first = await service.merge_task(a.id)
    second = await service.merge_task(b.id)
    assert (first.status, second.status) == ("merged", "merged")
    head = gitrun(service.root, "rev-parse", "bosun/run-1")
    assert head == second.run_head == (await store.get_run(run.id)).head_commit
    assert gitrun(service.root, "ls-tree", "--name-only", head).split() == [
        "README.md",
        "a.txt",
        "b.txt",
    ]
    parents = gitrun(service.root, "log", "-1", "--format=%P", head).split()
    assert parents == [first.run_head]  # squashed: b is one commit on the run branch
    assert gitrun(service.root, "log", "-1", "--format=%s", head) == "b: edit b.txt"
    assert await store.journal_list(JOURNAL_KIND) == []


async def test_with_attempts_kept_a_merge_joins_the_task_branch(
    git_repo: Path, store: Store, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    service = GitService(
        Workspace(git_repo), GitSettings(warm_pool=0, task_commits="attempts"), store
    )
    await service.start()
    try:
        run = await service.start_run((await store.create_run("o")).id)
        a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
        b = await _work(service, (await new_task(run.id, "b")).id, {"b.txt": "b\n"})
        first = await service.merge_task(a.id)
        second = await service.merge_task(b.id)
        parents = gitrun(service.root, "log", "-1", "--format=%P", second.run_head).split()
        assert parents == [first.run_head, b.head_commit]
    finally:
        await service.close()


async def test_merging_the_same_work_twice_is_a_no_op(
    service: GitService, run: Run, new_task: NewTask
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    first = await service.merge_task(a.id)
    again = await service.merge_task(a.id)
    assert again.status == "already_merged"
    assert again.run_head == first.run_head


async def test_conflict_is_reported_with_files_and_nothing_moves(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"README.md": "A\n"})
    b = await _work(service, (await new_task(run.id, "b")).id, {"README.md": "B\n"})
    merged = await service.merge_task(a.id)
    conflict = await service.merge_task(b.id)
    assert conflict.status == "conflict"
    assert [c.path for c in conflict.conflicts] == ["README.md"]
    assert "CONFLICT (contents)" in conflict.conflicts[0].kinds
    assert conflict.run_head == merged.run_head == gitrun(service.root, "rev-parse", "bosun/run-1")
    assert conflict.source == b.head_commit


class _SlowMerger(Merger):
    """Lets a rival merge publish between computing and publishing, once."""

    def __init__(self, *args: object, rival: Callable[[], Awaitable[object]]) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.rival = rival
        self.cas_calls = 0

    async def _cas(self, ref: str, new: str, old: str) -> bool:
        self.cas_calls += 1
        if self.cas_calls == 1:
            await self.rival()
        return await super()._cas(ref, new, old)


async def test_cas_race_has_one_winner_and_the_loser_recomputes(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    b = await _work(service, (await new_task(run.id, "b")).id, {"b.txt": "b\n"})
    winner: list[str] = []

    async def rival() -> None:
        outcome = await service.merger.merge(run.id, a.head_commit or "", message="a", task_id=a.id)
        winner.append(outcome.run_head)

    slow = _SlowMerger(service.cli, service.root, store, 5, rival=rival)
    loser = await slow.merge(run.id, b.head_commit or "", message="b", task_id=b.id)
    assert slow.cas_calls == 2  # lost once, recomputed on the winner's head, then won
    assert loser.status == "merged"
    parents = gitrun(service.root, "log", "-1", "--format=%P", loser.run_head).split()
    assert parents == [winner[0], b.head_commit]
    assert gitrun(service.root, "ls-tree", "--name-only", loser.run_head).split() == [
        "README.md",
        "a.txt",
        "b.txt",
    ]
    assert await store.journal_list(JOURNAL_KIND) == []


async def test_concurrent_merges_all_land_exactly_once(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    tasks = [await _work(service, (await new_task(run.id, k)).id, {f"{k}.txt": k}) for k in "abcd"]
    outcomes = await asyncio.gather(*(service.merge_task(t.id) for t in tasks))
    assert {o.status for o in outcomes} == {"merged"}
    head = gitrun(service.root, "rev-parse", "bosun/run-1")
    # Squashed: one commit per task, in a line, each with that task's file.
    subjects = gitrun(service.root, "log", "--format=%s", f"{run.head_commit}..{head}")
    assert sorted(subjects.split("\n")) == [f"{k}: edit {k}.txt" for k in "abcd"]
    assert gitrun(service.root, "rev-list", "--count", "--merges", head) == "0"
    assert gitrun(service.root, "ls-tree", "--name-only", head).split() == [
        "README.md", "a.txt", "b.txt", "c.txt", "d.txt",
    ]  # fmt: skip


async def _journal_intent(
    service: GitService, store: Store, run: Run, task: Task
) -> dict[str, str]:
    old = await service.run_head(run.id)
    tree = merge_trees(service.cli, service.root, old, task.head_commit or "")
    new = commit_tree(service.cli, service.root, tree.tree, [old, task.head_commit or ""], "m")
    intent = {
        "run_id": run.id,
        "task_id": task.id,
        "old": old,
        "new": new,
        "source": task.head_commit,
    }
    await store.journal_put(JOURNAL_KIND, journal_key(run.id, task.head_commit or ""), intent)
    return {"old": old, "new": new}


async def test_recover_redoes_a_journaled_merge_that_was_not_published(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    b = await _work(service, (await new_task(run.id, "b")).id, {"b.txt": "b\n"})
    await service.merge_task(a.id)
    intent = await _journal_intent(service, store, run, b)
    actions = await service.recover()
    assert [a["outcome"] for a in actions] == ["redone"]
    assert gitrun(service.root, "rev-parse", "bosun/run-1") == intent["new"]
    assert (await store.get_run(run.id)).head_commit == intent["new"]
    assert await store.journal_list(JOURNAL_KIND) == []
    assert (await service.recover()) == []


async def test_recover_does_not_redo_a_published_merge(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    b = await _work(service, (await new_task(run.id, "b")).id, {"b.txt": "b\n"})
    await service.merge_task(a.id)
    intent = await _journal_intent(service, store, run, b)
    gitrun(service.root, "update-ref", "refs/heads/bosun/run-1", intent["new"], intent["old"])
    actions = await service.recover()
    assert [a["outcome"] for a in actions] == ["was_done"]
    assert gitrun(service.root, "rev-parse", "bosun/run-1") == intent["new"]
    assert (await store.get_run(run.id)).head_commit == intent["new"]
    assert gitrun(service.root, "rev-list", "--count", "--merges", "bosun/run-1") == "1"


async def test_recover_drops_an_intent_the_run_moved_past(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    b = await _work(service, (await new_task(run.id, "b")).id, {"b.txt": "b\n"})
    await _journal_intent(service, store, run, b)
    moved = await service.merge_task(a.id)  # the run moves on without b's merge
    actions = await service.recover()
    assert [a["outcome"] for a in actions] == ["dropped"]
    assert gitrun(service.root, "rev-parse", "bosun/run-1") == moved.run_head
    assert (await service.merge_task(b.id)).status == "merged"


async def test_merging_into_a_missing_run_branch_is_a_clear_error(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    a = await _work(service, (await new_task(run.id, "a")).id, {"a.txt": "a\n"})
    gitrun(service.root, "update-ref", "-d", "refs/heads/bosun/run-1")
    with pytest.raises(GitError, match="bosun/run-1 does not exist"):
        await service.merge_task(a.id)
