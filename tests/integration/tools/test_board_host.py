"""Framework tools against the real board: subtasks, insights, design log, tool events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bosun.board import Store, TaskSpec
from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.board_host import BoardFrameworkHost
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode, ToolSettings
from bosun_protocol.entities import Profile


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real board on a real SQLite file."""
    opened = await Store.open(tmp_path / "state" / "board.sqlite3", boot_id="boot-tools")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def planner_ctx(store: Store, tmp_path: Path) -> ToolContext:
    """A planner's context on a run with one task, wired to the board."""
    run = await store.create_run("build a thing")
    (parent,) = await store.create_tasks(
        run.id, [TaskSpec(key="plan", title="Plan it", profile=Profile.PLANNER)]
    )
    worktree = tmp_path / "wt"
    worktree.mkdir()
    settings = ToolSettings(sandbox=SandboxMode.NONE, allow_weak_sandbox=True)
    return ToolContext(
        run_id=run.id,
        task_id=parent.id,
        attempt=1,
        worktree_path=worktree,
        branch=f"bosun/task-{parent.id}",
        profile=Profile.PLANNER,
        settings=settings,
        events=store,
        host=BoardFrameworkHost(store),
        sandbox=Sandbox.detect(SandboxMode.NONE, allow_weak=True),
    )


@pytest.fixture
def executor() -> ToolExecutor:
    """The real pipeline with default settings."""
    settings = ToolSettings(sandbox=SandboxMode.NONE, allow_weak_sandbox=True)
    return ToolExecutor(build_registry(settings), Policy.from_settings(settings))


async def test_create_subtasks_makes_children_with_dependencies_by_key(
    store: Store, planner_ctx: ToolContext, executor: ToolExecutor
) -> None:
    tasks = [
        {"key": "api", "title": "Write the API", "acceptance_criteria": ["tests pass"]},
        {"key": "docs", "title": "Document it", "profile": "writer", "depends_on": ["api"]},
    ]
    result = await executor.call(planner_ctx, "create_subtasks", {"tasks": tasks})
    assert not result.is_error, result.content
    api = await store.get_task_by_key(planner_ctx.run_id, "api")
    docs = await store.get_task_by_key(planner_ctx.run_id, "docs")
    assert docs.dependencies == [api.id]
    assert docs.profile is Profile.WRITER
    assert api.parent_id == planner_ctx.task_id
    assert api.acceptance_criteria == ["tests pass"]
    assert "#" in result.content


async def test_a_dependency_cycle_is_an_error_the_model_reads_and_nothing_is_created(
    store: Store, planner_ctx: ToolContext, executor: ToolExecutor
) -> None:
    tasks = [
        {"key": "a", "title": "A", "depends_on": ["b"]},
        {"key": "b", "title": "B", "depends_on": ["a"]},
    ]
    result = await executor.call(planner_ctx, "create_subtasks", {"tasks": tasks})
    assert result.is_error
    assert "cycle" in result.content
    assert [t.key for t in await store.list_tasks(planner_ctx.run_id)] == ["plan"]


async def test_duplicate_keys_are_refused_before_the_board(
    store: Store, planner_ctx: ToolContext, executor: ToolExecutor
) -> None:
    tasks = [{"key": "a", "title": "A"}, {"key": "a", "title": "A again"}]
    result = await executor.call(planner_ctx, "create_subtasks", {"tasks": tasks})
    assert result.is_error
    assert "duplicate task keys: a" in result.content


async def test_insights_design_decisions_and_tool_calls_are_board_events(
    store: Store, planner_ctx: ToolContext, executor: ToolExecutor
) -> None:
    await executor.call(planner_ctx, "post_insight", {"text": "the API uses UTC"})
    await executor.call(
        planner_ctx, "log_design_decision", {"decision": "SQLite", "rationale": "one file"}
    )
    events, _ = await store.events_since(0, run_id=planner_ctx.run_id)
    kinds = [e.kind for e in events]
    assert "insight" in kinds
    assert "design_decision" in kinds
    insight = next(e for e in events if e.kind == "insight")
    decision = next(e for e in events if e.kind == "design_decision")
    assert insight.data["text"] == "the API uses UTC"
    assert insight.task_id == planner_ctx.task_id
    assert decision.data == {"decision": "SQLite", "rationale": "one file", "attempt": 1}
    calls = [e for e in events if e.kind == "tool_call"]
    assert [c.data["tool"] for c in calls] == ["post_insight", "log_design_decision"]
    assert all(c.data["outcome"] == "ok" for c in calls)
