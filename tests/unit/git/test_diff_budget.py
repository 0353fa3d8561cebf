"""A task's diff answer stays within its byte budget: a huge generated file is listed
with its line counts but without hunks (`truncated`), small files keep theirs, the file
can be fetched alone, and review still merges the whole task."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from bosun.errors import NotFoundError
from bosun.git.diff_budget import fit_diff, hunk_bytes
from bosun.git.service import GitService
from bosun_protocol.entities import Run, Task
from bosun_protocol.review import FileDiff, Hunk, TaskDiffParams

from .gitrepo import task_commit

NewTask = Callable[[int, str], Awaitable[Task]]
BIG_LINES = 60_000  # ~2.4 MB of diff: over a 1 MiB budget, far under the message limit


async def _task_with_a_dump(service: GitService, task_id: int) -> Task:
    dump = "".join(f"{i},{i * i},row {i}\n" for i in range(BIG_LINES))
    files = {"dump.csv": dump, "small.py": "print('hello')\n"}
    return await task_commit(service, task_id, files, "a dump and a small change")


async def test_a_huge_file_is_listed_without_hunks_and_small_files_keep_theirs(
    service: GitService, run: Run, new_task: NewTask
) -> None:
    task = await _task_with_a_dump(service, (await new_task(run.id, "t")).id)
    diff = await service.task_diff(task.id, max_bytes=1 << 20)
    by_path = {f.path: f for f in diff.files}
    assert diff.truncated
    assert by_path["dump.csv"].truncated and by_path["dump.csv"].hunks == []
    assert by_path["dump.csv"].added_lines == BIG_LINES  # counted in full all the same
    assert not by_path["small.py"].truncated
    assert by_path["small.py"].hunks[0].lines == ["+print('hello')"]
    assert len(diff.model_dump_json(by_alias=True)) < 1 << 20


async def test_the_whole_diff_within_the_default_budget_is_not_truncated(
    service: GitService, run: Run, new_task: NewTask
) -> None:
    task = await _task_with_a_dump(service, (await new_task(run.id, "t")).id)
    diff = await service.task_diff(task.id)  # 4 MiB default
    assert not diff.truncated
    assert sum(len(h.lines) for f in diff.files for h in f.hunks) == BIG_LINES + 1


async def test_one_file_can_be_fetched_alone_and_an_unknown_path_is_named(
    service: GitService, run: Run, new_task: NewTask
) -> None:
    task = await _task_with_a_dump(service, (await new_task(run.id, "t")).id)
    only = await service.task_diff(task.id, path="small.py")
    assert [f.path for f in only.files] == ["small.py"] and not only.truncated
    with pytest.raises(NotFoundError, match=r"did not change 'nope\.txt'"):
        await service.task_diff(task.id, path="nope.txt")


def test_the_budget_estimate_never_undercounts_the_encoded_size() -> None:
    lines = ['+"quoted" and ünïcode \\ text', "-gone \x1b[1mbold\x1b[0m\x7f", " con\ttext"] * 50
    hunk = Hunk(id="x" * 16, header="@@ -1,100 +1,100 @@", lines=lines)
    encoded = len(json.dumps(hunk.model_dump(by_alias=True), ensure_ascii=False).encode())
    assert hunk_bytes(hunk) >= encoded
    files = [FileDiff(path=f"f{i}", status="modified", hunks=[hunk]) for i in range(10)]
    kept, truncated = fit_diff(files, 3 * hunk_bytes(hunk) + 10 * 200)
    assert truncated and [f.truncated for f in kept] == [False] * 3 + [True] * 7


def test_a_budget_outside_the_limits_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match=r"max_bytes|maxBytes"):
        TaskDiffParams.model_validate({"taskId": 1, "maxBytes": 100 << 20})
