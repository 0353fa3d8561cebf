"""The model layer's front door: one call = pick the model, check budgets, wait for the
rate limiter, call with retries, record request, response and cost on the board.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bosun_protocol.entities import Cost, RunOptions

from bosun.errors import NotFoundError
from bosun.llm.anthropic_model import AnthropicModel
from bosun.llm.budget import BudgetLimits, output_room
from bosun.llm.clock import Clock, RealClock
from bosun.llm.errors import ModelError, RateLimitError, TransientError
from bosun.llm.estimate import estimate_input, with_estimates
from bosun.llm.messages import Delta, ModelRequest, ModelResponse, ToolCall, Usage
from bosun.llm.model import CallContext, DeltaListener, Model
from bosun.llm.openai_model import OpenAIModel
from bosun.llm.pricing import cost_of, price_for, usd_for
from bosun.llm.providers import build_model
from bosun.llm.ratelimit import RateLimiter
from bosun.llm.recorder import CallRecorder, RecordingSource
from bosun.llm.retry import RetryingCaller, RetryListener
from bosun.llm.roles import model_for_role
from bosun.llm.settings import LlmSettings
from bosun.observe import hooks, spans
from bosun.secrets import redact


def scrub(value: dict[str, Any]) -> dict[str, Any]:
    """`value` with every known secret redacted (it is about to be stored)."""
    cleaned: dict[str, Any] = json.loads(redact(json.dumps(value)))
    return cleaned


def stored_response(response: ModelResponse) -> dict[str, Any]:
    """The response as recorded: a parsed call keeps only its raw arguments (the parsed
    ones are the same text again; a 5 MB write would be stored twice). Replay parses
    them back (`restored_response`)."""
    data = response.model_dump(mode="json")
    for call, stored in zip(response.tool_calls, data["tool_calls"], strict=True):
        if call.error is None and call.raw_arguments:
            again = ToolCall.parse(call.id, call.name, call.raw_arguments)
            if again.error is None and again.arguments == call.arguments:
                del stored["arguments"]
    return data


_Scope = tuple[str, int]  # ("run", id), ("task", id) or ("attempt <n>", task id)


def _sum(a: Cost, b: Cost, sign: int = 1) -> Cost:
    usd = None if a.usd is None and b.usd is None else (a.usd or 0.0) + sign * (b.usd or 0.0)
    return Cost(
        input_tokens=a.input_tokens + sign * b.input_tokens,
        output_tokens=a.output_tokens + sign * b.output_tokens,
        usd=usd,
    )


def _attempt_scope(ctx: CallContext) -> _Scope:
    return (f"attempt {ctx.attempt}", ctx.task_id or 0)


def _plus(spent: Cost, reserved: Cost) -> Cost:
    return _sum(spent, reserved) if reserved.input_tokens or reserved.output_tokens else spent


def _log_close_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger(__name__).warning("closing a replaced model failed: %s", task.exception())


def _report(
    provider: str,
    name: str,
    ctx: CallContext,
    seconds: float,
    *,
    response: ModelResponse | None = None,
    usd: float | None = None,
    error: str | None = None,
    first_token: float | None = None,
) -> None:
    """Tell the observers (metrics) about a finished or failed call."""
    usage = response.usage if response is not None else None
    hooks.model_call(
        hooks.ModelCallRecord(
            provider=provider,
            model=name,
            role=ctx.role,
            seconds=seconds,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            cached_tokens=usage.cached_tokens if usage else 0,
            reasoning_tokens=usage.reasoning_tokens if usage else 0,
            usd=usd,
            stop_reason=response.stop_reason if response is not None else "",
            error=error,
            first_token_seconds=first_token,
        )
    )


class _FirstChunk:
    """Times a call's first streamed chunk (a retry notice is not one): the first-token
    latency, from the request's admission by the rate limiter."""

    def __init__(self, on_delta: DeltaListener | None) -> None:
        self.on_delta = on_delta
        self.sent = time.monotonic()
        self.at: float | None = None

    def __call__(self, delta: Delta) -> None:
        if self.at is None and delta.kind != "retry":
            self.at = time.monotonic()
        if self.on_delta is not None:
            self.on_delta(delta)

    def seconds(self) -> float:
        """Until the first chunk; until now (the whole answer) when none came."""
        return (self.at if self.at is not None else time.monotonic()) - self.sent


class ModelGateway:
    """Shared by every worker of a daemon: models, rate limiters and budgets live here."""

    def __init__(
        self,
        settings: LlmSettings,
        recorder: CallRecorder | None = None,
        *,
        recordings: RecordingSource | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        scenario_dir: Path | None = None,
        on_retry: RetryListener | None = None,
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self.recordings = recordings
        self.env = env
        self.clock = clock or RealClock()
        self.scenario_dir = scenario_dir
        self._on_retry = on_retry
        self.retrying = RetryingCaller(
            settings.retry, clock=self.clock, rng=rng, on_retry=self._retrying
        )
        self._models: dict[str, Model] = {}
        self._limiters: dict[str, RateLimiter] = {}
        # Tokens promised to calls in flight, so concurrent calls cannot jointly overspend.
        self._reserved: defaultdict[_Scope, Cost] = defaultdict(Cost)
        self._budget_lock = asyncio.Lock()

    def update_settings(self, settings: LlmSettings) -> None:
        """Use new settings (reloaded file, keys sent by a client) from the next call on.

        Models are rebuilt on next use so that new keys and addresses take effect; calls
        in flight finish on the model they started with.
        """
        self.settings = settings
        self.retrying.settings = settings.retry
        old, self._models = self._models, {}
        for model in old.values():
            task = asyncio.get_running_loop().create_task(model.aclose())
            task.add_done_callback(_log_close_failure)

    def _retrying(self, error: TransientError, tries: int, wait: float) -> None:
        hooks.retry(error.kind)
        spans.model_retry(error.kind, type(error).__name__, error.message, tries, wait)
        if isinstance(error, RateLimitError) and error.provider:
            self.limiter(error.provider).hold(wait)
        if self._on_retry is not None:
            self._on_retry(error, tries, wait)

    def model_name(self, role: str, options: RunOptions | None = None) -> str:
        """The model `role` uses in a run with `options`."""
        return model_for_role(role, self.settings, options)

    def model(self, name: str) -> Model:
        """The (cached) model called `name`."""
        if name not in self._models:
            self._models[name] = build_model(
                name,
                self.settings,
                env=self.env,
                recordings=self.recordings,
                scenario_dir=self.scenario_dir,
            )
        return self._models[name]

    def limiter(self, provider: str) -> RateLimiter:
        """The rate limiter every worker shares for `provider`."""
        if provider not in self._limiters:
            conf = self.settings.providers.get(provider)
            self._limiters[provider] = RateLimiter(
                requests_per_minute=conf.requests_per_minute if conf else None,
                tokens_per_minute=conf.tokens_per_minute if conf else None,
                max_concurrent=conf.max_concurrent if conf else None,
                clock=self.clock,
            )
        return self._limiters[provider]

    async def _spent(self, ctx: CallContext) -> tuple[Cost | None, Cost | None, Cost | None]:
        """What the run, task and attempt spent, plus what calls in flight reserved."""
        if self.recorder is None or ctx.run_id is None:
            return None, None, None
        run = _plus(
            (await self.recorder.get_run(ctx.run_id)).cost, self._reserved[("run", ctx.run_id)]
        )
        task = attempt = None
        if ctx.task_id is not None:
            task = (await self.recorder.get_task(ctx.task_id)).cost
            task = _plus(task, self._reserved[("task", ctx.task_id)])
            if ctx.attempt is not None:
                try:
                    spent = (await self.recorder.get_attempt(ctx.task_id, ctx.attempt)).cost
                except NotFoundError:  # a call outside a recorded attempt
                    spent = None
                if spent is not None:
                    attempt = _plus(spent, self._reserved[_attempt_scope(ctx)])
        return run, task, attempt

    async def _reserve(
        self,
        ctx: CallContext,
        name: str,
        limits: BudgetLimits,
        request: ModelRequest,
        estimate: int,
    ) -> tuple[ModelRequest, list[tuple[_Scope, Cost]]]:
        """The request fitted to the budget left, and what was reserved for it (and where)."""
        run, task, attempt = await self._spent(ctx)
        price = price_for(name, self.settings.prices)
        room = output_room(limits, run, task, price=price, input_tokens=estimate, attempt=attempt)
        if room is None:
            return request, []
        request = request.model_copy(update={"max_tokens": min(request.max_tokens, room)})
        usage = Usage(input_tokens=estimate, output_tokens=request.max_tokens)
        hold = cost_of(usage, usd_for(usage, price))
        scopes: list[_Scope] = [("run", ctx.run_id)] if ctx.run_id is not None else []
        if ctx.task_id is not None:
            scopes.append(("task", ctx.task_id))
            if attempt is not None:
                scopes.append(_attempt_scope(ctx))
        for scope in scopes:
            self._reserved[scope] = _sum(self._reserved[scope], hold)
        return request, [(scope, hold) for scope in scopes]

    def _release(self, held: list[tuple[_Scope, Cost]]) -> None:
        for scope, hold in held:
            left = _sum(self._reserved[scope], hold, sign=-1)
            if left.input_tokens or left.output_tokens:
                self._reserved[scope] = left
            else:
                del self._reserved[scope]  # nothing in flight: forget the scope

    async def complete(
        self,
        request: ModelRequest,
        ctx: CallContext,
        *,
        options: RunOptions | None = None,
        model: str | None = None,
        on_delta: DeltaListener | None = None,
    ) -> ModelResponse:
        """Answer `request` for the caller described by `ctx`.

        Raises BudgetExceededError before spending when a budget is spent, and the
        classified model errors of `bosun.llm.errors` when the provider fails.
        """
        name = model or self.model_name(ctx.role, options)
        chosen = self.model(name)
        request = self._with_reasoning(request, ctx.role, chosen)
        limits = BudgetLimits.of(self.settings.budget, options)
        estimate = estimate_input(request)
        # Check and reserve in one step, or concurrent callers would all see the same room.
        async with self._budget_lock:
            request, held = await self._reserve(ctx, name, limits, request, estimate)
        started = time.monotonic()
        with spans.model_span(chosen.provider, name, ctx.role) as span:
            response = await self._call(ctx, name, chosen, request, held, estimate, on_delta,
                                        started, span)  # fmt: skip
        return response

    def _with_reasoning(self, request: ModelRequest, role: str, chosen: Model) -> ModelRequest:
        """The request with the role's `[llm.reasoning]` where the model's API has it
        (thinking: Anthropic; effort: OpenAI), unless the caller set its own. Thinking
        comes on top of the answer's max_tokens (the budget check may lower both)."""
        if request.thinking_tokens or request.reasoning_effort:
            return request
        thinking, effort = self.settings.reasoning.for_role(role)
        if thinking and isinstance(chosen, AnthropicModel):
            return request.model_copy(
                update={"thinking_tokens": thinking, "max_tokens": request.max_tokens + thinking}
            )
        if effort and isinstance(chosen, OpenAIModel):
            return request.model_copy(update={"reasoning_effort": effort})
        return request

    async def _call(
        self, ctx: CallContext, name: str, chosen: Model, request: ModelRequest,
        held: list[tuple[_Scope, Cost]], estimate: int, on_delta: DeltaListener | None,
        started: float, span: spans.CallSpan,
    ) -> ModelResponse:  # fmt: skip
        span.text(
            "gen_ai.input.messages", lambda: json.dumps(request.model_dump(mode="json")["messages"])
        )
        try:
            async with self.limiter(chosen.provider).slot(estimate) as admitted:
                first = _FirstChunk(on_delta)
                try:
                    response = await self.retrying.call(chosen, request, ctx, first)
                except ModelError as exc:
                    _report(chosen.provider, name, ctx, time.monotonic() - started, error=exc.kind)
                    span.fail(exc.kind, exc.message)
                    raise
                first_token = first.seconds()
                # A provider that reports no usage is counted from characters: budgets bind.
                usage = with_estimates(response.usage, request, response)
                if usage is not response.usage:
                    response = response.model_copy(update={"usage": usage})
                admitted.tokens = response.usage.total
            usd = usd_for(response.usage, price_for(name, self.settings.prices))
            took = time.monotonic() - started
            await self._record(ctx, name, request, response, usd, took)
            _report(chosen.provider, name, ctx, took, response=response, usd=usd,
                    first_token=first_token)  # fmt: skip
            usage = response.usage
            span.set(gen_ai__usage__input_tokens=usage.input_tokens,
                     gen_ai__usage__output_tokens=usage.output_tokens,
                     gen_ai__usage__cache_read__input_tokens=usage.cached_tokens,
                     gen_ai__response__model=response.model or None,
                     gen_ai__response__finish_reasons=[response.stop_reason])  # fmt: skip
            span.text("gen_ai.output.messages", lambda: response.text)
        finally:
            # Released only once the cost is on the board, so no window counts neither.
            self._release(held)
        return response

    async def _record(
        self,
        ctx: CallContext,
        name: str,
        request: ModelRequest,
        response: ModelResponse,
        usd: float | None,
        seconds: float,
    ) -> None:
        if self.recorder is None or ctx.run_id is None:
            return
        await self.recorder.record_call(
            ctx.run_id,
            ctx.task_id,
            ctx.attempt,
            ctx.role,
            ctx.task_key,
            ctx.turn,
            scrub({"model": name, "request": request.model_dump(mode="json")}),
            scrub(
                {
                    "response": stored_response(response),
                    "usd": usd,
                    "latency_ms": round(seconds * 1000, 1),
                }
            ),
        )
        await self.recorder.add_cost(
            ctx.run_id, ctx.task_id, ctx.attempt, cost_of(response.usage, usd)
        )

    async def aclose(self) -> None:
        """Close every model's connections."""
        for m in self._models.values():
            await m.aclose()
        self._models.clear()
