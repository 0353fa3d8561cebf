"""An attempt's transcript: every message stored on the board, and streamed live.

Stored messages and live chunks are redacted here, before they leave the worker: a
secret the model or a tool echoes never reaches a client or the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bosun.agents.trim import bound
from bosun.board.models import NewMessage
from bosun.board.store import Store
from bosun.llm.messages import ChatMessage, Delta
from bosun.secrets import redact

log = logging.getLogger(__name__)

_CHUNK_LIMIT = 16_000
_HOLD_LIMIT = 2_000  # a word longer than this is sent anyway (redacted as far as it goes)  # a live chunk stays under the protocol's delta limit


@dataclass(frozen=True)
class TranscriptChunk:
    """A piece of live transcript: `message_id` is set once a whole message is stored."""

    role: str
    text: str
    message_id: int | None = None


# on_delta(task_id, attempt, chunk): the engine turns these into `bosun/transcriptDelta`.
DeltaSink = Callable[[int, int, TranscriptChunk], None]


def render_delta(delta: Delta) -> str:
    """The text a live view shows for one streamed piece of an answer."""
    if delta.kind == "text":
        return delta.text
    if delta.kind == "tool_call":
        head = f"\n→ {delta.name} " if delta.name else ""
        return head + delta.arguments
    return "\n[the model call failed; retrying]\n"


def _plain_call(message: ChatMessage) -> list[dict[str, object]]:
    return [
        {"id": c.id, "name": c.name, "arguments": redact(c.wire_arguments())}
        for c in message.tool_calls
    ]


class Transcript:
    """Writes one attempt's messages to the board and its live chunks to a listener."""

    def __init__(
        self,
        store: Store,
        task_id: int,
        attempt: int,
        on_delta: DeltaSink | None = None,
        *,
        limit_chars: int = 100_000,
    ) -> None:
        self.store = store
        self.limit_chars = limit_chars
        self.task_id = task_id
        self.attempt = attempt
        self.on_delta = on_delta
        self._pending = ""
        self._shown: dict[int, int] = {}  # characters of each call's arguments streamed

    def emit(self, role: str, text: str, message_id: int | None = None) -> None:
        """Stream a chunk; a failing listener is logged, never fatal to the attempt."""
        if self.on_delta is None or (not text and message_id is None):
            return
        chunk = TranscriptChunk(role, redact(text)[:_CHUNK_LIMIT], message_id)
        try:
            self.on_delta(self.task_id, self.attempt, chunk)
        except Exception:
            log.exception("transcript listener failed for task %s", self.task_id)

    def stream(self, delta: Delta) -> None:
        """A delta of the answer being generated.

        Pieces are held back to the last whitespace, so a secret split across two
        deltas is whole when it is redacted.
        """
        shown = self._bounded(delta)
        if shown is None:
            return
        self._pending += render_delta(shown)
        cut = max(self._pending.rfind(" "), self._pending.rfind("\n"))
        if cut < 0 and len(self._pending) < _HOLD_LIMIT:
            return
        if cut < 0 or delta.kind == "retry":
            cut = len(self._pending) - 1
        ready, self._pending = self._pending[: cut + 1], self._pending[cut + 1 :]
        self.emit("assistant", ready)

    def _bounded(self, delta: Delta) -> Delta | None:
        """The delta within `limit_chars` of arguments per call (a 5 MB write is not
        streamed to every client); None once the call's share is used up."""
        if delta.kind == "retry":
            self._shown.clear()
            return delta
        if delta.kind != "tool_call" or not delta.arguments:
            return delta
        shown = self._shown.get(delta.index, 0)
        room = self.limit_chars - shown
        self._shown[delta.index] = shown + len(delta.arguments)
        if room <= 0:
            return None if delta.name == "" else delta.model_copy(update={"arguments": ""})
        if len(delta.arguments) <= room:
            return delta
        more = " …[the rest of the arguments is not streamed]"
        return delta.model_copy(update={"arguments": delta.arguments[:room] + more})

    def flush(self) -> None:
        """Send what `stream` held back (the answer is complete)."""
        self._shown.clear()
        ready, self._pending = self._pending, ""
        self.emit("assistant", ready)

    async def record(self, message: ChatMessage) -> int:
        """Store `message` (redacted); returns its id and tells the live view it is stored.

        Held to `limit_chars` of text and of each argument value first: a model that
        writes 5 MB in one call must not put 5 MB on the board per call.
        """
        message = bound(message, text_chars=self.limit_chars, argument_chars=self.limit_chars)
        stored = NewMessage(
            role=message.role,
            content=redact(message.content),
            tool_calls=_plain_call(message),
            tool_call_id=message.tool_call_id,
            name=message.name,
        )
        self.flush()
        saved = await self.store.append_messages(self.task_id, self.attempt, [stored])
        message_id = saved[0].id
        if message.role == "tool":
            self.emit("tool", f"\n[{message.name}] {message.content}\n", message_id)
        else:
            self.emit(message.role, "", message_id)
        return message_id

    async def note(self, text: str) -> None:
        """A line from the daemon itself (limits, errors), stored as a system message."""
        await self.record(ChatMessage.system(text))


def describe_arguments(arguments: dict[str, object]) -> str:
    """Arguments as one short line for reports."""
    text = json.dumps(arguments, sort_keys=True)
    return text if len(text) <= 200 else text[:200] + "…"
