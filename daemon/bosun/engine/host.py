"""The engine's FrameworkHost: subtasks start after their creator's work is merged.

A director or planner creates tasks while its own attempt is still running; its design
document and plan reach the run branch only when it completes. So every subtask also
depends on the task that created it, and gets the run's retry allowance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bosun.board.models import TaskSpec
from bosun.tools.board_host import BoardFrameworkHost
from bosun.tools.context import SubtaskSpec, ToolContext

if TYPE_CHECKING:
    from bosun.engine.core import Engine


class EngineHost(BoardFrameworkHost):
    """create_subtasks with an implicit dependency on the creator; the rest as the board's."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.store)
        self.engine = engine

    async def create_subtasks(self, ctx: ToolContext, subtasks: list[SubtaskSpec]) -> list[str]:
        """Create the tasks atomically as children of (and waiting for) the calling task."""
        creator = await self.store.get_task(ctx.task_id)
        run = await self.store.get_run(ctx.run_id)
        retries = self.engine.max_retries_for(run)
        specs = [
            TaskSpec(
                **s.model_dump(exclude={"depends_on"}),
                depends_on=[*s.depends_on, creator.key],
                phase=creator.key,
                max_retries=retries,
                parent_id=ctx.task_id,
            )
            for s in subtasks
        ]
        tasks = await self.store.create_tasks(ctx.run_id, specs)
        return [f"#{t.id} {t.key}: {t.title} ({t.profile.value})" for t in tasks]
