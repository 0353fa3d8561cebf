"""Framework tools: planning, sharing what was learned, asking a human, finishing.

`ask_human` and `finish` do nothing themselves: they return typed control outcomes
that the worker loop acts on. The others go through the `FrameworkHost` the engine
provides (`BoardFrameworkHost` writes straight to the board).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bosun.tools.context import FrameworkHost, SubtaskSpec, ToolContext
from bosun.tools.errors import ToolError
from bosun.tools.registry import Tool
from bosun.tools.results import AskHuman, Finish, ToolResult


class CreateSubtasksArgs(BaseModel):
    """Arguments of create_subtasks."""

    tasks: list[SubtaskSpec] = Field(min_length=1, max_length=50)


class InsightArgs(BaseModel):
    """Arguments of post_insight."""

    text: str = Field(min_length=1, max_length=5000, description="what others should know")


class DesignDecisionArgs(BaseModel):
    """Arguments of log_design_decision."""

    decision: str = Field(min_length=1, max_length=2000)
    rationale: str = Field(default="", max_length=5000)


class AskHumanArgs(BaseModel):
    """Arguments of ask_human."""

    question: str = Field(min_length=1, max_length=5000)
    options: list[str] = Field(default_factory=list, max_length=10)


class FinishArgs(BaseModel):
    """Arguments of finish."""

    summary: str = Field(min_length=1, max_length=10_000, description="what was done")
    files_changed: list[str] = Field(default_factory=list, max_length=1000)


def _host(ctx: ToolContext) -> FrameworkHost:
    if ctx.host is None:
        raise ToolError("this tool is not available in this context")
    return ctx.host


async def create_subtasks(ctx: ToolContext, args: CreateSubtasksArgs) -> str:
    """Create the planned tasks in one go (dependencies by key)."""
    keys = [t.key for t in args.tasks]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ToolError(f"duplicate task keys: {', '.join(dupes)}")
    lines = await _host(ctx).create_subtasks(ctx, args.tasks)
    return f"created {len(lines)} task(s):\n" + "\n".join(lines)


async def post_insight(ctx: ToolContext, args: InsightArgs) -> str:
    """Share something learned with the rest of the run."""
    await _host(ctx).post_insight(ctx, args.text)
    return "insight posted"


async def log_design_decision(ctx: ToolContext, args: DesignDecisionArgs) -> str:
    """Record a decision in the run's design log."""
    await _host(ctx).log_design_decision(ctx, args.decision, args.rationale)
    return "decision logged"


async def ask_human(ctx: ToolContext, args: AskHumanArgs) -> ToolResult:
    """Stop and put a question in front of a human."""
    return ToolResult(
        "question sent to a human; the task waits for the answer",
        control=AskHuman(question=args.question, options=args.options),
    )


async def finish(ctx: ToolContext, args: FinishArgs) -> ToolResult:
    """Declare the task done."""
    return ToolResult(
        "finished", control=Finish(summary=args.summary, files_changed=args.files_changed)
    )


FRAMEWORK_TOOLS: tuple[Tool[Any], ...] = (
    Tool("create_subtasks", "Create tasks for this run: each with a unique key, title, "
         "description, worker profile, dependencies (keys) and acceptance criteria.",
         CreateSubtasksArgs, create_subtasks, where="daemon"),
    Tool("post_insight", "Share a fact other workers of this run should know.",
         InsightArgs, post_insight, where="daemon"),
    Tool("log_design_decision", "Record a design decision and its rationale in the "
         "run's design log.", DesignDecisionArgs, log_design_decision, where="daemon"),
    Tool("ask_human", "Ask a human a question you cannot answer yourself; the task "
         "pauses until they answer.", AskHumanArgs, ask_human, where="daemon"),
    Tool("finish", "Declare the task done, with a summary and the files changed.",
         FinishArgs, finish, where="daemon"),
)  # fmt: skip
