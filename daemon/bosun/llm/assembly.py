"""Builds one `ModelResponse` from streamed pieces, telling listeners as they arrive."""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.llm.estimate import chars_to_tokens
from bosun.llm.messages import Delta, ModelResponse, StopReason, Thinking, ToolCall, Usage
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
        self._thinking: dict[int, Thinking] = {}
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

    def thinking(
        self, index: int, text: str = "", signature: str = "", data: str | None = None
    ) -> None:
        """A reasoning block at `index` began or grew (`data`: a redacted block's)."""
        block = self._thinking.setdefault(index, Thinking(redacted=data is not None))
        update: dict[str, object] = {}
        if text:
            update["text"] = block.text + text
        if signature:
            update["signature"] = block.signature + signature
        if data:
            update["data"] = block.data + data
        if update:
            self._thinking[index] = block.model_copy(update=update)

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
        thinking = [b for _, b in sorted(self._thinking.items())]
        usage = self.usage
        if thinking and not usage.reasoning_tokens:
            # Anthropic counts thinking inside output_tokens without saying how much:
            # the split is estimated from its characters (the total stays as reported).
            spent = chars_to_tokens(sum(len(b.text) + len(b.data) for b in thinking))
            usage = usage.model_copy(update={"reasoning_tokens": min(spent, usage.output_tokens)})
        return ModelResponse(
            text=self.partial_text(),
            tool_calls=calls,
            usage=usage,
            stop_reason=stop,
            model=model,
            thinking=thinking,
        )
