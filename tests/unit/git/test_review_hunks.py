"""Review: files → hunks with stable ids; approving some hunks merges exactly those."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.errors import GitError
from bosun.git.hunks import hunk_id
from bosun.git.service import GitService
from bosun_protocol.entities import Run, Task

from .gitrepo import task_commit

NewTask = Callable[[int, str], Awaitable[Task]]
LINES = "".join(f"line {i}\n" for i in range(40))


@pytest.fixture
async def base_run(
    service: GitService, store: Store, git_repo: Path, gitrun: Callable[..., str]
) -> Run:
    (git_repo / "a.txt").write_text(LINES)
    (git_repo / "gone.txt").write_text("bye\n")
    (git_repo / "img.bin").write_bytes(b"\x00\x01\x02")
    gitrun(git_repo, "add", ".")
    gitrun(git_repo, "commit", "-qm", "content")
    return await service.start_run((await store.create_run("o")).id)


async def _edited(service: GitService, task_id: int) -> Task:
    lines = LINES.splitlines(keepends=True)
    lines[2], lines[30] = "early change\n", "late change\n"
    files = {"a.txt": "".join(lines), "new.txt": "new\n", "gone.txt": None, "img.bin": b"\x00\xff"}
    return await task_commit(service, task_id, files, "edits")


async def test_diff_lists_files_and_hunks_with_stable_ids(
    service: GitService, base_run: Run, new_task: NewTask
) -> None:
    task = await _edited(service, (await new_task(base_run.id, "t")).id)
    diff = await service.task_diff(task.id)
    assert (diff.base_commit, diff.head_commit) == (task.base_commit, task.head_commit)
    by_path = {f.path: f for f in diff.files}
    assert {p: f.status for p, f in by_path.items()} == {
        "a.txt": "modified",
        "gone.txt": "deleted",
        "img.bin": "modified",
        "new.txt": "added",
    }
    assert [h.old_start for h in by_path["a.txt"].hunks] == [1, 28]
    assert "+early change" in by_path["a.txt"].hunks[0].lines
    assert by_path["img.bin"].binary
    assert by_path["img.bin"].hunks[0].header == "binary"
    first = by_path["a.txt"].hunks[0]
    assert first.id == hunk_id("a.txt", first.header, first.lines)
    again = await service.task_diff(task.id)
    assert [h.id for f in again.files for h in f.hunks] == [
        h.id for f in diff.files for h in f.hunks
    ]


async def test_approving_some_hunks_merges_exactly_those(
    service: GitService,
    base_run: Run,
    new_task: NewTask,
    store: Store,
    gitrun: Callable[..., str],
) -> None:
    task = await _edited(service, (await new_task(base_run.id, "t")).id)
    diff = await service.task_diff(task.id)
    by_path = {f.path: f for f in diff.files}
    chosen = [
        by_path["a.txt"].hunks[1].id,
        by_path["gone.txt"].hunks[0].id,
        by_path["img.bin"].hunks[0].id,
    ]
    selection = await service.select_hunks(task.id, chosen)
    assert sorted(selection.approved) == sorted(chosen)
    assert sorted(selection.rejected) == sorted(
        [by_path["a.txt"].hunks[0].id, by_path["new.txt"].hunks[0].id]
    )
    outcome = await service.merge_task(task.id)
    assert outcome.status == "merged"
    head = outcome.run_head
    expected = LINES.splitlines(keepends=True)
    expected[30] = "late change\n"
    assert gitrun(service.root, "show", f"{head}:a.txt") + "\n" == "".join(expected)
    assert gitrun(service.root, "ls-tree", "--name-only", head).split() == [
        "README.md",
        "a.txt",
        "img.bin",
    ]
    assert gitrun(service.root, "cat-file", "-s", f"{head}:img.bin") == "2"
    events = [e for e in (await store.events_since(0, 1000))[0] if e.kind == "task.hunks_selected"]
    assert sorted(events[-1].data["rejected"]) == sorted(selection.rejected)


async def test_unknown_hunk_ids_are_refused_and_nothing_is_selected(
    service: GitService, base_run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    task = await _edited(service, (await new_task(base_run.id, "t")).id)
    with pytest.raises(GitError, match="unknown hunk id"):
        await service.select_hunks(task.id, ["0123456789abcdef"])
    assert gitrun(service.root, "for-each-ref", "refs/bosun/") == ""


async def test_clearing_a_selection_merges_the_whole_task_again(
    service: GitService, base_run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    task = await _edited(service, (await new_task(base_run.id, "t")).id)
    diff = await service.task_diff(task.id)
    await service.select_hunks(task.id, [diff.files[0].hunks[0].id])
    await service.clear_selection(task.id)
    outcome = await service.merge_task(task.id)
    assert gitrun(service.root, "rev-parse", f"{outcome.run_head}^{{tree}}") == gitrun(
        service.root, "rev-parse", f"{task.head_commit}^{{tree}}"
    )


async def test_non_utf8_files_are_shown_safely_and_merged_byte_exact(
    service: GitService,
    base_run: Run,
    new_task: NewTask,
    git_repo: Path,
    gitrun: Callable[..., str],
) -> None:
    original = b"".join(b"caf\xe9 %d\n" % i for i in range(30))
    name = b"l\xe9gacy.txt".decode("utf-8", "surrogateescape")
    (git_repo / name).write_bytes(original)
    gitrun(git_repo, "add", ".")
    gitrun(git_repo, "commit", "-qm", "latin-1")
    gitrun(git_repo, "update-ref", "refs/heads/bosun/run-1", "main")
    task = await service.acquire_worktree((await new_task(base_run.id, "t")).id)
    lines = original.splitlines(keepends=True)
    lines[1], lines[25] = b"d\xe9but\n", b"fin \xff\n"
    (Path(task.worktree or "") / name).write_bytes(b"".join(lines))
    await service.commit(task.id, 1, "edit latin-1")
    diff = await service.task_diff(task.id)
    assert "\ufffd" in diff.model_dump_json()
    (file,) = diff.files
    assert file.path == "l\ufffdgacy.txt"
    await service.select_hunks(task.id, [file.hunks[0].id])
    outcome = await service.merge_task(task.id)
    expected = original.splitlines(keepends=True)
    expected[1] = b"d\xe9but\n"
    merged = await asyncio.to_thread(
        subprocess.run,
        ["git", "cat-file", "blob", f"{outcome.run_head}:{name}"],
        cwd=git_repo,
        capture_output=True,
        check=True,
    )
    assert merged.stdout == b"".join(expected)
