"""What the engine tells clients beyond board changes: prompts, answers, live transcript
text, and run progress.

Rich clients get `bosun/humanPrompt`, `bosun/promptResolved` and `bosun/transcriptDelta`.
Plain LSP clients (Neovim, Helix, Emacs…) get each prompt as `window/showMessageRequest`
with one action per suggested answer (an agent's `ask_human` options) and per option —
the action they pick answers the prompt — and each run's
progress as work-done `$/progress` (begin / report / end). A client that draws prompts
itself says so with `initializationOptions.richPrompts = true` and is not sent the
`window/showMessageRequest` copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from bosun_protocol.engine import (
    HumanPrompt,
    HumanPromptNotification,
    PromptResolved,
    ResolveAction,
    ResolveTaskParams,
    TranscriptDelta,
)
from bosun_protocol.entities import Run, Task
from lsprotocol import types

from bosun.server.framing import encode_body

if TYPE_CHECKING:
    from bosun.server.connection import Connection
    from bosun.server.hub import Hub

log = logging.getLogger(__name__)

Resolve = Callable[[ResolveTaskParams], Awaitable[object]]
PROGRESS_INTERVAL_S = 0.25  # at most four progress reports a second per run


class Notifier(Protocol):
    """Where the engine's own notifications go."""

    def prompt_opened(self, prompt: HumanPrompt, task: Task | None, seq: int) -> None: ...

    def prompt_resolved(self, note: PromptResolved) -> None: ...

    def run_progress(self, run: Run, counts: dict[str, int]) -> None: ...

    def transcript_delta(self, delta: TranscriptDelta) -> None: ...


class NullNotifier:
    """Tells no one (tests and benchmarks without clients)."""

    def prompt_opened(self, prompt: HumanPrompt, task: Task | None, seq: int) -> None:
        """Nothing."""

    def prompt_resolved(self, note: PromptResolved) -> None:
        """Nothing."""

    def run_progress(self, run: Run, counts: dict[str, int]) -> None:
        """Nothing."""

    def transcript_delta(self, delta: TranscriptDelta) -> None:
        """Nothing."""


def progress_message(counts: dict[str, int]) -> tuple[str, int]:
    """A one-line summary of a run's tasks and its percentage done."""
    total = sum(counts.values())
    done = counts.get("complete", 0) + counts.get("abandoned", 0)
    parts = [f"{done}/{total} tasks done"]
    for state in ("active", "awaiting_qa", "awaiting_review", "waiting_human", "ready"):
        if counts.get(state):
            parts.append(f"{counts[state]} {state.replace('_', ' ')}")
    percent = int(100 * done / total) if total else 0
    return ", ".join(parts), percent


def message_actions(prompt: HumanPrompt) -> dict[str, tuple[ResolveAction, str | None]]:
    """The prompt's answers as message action titles: its choices first (each answers
    retry with that text), then its options. Titles are unique: a choice that reads like
    an option, or repeats after clipping, is marked as an answer."""
    answers: dict[str, tuple[ResolveAction, str | None]] = {}
    options = {o.value for o in prompt.options}
    for choice in prompt.choices:
        title = _clip(" ".join(choice.split()))
        if title in options or title in answers:
            title = _clip(f"answer: {choice}")
        if title not in answers and ResolveAction.RETRY in prompt.options:
            answers[title] = (ResolveAction.RETRY, choice)
    for option in prompt.options:
        answers[option.value] = (option, None)
    return answers


def _clip(text: str, size: int = 100) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class HubNotifier:
    """Sends the engine's notifications to every connected client of the daemon."""

    def __init__(self, hub: Hub, resolve: Resolve) -> None:
        self.hub = hub
        self.resolve = resolve
        self._tasks: set[asyncio.Task[Any]] = set()
        self._begun: dict[tuple[int, int], bool] = {}  # (connection, run) → begin sent
        self._pending: dict[int, tuple[Run, dict[str, int]]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def _broadcast(self, method: str, payload: Any) -> None:
        body = encode_body(
            {
                "jsonrpc": "2.0",
                "method": method,
                "params": payload.model_dump(mode="json", by_alias=True),
            }
        )
        for conn in self._clients():
            conn.send_body(body)

    def _clients(self) -> list[Connection]:
        return [c for c in self.hub.connections if c.initialized and not c.closed.is_set()]

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("notifying a client failed: %s", task.exception())

    # -- prompts ---------------------------------------------------------------------------

    def prompt_opened(self, prompt: HumanPrompt, task: Task | None, seq: int) -> None:
        """bosun/humanPrompt to all; window/showMessageRequest to plain LSP clients."""
        self._broadcast(
            "bosun/humanPrompt", HumanPromptNotification(seq=seq, prompt=prompt, task=task)
        )
        for conn in self._clients():
            if conn.client_options.get("richPrompts"):
                continue
            self._spawn(self._ask(conn, prompt, task), f"prompt-{prompt.prompt_id}-{conn.id}")

    async def _ask(self, conn: Connection, prompt: HumanPrompt, task: Task | None) -> None:
        if not conn.takes_requests:
            return  # checked when the request is written, not when it was queued
        about = f"task #{task.id} {task.title}" if task is not None else f"run {prompt.run_id}"
        answers = message_actions(prompt)
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"Bosun — {about}: {prompt.reason}",
            actions=[types.MessageActionItem(title=title) for title in answers],
        )
        answer = await conn.protocol.send_request_async(types.WINDOW_SHOW_MESSAGE_REQUEST, params)
        title = getattr(answer, "title", None)
        if title is None or title not in answers:
            return  # dismissed: the prompt stays open for anyone else
        action, choice = answers[title]
        try:
            await self.resolve(
                ResolveTaskParams(
                    prompt_id=prompt.prompt_id, action=action, choice=choice, by=f"client {conn.id}"
                )
            )
        except Exception as exc:  # answered first elsewhere: nothing to do
            log.info("answer from client %d not applied: %s", conn.id, exc)

    def prompt_resolved(self, note: PromptResolved) -> None:
        """bosun/promptResolved to all."""
        self._broadcast("bosun/promptResolved", note)

    def transcript_delta(self, delta: TranscriptDelta) -> None:
        """bosun/transcriptDelta to all."""
        self._broadcast("bosun/transcriptDelta", delta)

    # -- progress ------------------------------------------------------------------------

    def run_progress(self, run: Run, counts: dict[str, int]) -> None:
        """Coalesce progress per run; reports go out at most every PROGRESS_INTERVAL_S."""
        self._pending[run.id] = (run, counts)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(PROGRESS_INTERVAL_S, self._flush)

    def _flush(self) -> None:
        self._timer = None
        pending, self._pending = self._pending, {}
        for run, counts in pending.values():
            for conn in self._clients():
                window = getattr(conn.protocol.client_capabilities, "window", None)
                if window is None or not getattr(window, "work_done_progress", False):
                    continue
                self._spawn(self._progress(conn, run, counts), f"progress-{run.id}-{conn.id}")

    async def _progress(self, conn: Connection, run: Run, counts: dict[str, int]) -> None:
        if not conn.takes_requests:
            return  # a client after `shutdown` gets neither the token request nor reports
        token = f"bosun-run-{run.id}"
        key = (conn.id, run.id)
        message, percent = progress_message(counts)
        if run.state.value in ("planning", "paused", "landing"):
            message = f"{run.state.value}: {message}"  # running is the ordinary case
        finished = run.state.value in ("completed", "failed", "cancelled")
        if key not in self._begun:
            if finished:
                return
            self._begun[key] = True
            await conn.protocol.send_request_async(
                types.WINDOW_WORK_DONE_PROGRESS_CREATE,
                types.WorkDoneProgressCreateParams(token=token),
            )
            value: Any = types.WorkDoneProgressBegin(
                title=f"Bosun run {run.id}", message=message, percentage=percent, cancellable=False
            )
        elif finished:
            del self._begun[key]
            value = types.WorkDoneProgressEnd(message=f"run {run.state.value}: {message}")
        else:
            value = types.WorkDoneProgressReport(message=message, percentage=percent)
        conn.protocol.notify(types.PROGRESS, types.ProgressParams(token=token, value=value))
