"""Conflicts: a merger worktree with both sides, and refusal of lossy resolutions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.errors import InvalidStateError
from bosun.git.conflicts import ResolutionRefusedError, has_markers
from bosun.git.merges import MergeOutcome
from bosun.git.service import CONFLICT_JOURNAL, GitService
from bosun_protocol.entities import Run, Task, TaskState

NewTask = Callable[[int, str], Awaitable[Task]]


async def _work(service: GitService, task_id: int, files: dict[str, str | None]) -> Task:
    task = await service.acquire_worktree(task_id)
    for name, text in files.items():
        if text is None:
            (Path(task.worktree or "") / name).unlink()
        else:
            (Path(task.worktree or "") / name).write_text(text)
    await service.commit(task_id, 1, "work")
    return await service.board.get_task(task_id)


@pytest.fixture
async def conflicted(
    service: GitService, run: Run, new_task: NewTask
) -> tuple[Task, MergeOutcome, Task]:
    """Task a merged, task b conflicting with it, and a merger task's worktree prepared."""
    ours = {"README.md": "ours\n", "run-only.txt": "r\n"}
    a = await _work(service, (await new_task(run.id, "a")).id, dict(ours))
    b = await _work(
        service, (await new_task(run.id, "b")).id, {"README.md": "theirs\n", "b.txt": "b\n"}
    )
    await service.merge_task(a.id)
    conflict = await service.merge_task(b.id)
    assert conflict.status == "conflict"
    merger = await service.prepare_conflict_worktree((await new_task(run.id, "m")).id, conflict)
    return b, conflict, merger


async def test_merger_worktree_holds_both_sides_with_markers(
    conflicted: tuple[Task, MergeOutcome, Task], gitrun: Callable[..., str]
) -> None:
    _, conflict, merger = conflicted
    path = Path(merger.worktree or "")
    text = (path / "README.md").read_text()
    assert has_markers(text)
    assert "ours" in text
    assert "theirs" in text
    assert (path / "b.txt").read_text() == "b\n"  # the clean part of theirs is there
    assert gitrun(path, "rev-parse", "HEAD") == conflict.run_head
    assert merger.base_commit == conflict.run_head


@pytest.mark.parametrize(
    ("readme", "reason"),
    [
        ("<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> x\n", "conflict markers"),
        (None, "deleted"),
        ("ours\n", "exactly the run's version"),
        ("theirs\n", "exactly the task's version"),
    ],
)
async def test_lossy_resolutions_are_refused_and_nothing_is_published(
    service: GitService,
    conflicted: tuple[Task, MergeOutcome, Task],
    gitrun: Callable[..., str],
    readme: str | None,
    reason: str,
) -> None:
    _, conflict, merger = conflicted
    target = Path(merger.worktree or "") / "README.md"
    if readme is None:
        target.unlink()
    else:
        target.write_text(readme)
    with pytest.raises(ResolutionRefusedError, match=reason):
        await service.publish_resolution(merger.id, 1)
    assert gitrun(service.root, "rev-parse", "bosun/run-1") == conflict.run_head


async def test_a_resolution_that_drops_everything_of_the_task_is_refused(
    service: GitService, conflicted: tuple[Task, MergeOutcome, Task], gitrun: Callable[..., str]
) -> None:
    _, conflict, merger = conflicted
    path = Path(merger.worktree or "")
    gitrun(path, "checkout", conflict.run_head, "--", ".")
    gitrun(path, "rm", "-q", "--cached", "b.txt")
    (path / "b.txt").unlink()
    with pytest.raises(ResolutionRefusedError, match="empty"):
        await service.publish_resolution(merger.id, 1)


async def test_a_real_resolution_is_committed_with_both_parents_and_merged_as_one_commit(
    service: GitService,
    conflicted: tuple[Task, MergeOutcome, Task],
    store: Store,
    gitrun: Callable[..., str],
) -> None:
    b, conflict, merger = conflicted
    (Path(merger.worktree or "") / "README.md").write_text("ours\ntheirs\n")
    outcome = await service.publish_resolution(merger.id, 1)
    assert outcome.status == "merged"
    head = gitrun(service.root, "rev-parse", "bosun/run-1")
    assert head == outcome.run_head
    # The resolution commit joins both sides; the run branch gets it as one commit.
    resolution = gitrun(Path(merger.worktree or ""), "rev-parse", "HEAD")
    assert gitrun(service.root, "log", "-1", "--format=%P", resolution).split() == [
        conflict.run_head,
        b.head_commit,
    ]
    assert gitrun(service.root, "log", "-1", "--format=%P", head).split() == [conflict.run_head]
    assert gitrun(service.root, "show", f"{head}:README.md") == "ours\ntheirs"
    assert gitrun(service.root, "show", f"{head}:run-only.txt") == "r"
    assert gitrun(Path(merger.worktree or ""), "status", "--porcelain") == ""
    assert await store.journal_get(CONFLICT_JOURNAL, str(merger.id)) is None
    assert (await service.merge_task(b.id)).status == "already_merged"


def test_marker_detection_ignores_lookalikes() -> None:
    assert not has_markers("=======\nheading\n<<<<<<<<< not a marker\n")
    assert has_markers("x\n>>>>>>>\n")
    assert has_markers("|||||||  base\n")


async def test_gc_drops_the_conflict_record_of_an_abandoned_merger(
    service: GitService,
    conflicted: tuple[Task, MergeOutcome, Task],
    store: Store,
    finish_task: Callable[[int, TaskState], Awaitable[Task]],
) -> None:
    _, _, merger = conflicted
    assert (await service.gc()).repaired == []
    await finish_task(merger.id, TaskState.ABANDONED)
    result = await service.gc()
    assert f"conflict record of task {merger.id} dropped" in result.repaired
    assert str(Path(merger.worktree or "")) in result.removed_worktrees
    assert await store.journal_get(CONFLICT_JOURNAL, str(merger.id)) is None


async def test_publishing_without_a_conflict_is_refused(
    service: GitService, run: Run, new_task: NewTask
) -> None:
    task = await _work(service, (await new_task(run.id, "x")).id, {"x.txt": "x\n"})
    with pytest.raises(InvalidStateError, match="not resolving a merge conflict"):
        await service.publish_resolution(task.id, 1)
