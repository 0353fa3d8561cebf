"""`scripted:<scenario>`: a deterministic model answering from a scenario file.

Answers depend only on (role, task key, attempt, turn, try), never on the order in
which calls arrive, so a scheduler running tasks in any order gets the same run.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from bosun.errors import BosunError
from bosun.llm.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    QuotaExceededError,
    RateLimitError,
    TransientError,
)
from bosun.llm.messages import Delta, ModelRequest, ModelResponse, ToolCall, Usage
from bosun.llm.model import CallContext, DeltaListener, Model
from bosun.llm.scenario import Scenario, ScriptedReply

_CHUNK = 16  # characters per streamed text delta


def _error(reply: ScriptedReply, ctx: CallContext) -> BosunError:
    text = reply.message or f"scripted {reply.error} at {ctx.label()}"
    match reply.error:
        case "rate_limit":
            return RateLimitError(text, provider="scripted", retry_after=reply.retry_after)
        case "quota":
            return QuotaExceededError(text, provider="scripted")
        case "context_too_long":
            return ContextTooLongError(text, provider="scripted")
        case "auth":
            return AuthenticationError(text, provider="scripted")
        case "bad_request":
            return BadRequestError(text, provider="scripted")
        case _:
            return TransientError(text, provider="scripted", partial=reply.text)


def _estimate(chars: int) -> int:
    return max(1, chars // 4)


class ScriptedModel(Model):
    """Answers from a `Scenario`; counts tries per call so errors can precede success."""

    provider = "scripted"

    def __init__(self, scenario: Scenario, name: str | None = None) -> None:
        self.scenario = scenario
        self.name = name or f"scripted:{scenario.name}"
        self._tries: Counter[tuple[str, str, int, int]] = Counter()

    async def complete(
        self, request: ModelRequest, ctx: CallContext, on_delta: DeltaListener | None = None
    ) -> ModelResponse:
        """The scenario's reply for this call."""
        key = (ctx.role, ctx.task_key, ctx.attempt, ctx.turn)
        self._tries[key] += 1
        reply = self.scenario.answer(ctx, self._tries[key])
        if reply.delay:
            await asyncio.sleep(reply.delay)  # the scenario asks for a slow model
        if reply.error is not None:
            raise _error(reply, ctx)
        emit = on_delta or (lambda _d: None)
        for i in range(0, len(reply.text), _CHUNK):
            emit(Delta(kind="text", text=reply.text[i : i + _CHUNK]))
        calls = []
        for i, spec in enumerate(reply.tool_calls):
            raw = spec.raw_arguments
            if raw is None:
                raw = json.dumps(spec.arguments)
            call_id = spec.id or f"call_{ctx.turn}_{i}"
            emit(Delta(kind="tool_call", index=i, call_id=call_id, name=spec.name, arguments=raw))
            calls.append(ToolCall.parse(call_id, spec.name, raw))
        prompt_chars = sum(len(m.content) for m in request.messages)
        out_chars = len(reply.text) + sum(len(c.raw_arguments) for c in calls)
        usage = Usage(
            input_tokens=reply.usage.input_tokens
            if reply.usage.input_tokens is not None
            else _estimate(prompt_chars),
            output_tokens=reply.usage.output_tokens
            if reply.usage.output_tokens is not None
            else _estimate(out_chars),
            cached_tokens=reply.usage.cached_tokens,
        )
        stop = reply.stop_reason or ("tool_calls" if calls else "end")
        if usage.output_tokens > request.max_tokens:
            # A real model stops at max_tokens; budgets rely on that.
            usage = usage.model_copy(update={"output_tokens": request.max_tokens})
            stop = "max_tokens"
        return ModelResponse(
            text=reply.text, tool_calls=calls, usage=usage, stop_reason=stop, model=self.name
        )
