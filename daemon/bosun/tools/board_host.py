"""A `FrameworkHost` backed directly by the board."""

from __future__ import annotations

from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.tools.context import SubtaskSpec, ToolContext


class BoardFrameworkHost:
    """Creates subtasks and records insights and design decisions in the board."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create_subtasks(self, ctx: ToolContext, subtasks: list[SubtaskSpec]) -> list[str]:
        """Create the tasks atomically as children of the calling task."""
        tasks = await self.store.create_tasks(ctx.run_id, await self.task_specs(ctx, subtasks))
        return [f"#{t.id} {t.key}: {t.title} ({t.profile.value})" for t in tasks]

    async def task_specs(self, ctx: ToolContext, subtasks: list[SubtaskSpec]) -> list[TaskSpec]:
        """The board specs for a planner's subtasks (override to add dependencies, retries…)."""
        return [
            TaskSpec(
                key=s.key,
                title=s.title,
                description=s.description,
                profile=s.profile,
                depends_on=s.depends_on,
                acceptance_criteria=s.acceptance_criteria,
                parent_id=ctx.task_id,
            )
            for s in subtasks
        ]

    async def post_insight(self, ctx: ToolContext, text: str) -> None:
        """An `insight` event of the run."""
        await self.store.append_event(
            "insight",
            run_id=ctx.run_id,
            task_id=ctx.task_id,
            data={"text": text, "attempt": ctx.attempt, "profile": ctx.profile.value},
        )

    async def log_design_decision(self, ctx: ToolContext, decision: str, rationale: str) -> None:
        """A `design_decision` event: the run's design log is these events in order."""
        await self.store.append_event(
            "design_decision",
            run_id=ctx.run_id,
            task_id=ctx.task_id,
            data={"decision": decision, "rationale": rationale, "attempt": ctx.attempt},
        )
