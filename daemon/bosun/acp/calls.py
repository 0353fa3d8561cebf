"""An attempt's live text and tool calls, from the daemon's transcript deltas.

Text streams as thoughts headed by the task that speaks; a "message stored" marker makes
the session read the attempt's new stored messages, whose tool calls start (assistant
messages) and end (tool results) as ACP tool calls of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bosun_protocol.entities import Message, Task

from bosun.acp import mapping as m
from bosun.acp.daemons import DaemonLink


class AttemptCalls:
    """The transcript side of one session's updates."""

    def __init__(
        self, link: DaemonLink, send: Callable[[Any], Awaitable[None]], started: set[str]
    ) -> None:
        self.link = link
        self._send = send
        self._started = started  # the session's: tool call ids the editor has seen start
        self._cursor: dict[tuple[int, int], int] = {}  # (task, attempt) → last message id
        self.speaker: int | None = None  # the task whose live text was shown last

    async def delta(self, task: Task, params: dict[str, Any]) -> None:
        """One bosun/transcriptDelta of `task`."""
        text = params.get("delta") or ""
        if text and params.get("role", "assistant") == "assistant":
            if self.speaker != task.id:
                self.speaker = task.id
                text = f"\n[#{task.id} {task.profile.value}] {text}"
            await self._send(m.thought_text(text))
        if params.get("messageId") is not None:
            await self._stored(task, int(params["attempt"]))

    async def _stored(self, task: Task, attempt: int) -> None:
        key = (task.id, attempt)
        page = await self.link.request(
            "bosun/transcript",
            {"taskId": task.id, "attempt": attempt, "afterId": self._cursor.get(key, 0)},
        )
        for raw in page["messages"]:
            message = Message.model_validate(raw)
            self._cursor[key] = message.id
            if message.role == "assistant":
                for start in m.attempt_calls(task, message):
                    self._started.add(start.tool_call_id)
                    await self._send(start)
            elif message.role == "tool":
                done = m.attempt_result(task, message)
                if done is not None and done.tool_call_id in self._started:
                    await self._send(done)
