"""Builds one `ModelResponse` from streamed pieces, telling listeners as they arrive."""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.llm.messages import Delta, ModelResponse, StopReason, ToolCall, Usage
from bosun.llm.model import DeltaListener


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamAssembler:
    """Collects text and tool-call fragments of one streamed answer."""

    def __init__(self, on_delta: DeltaListener | None) -> None:
        self._on_delta = on_delta
        self._text: list[str] = []
        self._calls: dict[int, _PendingCall] = {}
        self.usage = Usage()
        self.stop_reason: StopReason | None = None

    def _emit(self, delta: Delta) -> None:
        if self._on_delta is not None:
            self._on_delta(delta)

    def text(self, piece: str) -> None:
        """More answer text."""
        if piece:
            self._text.append(piece)
            self._emit(Delta(kind="text", text=piece))

    def tool_call(
        self, index: int, call_id: str | None, name: str | None, args: str | None
    ) -> None:
        """A tool call at `index` began or grew."""
        call = self._calls.setdefault(index, _PendingCall())
        if call_id:
            call.id = call_id
        if name:
            call.name = name
        if args:
            call.arguments.append(args)
        if call_id or name or args:
            self._emit(
                Delta(
                    kind="tool_call",
                    index=index,
                    call_id=call_id or "",
                    name=name or "",
                    arguments=args or "",
                )
            )

    def partial_text(self) -> str:
        """What text arrived so far (kept when the stream dies)."""
        return "".join(self._text)

    def result(self, model: str) -> ModelResponse:
        """The whole answer; tool calls with malformed JSON carry their parse error."""
        calls = [
            ToolCall.parse(c.id or f"call_{i}", c.name, "".join(c.arguments))
            for i, c in sorted(self._calls.items())
        ]
        stop = self.stop_reason or ("tool_calls" if calls else "end")
        return ModelResponse(
            text=self.partial_text(),
            tool_calls=calls,
            usage=self.usage,
            stop_reason=stop,
            model=model,
        )
