"""The review methods end to end: CLI command → method table → handler → git plane.

The client here dispatches in-process to the registered handlers (validating params and
results against the method table exactly as the server does), so the CLI functions, the
handlers and the git plane are all real; the engine is a minimal reviewer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bosun.server.handlers_review  # noqa: F401  (registers the handlers)
import pytest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.cli import git_commands
from bosun.config import Settings
from bosun.errors import InvalidTransitionError
from bosun.git.service import GitService
from bosun.server.context import DaemonContext
from bosun.server.registry import HANDLERS
from bosun_protocol.base import WireModel
from bosun_protocol.entities import Task, TaskState
from bosun_protocol.methods import METHODS
from bosun_protocol.review import ApproveHunksDecision, ReviewComment, ReviewDecision


class Reviewer:
    """Stands in for the engine: approval merges and completes, the rest abandons."""

    def __init__(self, store: Store, git: GitService) -> None:
        self.store = store
        self.git = git
        self.decisions: list[ReviewDecision] = []

    async def apply_review(self, task_id: int, decision: ReviewDecision) -> Task:
        self.decisions.append(decision)
        if decision.kind in ("approve", "approve_hunks"):
            await self.git.merge_task(task_id)
            return await self.store.transition(
                task_id, expected=TaskState.AWAITING_REVIEW, to=TaskState.COMPLETE
            )
        return await self.store.transition(
            task_id, expected=TaskState.AWAITING_REVIEW, to=TaskState.ABANDONED
        )


class LocalClient:
    """`request(method, params)` through the method table and the registered handlers."""

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx

    async def request(self, method: str, params: WireModel | dict[str, Any]) -> dict[str, Any]:
        spec = METHODS[method]
        raw = params.model_dump(by_alias=True) if isinstance(params, WireModel) else params
        result = await HANDLERS[method](self.ctx, spec.params.model_validate(raw))
        assert spec.result is not None
        checked = spec.result.model_validate(result.model_dump())
        dumped: dict[str, Any] = checked.model_dump(by_alias=True, mode="json")
        return dumped


@pytest.fixture
def ctx(git_repo: Path, board: Store, git_plane: GitService) -> DaemonContext:
    context = DaemonContext(
        workspace=git_plane.workspace,
        settings=Settings(),
        store=board,
        boot_id="b",
        started_at=datetime.now(UTC),
    )
    context.services["git"] = git_plane
    context.services["engine"] = Reviewer(board, git_plane)
    return context


async def _task_awaiting_review(board: Store, git: GitService) -> Task:
    run = await git.start_run((await board.create_run("o")).id)
    (task,) = await board.create_tasks(run.id, [TaskSpec(key="t", title="t")])
    task = await git.acquire_worktree(task.id)
    path = Path(task.worktree or "")
    (path / "README.md").write_text("# sample\nmore\n")
    (path / "extra.txt").write_text("extra\n")
    await git.commit(task.id, 1, "work")
    for to in (TaskState.READY, TaskState.ACTIVE, TaskState.AWAITING_QA, TaskState.AWAITING_REVIEW):
        task = await board.transition(task.id, expected=task.state, to=to)
    return task


def _args(**values: Any) -> argparse.Namespace:
    base = {"json": False, "approve": False, "approve_hunks": None, "request_changes": None}
    where = {"path": None, "line": None}
    return argparse.Namespace(**{**base, **where, "reject": False, "reason": "", **values})


async def test_diff_then_approve_some_hunks_merges_only_those(
    ctx: DaemonContext,
    board: Store,
    git_plane: GitService,
    capsys: pytest.CaptureFixture[str],
    gitrun: Callable[..., str],
) -> None:
    task = await _task_awaiting_review(board, git_plane)
    client = LocalClient(ctx)
    assert await git_commands.cmd_diff(client, _args(task=task.id)) == 0
    printed = capsys.readouterr().out
    diff = await client.request("bosun/taskDiff", {"taskId": task.id})
    readme_hunk = diff["files"][0]["hunks"][0]["id"]
    assert f"[{readme_hunk}]" in printed
    code = await git_commands.cmd_review(client, _args(task=task.id, approve_hunks=[readme_hunk]))
    assert code == 0
    assert "approved hunks: 1, rejected: 1" in capsys.readouterr().out
    reviewer = ctx.services["engine"]
    assert isinstance(reviewer.decisions[0], ApproveHunksDecision)
    assert (await board.get_task(task.id)).state is TaskState.COMPLETE
    files = gitrun(git_plane.root, "ls-tree", "--name-only", "bosun/run-1").split()
    assert files == ["README.md"]


async def test_diff_command_prints_crlf_lines_without_their_cr_and_a_lone_cr_as_a_symbol(
    ctx: DaemonContext, board: Store, git_plane: GitService, capsys: pytest.CaptureFixture[str]
) -> None:
    run = await git_plane.start_run((await board.create_run("o")).id)
    (task,) = await board.create_tasks(run.id, [TaskSpec(key="t", title="t")])
    task = await git_plane.acquire_worktree(task.id)
    (Path(task.worktree or "") / "w.txt").write_bytes(b"crlf\r\nalpha\rBETA\n")
    await git_plane.commit(task.id, 1, "line endings")
    client = LocalClient(ctx)
    diff = await client.request("bosun/taskDiff", {"taskId": task.id})
    assert diff["files"][0]["hunks"][0]["lines"] == ["+crlf\r", "+alpha\rBETA"]
    assert await git_commands.cmd_diff(client, _args(task=task.id)) == 0
    printed = capsys.readouterr().out
    assert "    +crlf\n    +alpha\u240dBETA\n" in printed and "\r" not in printed


async def test_reviewing_a_task_not_awaiting_review_is_refused(
    ctx: DaemonContext, board: Store, git_plane: GitService
) -> None:
    run = await git_plane.start_run((await board.create_run("o")).id)
    (task,) = await board.create_tasks(run.id, [TaskSpec(key="t", title="t")])
    with pytest.raises(InvalidTransitionError, match="not awaiting_review"):
        await LocalClient(ctx).request(
            "bosun/reviewTask", {"taskId": task.id, "decision": {"kind": "approve"}}
        )


async def test_land_and_gc_commands_report_outcomes(
    ctx: DaemonContext,
    board: Store,
    git_plane: GitService,
    capsys: pytest.CaptureFixture[str],
    git_repo: Path,
) -> None:
    task = await _task_awaiting_review(board, git_plane)
    client = LocalClient(ctx)
    await git_commands.cmd_review(client, _args(task=task.id, approve=True))
    (git_repo / "README.md").write_text("dirty\n")
    assert await git_commands.cmd_land(client, _args(run=task.run_id)) == 1
    assert "uncommitted changes" in capsys.readouterr().out
    (git_repo / "README.md").write_text("# sample\n")
    assert await git_commands.cmd_land(client, _args(run=task.run_id)) == 0
    assert "landed on main (ff)" in capsys.readouterr().out
    assert await git_commands.cmd_gc(client, _args(dry_run=False)) == 0
    assert f"removed branch: bosun/task-{task.id}" in capsys.readouterr().out


def test_review_flags_become_one_decision() -> None:
    params = git_commands.decision_of(_args(request_changes="add tests"), 3)
    assert params.model_dump(by_alias=True)["decision"] == {
        "kind": "request_changes",
        "comments": [{"body": "add tests", "path": None, "hunkId": None, "line": None}],
    }


def test_request_changes_flags_anchor_the_comment_to_a_file_line() -> None:
    args = _args(task=3, request_changes="keep it", path="NOTES.md", line=19)
    comment = git_commands.decision_of(args, 3).model_dump(by_alias=True)["decision"]["comments"][0]
    assert (comment["path"], comment["line"]) == ("NOTES.md", 19)


def test_review_comment_line_needs_a_path_and_renders_as_path_colon_line() -> None:
    with pytest.raises(ValueError, match="needs `path`"):
        ReviewComment(body="x", line=3)
    with pytest.raises(ValueError):
        ReviewComment(body="x", path="a.py", line=0)
    assert ReviewComment(body="fix", path="a.py", line=3).render() == "a.py:3: fix"
    assert ReviewComment(body="fix", path="a.py").render() == "a.py: fix"
    assert ReviewComment(body="fix").render() == "fix"
