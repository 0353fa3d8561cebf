"""The executor seam in the tool pipeline: worktree tools go to the attempt's place,
framework tools stay in the daemon, and a lost node ends the attempt instead of
reaching the model as a tool error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.agents.api import CheckResult
from bosun.errors import WorkerLostError
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.results import ToolResult


class FakePlace:
    """A place that records what it was asked to run, and can lose its node."""

    where = "fake:node-1"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lost = False

    async def run_tool(self, ctx: ToolContext, name: str, arguments: dict[str, Any]) -> ToolResult:
        if self.lost:
            raise WorkerLostError("node-1 died")
        self.calls.append((name, arguments))
        return ToolResult(f"ran {name} remotely")

    async def run_check(self, command: str, *, per_test: bool) -> CheckResult:
        return CheckResult(command, 0)

    async def settle(self, worktree: Path) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_worktree_tools_run_at_the_place_with_validated_arguments(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor, sink: Any
) -> None:
    place = FakePlace()
    ctx = make_ctx(tmp_path, events=sink, place=place)
    result = await executor.call(ctx, "write_file", {"path": "a.txt", "content": "x"})
    assert result.content == "ran write_file remotely"
    assert place.calls == [("write_file", {"path": "a.txt", "content": "x"})]
    assert not (tmp_path / "a.txt").exists()  # nothing was written in the daemon's worktree
    assert sink.events[-1][3]["tool"] == "write_file"  # the event is still the daemon's


async def test_framework_tools_never_leave_the_daemon(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    place = FakePlace()
    result = await executor.call(
        make_ctx(tmp_path, place=place), "finish", {"summary": "done", "files_changed": []}
    )
    assert result.control is not None and result.control.kind == "finish"
    assert place.calls == []


async def test_invalid_or_denied_calls_are_refused_before_reaching_the_place(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    place = FakePlace()
    ctx = make_ctx(tmp_path, place=place)
    invalid = await executor.call(ctx, "write_file", {"path": 3})
    assert invalid.outcome == "invalid"
    assert place.calls == []


async def test_a_lost_node_is_raised_not_shown_to_the_model(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    place = FakePlace()
    place.lost = True
    with pytest.raises(WorkerLostError, match="node-1 died"):
        await executor.call(make_ctx(tmp_path, place=place), "read_file", {"path": "a"})


async def test_without_a_place_tools_run_here_as_before(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    result = await executor.call(
        make_ctx(tmp_path), "write_file", {"path": "b.txt", "content": "y"}
    )
    assert not result.is_error
    assert (tmp_path / "b.txt").read_text() == "y"
