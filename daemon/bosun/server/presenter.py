"""The presenter of the engine's facts to the daemon's clients (the `Notifier` the
engine is given when it runs in a daemon).

Rich clients get `bosun/humanPrompt`, `bosun/promptResolved` and `bosun/transcriptDelta`.
Plain LSP clients (Neovim, Helix, Emacs…) get each prompt as `window/showMessageRequest`
with one action per suggested answer (an agent's `ask_human` options) and per option —
the action they pick answers the prompt — and each run's progress as work-done
`$/progress` (begin / report / end); the words are in `bosun.server.plain_text`. A
client that draws prompts itself says so with `initializationOptions.richPrompts = true`
and is not sent the `window/showMessageRequest` copy; `bosun/*` notifications go only to
clients that ask (`bosunNotifications` or `richPrompts`). A client that connects while
runs are live is caught up (`client_ready`): open questions asked, progress begun. A
question a plain client dismissed is asked again after its `reaskAfterS` (or at once on
`bosun.humanQueue`); one answered elsewhere is taken back with `$/cancelRequest`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bosun_protocol.engine import (
    HumanPrompt,
    HumanPromptNotification,
    PromptResolved,
    ResolveTaskParams,
    TranscriptDelta,
)
from bosun_protocol.entities import Run, Task
from lsprotocol import types

from bosun.engine.progress import EngineView
from bosun.errors import BosunError
from bosun.server.framing import encode_body
from bosun.server.hub import wants_bosun_notifications
from bosun.server.plain_text import (
    FINISHED_RUN_STATES,
    end_message,
    live_message,
    message_actions,
    progress_title,
    prompt_message,
)

if TYPE_CHECKING:
    from bosun.server.connection import Connection
    from bosun.server.hub import Hub

log = logging.getLogger(__name__)

Resolve = Callable[[ResolveTaskParams], Awaitable[object]]
PROGRESS_INTERVAL_S = 0.25  # at most four progress reports a second per run
REASK_AFTER_S = 120.0  # a question dismissed (Esc) is asked again after this long


def reask_after(conn: Connection) -> float:
    """How long after a dismissal this client is asked again (its `reaskAfterS`, 0: never)."""
    value = conn.client_options.get("reaskAfterS", REASK_AFTER_S)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return REASK_AFTER_S
    return float(value)


def _works_with_progress(conn: Connection) -> bool:
    window = getattr(conn.protocol.client_capabilities, "window", None)
    return window is not None and bool(getattr(window, "work_done_progress", False))


class HubNotifier:
    """Sends the engine's notifications to every connected client of the daemon."""

    def __init__(self, hub: Hub, resolve: Resolve, view: EngineView | None = None) -> None:
        self.hub = hub
        self.resolve = resolve
        self.view = view
        self._tasks: set[asyncio.Task[Any]] = set()
        # (connection, run) → set once its `begin` is out: reports and the end wait for it,
        # so none overtakes the begin while the token request is in flight.
        self._begun: dict[tuple[int, int], asyncio.Event] = {}
        self._pending: dict[int, tuple[Run, dict[str, int]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        # prompt id → {connection id: the id of the showMessageRequest asking it}
        self._asking: dict[str, dict[int, str]] = {}
        self._request_ids = itertools.count(1)
        # (connection id, prompt id) → the timer asking a dismissed question again
        self._later: dict[tuple[int, str], asyncio.TimerHandle] = {}

    def _broadcast(self, method: str, payload: Any) -> None:
        body = encode_body(
            {
                "jsonrpc": "2.0",
                "method": method,
                "params": payload.model_dump(mode="json", by_alias=True),
            }
        )
        for conn in self._clients():
            if wants_bosun_notifications(conn):
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

    # -- a client arrives ------------------------------------------------------------------

    def client_ready(self, conn: Connection) -> None:
        """After a client's `initialized`: ask it the open questions and begin progress
        for live runs, so an editor that connects late (or reconnects) misses nothing."""
        if self.view is None:
            return
        if _works_with_progress(conn):
            for run, counts in self.view.live_runs():
                self._spawn(self._progress(conn, run, counts), f"progress-{run.id}-{conn.id}")
        if not conn.client_options.get("richPrompts"):
            for prompt in self.view.open_prompts():
                self._spawn(self._ask_about(conn, prompt), f"prompt-{prompt.prompt_id}-{conn.id}")

    def reask(self, conn: Connection) -> int:
        """Ask this plain client every open question again (the `bosun.humanQueue`
        command: how a question dismissed with Esc comes back); how many were asked.

        A menu of it still open on the client is withdrawn first: the user asked for the
        questions, and one dismissed a moment ago may not be seen as dismissed yet."""
        if self.view is None or conn.client_options.get("richPrompts"):
            return 0
        prompts = self.view.open_prompts()
        for prompt in prompts:
            later = self._later.pop((conn.id, prompt.prompt_id), None)
            if later is not None:
                later.cancel()
            self._withdraw(conn, prompt.prompt_id)
            self._spawn(self._ask_about(conn, prompt), f"prompt-{prompt.prompt_id}-{conn.id}")
        return len(prompts)

    def _withdraw(self, conn: Connection, prompt_id: str) -> bool:
        """Cancel this client's open menu for the prompt (`$/cancelRequest`, LSP's way
        for the server to take a request back); whether there was one."""
        msg_id = self._asking.get(prompt_id, {}).pop(conn.id, None)
        if msg_id is None:
            return False
        conn.send_body(
            encode_body({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": msg_id}})
        )
        future = conn.protocol._request_futures.pop(msg_id, None)
        if future is not None:
            future.cancel()
        return True

    async def _ask_about(self, conn: Connection, prompt: HumanPrompt) -> None:
        task = await self.view.task(prompt.task_id) if self.view and prompt.task_id else None
        await self._ask(conn, prompt, task)

    # -- prompts ---------------------------------------------------------------------------

    def prompt_opened(self, prompt: HumanPrompt, task: Task | None, seq: int) -> None:
        """bosun/humanPrompt to rich clients; window/showMessageRequest to plain ones."""
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
        asking = self._asking.setdefault(prompt.prompt_id, {})
        if conn.id in asking:
            return  # this client's menu for it is still open
        answers = message_actions(prompt)
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=prompt_message(prompt, task),
            actions=[types.MessageActionItem(title=title) for title in answers],
        )
        msg_id = f"bosun-prompt-{prompt.prompt_id}-{next(self._request_ids)}"
        asking[conn.id] = msg_id
        try:
            answer = await conn.protocol.send_request_async(
                types.WINDOW_SHOW_MESSAGE_REQUEST, params, msg_id=msg_id
            )
        except asyncio.CancelledError:
            return  # answered elsewhere (prompt_resolved cancelled it) or the client left
        finally:
            if self._asking.get(prompt.prompt_id, {}).get(conn.id) == msg_id:
                del self._asking[prompt.prompt_id][conn.id]
        title = getattr(answer, "title", None)
        if title is None or title not in answers:
            # Dismissed: open for anyone else; asked again later (or on bosun.humanQueue).
            delay = reask_after(conn)
            if delay > 0:
                key = (conn.id, prompt.prompt_id)
                loop = asyncio.get_running_loop()
                self._later[key] = loop.call_later(delay, self._ask_again, conn, prompt, task)
            return
        action, choice = answers[title]
        try:
            await self.resolve(
                ResolveTaskParams(
                    prompt_id=prompt.prompt_id, action=action, choice=choice, by=f"client {conn.id}"
                )
            )
        except BosunError as exc:  # answered first elsewhere: say so, drop nothing silently
            log.info("answer from client %d not applied: %s", conn.id, exc)
            conn.show_message(2, f"Bosun: your answer ({title}) was not applied: {exc.message}")

    def _ask_again(self, conn: Connection, prompt: HumanPrompt, task: Task | None) -> None:
        self._later.pop((conn.id, prompt.prompt_id), None)
        still_open = self.view is not None and any(
            p.prompt_id == prompt.prompt_id for p in self.view.open_prompts()
        )
        if still_open and conn.takes_requests:
            self._spawn(self._ask(conn, prompt, task), f"prompt-{prompt.prompt_id}-{conn.id}")

    def prompt_resolved(self, note: PromptResolved) -> None:
        """bosun/promptResolved to rich clients; plain clients still showing the question
        get `$/cancelRequest` for their menu and a message saying who answered."""
        self._broadcast("bosun/promptResolved", note)
        showing = set(self._asking.get(note.prompt_id, {}))
        for conn in self._clients():
            if conn.id in showing and self._withdraw(conn, note.prompt_id):
                where = (
                    f"task #{note.task_id}" if note.task_id is not None else f"run {note.run_id}"
                )
                conn.show_message(
                    3, f"Bosun — {where}: already answered by {note.by} ({note.action.value})"
                )
        self._asking.pop(note.prompt_id, None)
        for key in [k for k in self._later if k[1] == note.prompt_id]:
            self._later.pop(key).cancel()

    def transcript_delta(self, delta: TranscriptDelta) -> None:
        """bosun/transcriptDelta to rich clients."""
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
                if _works_with_progress(conn):
                    self._spawn(self._progress(conn, run, counts), f"progress-{run.id}-{conn.id}")

    async def _progress(self, conn: Connection, run: Run, counts: dict[str, int]) -> None:
        if not conn.takes_requests:
            return  # a client after `shutdown` gets neither the token request nor reports
        token = f"bosun-run-{run.id}"
        key = (conn.id, run.id)
        finished = run.state in FINISHED_RUN_STATES
        begun = self._begun.get(key)
        if begun is None:
            # A client whose first view of a run is its end (it connected moments before)
            # still gets begin then end: a progress it never saw close would hang.
            begun = self._begun[key] = asyncio.Event()
            try:
                await conn.protocol.send_request_async(
                    types.WINDOW_WORK_DONE_PROGRESS_CREATE,
                    types.WorkDoneProgressCreateParams(token=token),
                )
                message, percent = live_message(run, counts)
                begin = types.WorkDoneProgressBegin(
                    title=progress_title(run), message=message, percentage=percent,
                    cancellable=False,
                )  # fmt: skip
                conn.protocol.notify(types.PROGRESS, types.ProgressParams(token=token, value=begin))
            finally:
                begun.set()
            if not finished:
                return
        else:
            await begun.wait()
        value: Any
        if finished:
            if self._begun.get(key) is begun:
                del self._begun[key]
            value = types.WorkDoneProgressEnd(message=end_message(run, counts))
        else:
            message, percent = live_message(run, counts)
            value = types.WorkDoneProgressReport(message=message, percentage=percent)
        conn.protocol.notify(types.PROGRESS, types.ProgressParams(token=token, value=value))
