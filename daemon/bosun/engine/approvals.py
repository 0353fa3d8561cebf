"""Tool approvals: an attempt's `ask` policy rule becomes a prompt any client can answer.

The task stays `active` while its attempt waits inside the tool call; the attempt's time
limit and stall clock stop for the wait (see humans.py for prompts in general).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bosun_protocol.engine import PromptKind, ResolveAction, ToolApprovalInfo
from bosun_protocol.entities import Task

from bosun.tools.context import ApprovalChoice, ApprovalDecision, ApprovalRequest

if TYPE_CHECKING:
    from bosun.engine.core import ActiveAttempt
    from bosun.engine.humans import Humans

_A = ResolveAction


class TaskApprover:
    """An attempt's Approver: an approval prompt, answered by any client."""

    def __init__(self, humans: Humans, task: Task, handle: ActiveAttempt) -> None:
        self.humans = humans
        self.task = task
        self.handle = handle

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        """Ask, and wait (with the attempt's clocks stopped) for the answer."""
        humans, handle = self.humans, self.handle
        engine = humans.engine
        if handle.cancel.is_set():
            return ApprovalDecision(choice=ApprovalChoice.DENY, note="the attempt is stopping")
        reason = f"{request.tool} needs your approval (rule {request.rule})"
        if request.reason:
            reason += f": {request.reason}"
        info = ToolApprovalInfo(
            tool=request.tool,
            arguments=request.arguments,
            rule=request.rule,
            attempt=request.attempt,
        )
        prompt = await humans.open(
            self.task.run_id,
            self.task.id,
            PromptKind.TOOL_APPROVAL,
            reason,
            [_A.APPROVE, _A.DENY],
            approval=info,
        )
        fut: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        humans.waiters[prompt.prompt_id] = fut
        handle.waiting_since = engine.loop_time()
        try:
            task = await engine.store.update_task(
                self.task.id,
                event="task.approval_requested",
                data={"promptId": prompt.prompt_id, "tool": request.tool},
                reason=reason,
            )
            await humans.announce(prompt, task)
            return await fut
        finally:
            now = engine.loop_time()
            handle.human_wait += now - (handle.waiting_since or now)
            handle.waiting_since = None
            handle.last_activity = now
            humans.waiters.pop(prompt.prompt_id, None)
            if prompt.prompt_id in humans.prompts:
                await humans.close(prompt, "engine", _A.DENY)
