"""The one retry layer: backoff with jitter, `retry-after`, first-token deadline, partials.

The SDKs' own retries are off; every try goes through here. Only `TransientError`
(and its `RateLimitError`) is retried; other failures go straight to the caller.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from bosun.llm.clock import Clock, RealClock
from bosun.llm.errors import RateLimitError, TransientError
from bosun.llm.messages import ChatMessage, Delta, ModelRequest, ModelResponse
from bosun.llm.model import CallContext, DeltaListener, Model
from bosun.llm.settings import RetrySettings

RetryListener = Callable[[TransientError, int, float], None]  # error, try number, wait

CONTINUE_AFTER_CUT = (
    "(The connection dropped while you were answering; your answer so far is above. "
    "Continue from where it stopped.)"
)


def backoff_delay(settings: RetrySettings, failed_tries: int, rng: random.Random) -> float:
    """The wait after the n-th failed try: exponential, capped, with +/- jitter."""
    base = min(settings.max_delay, settings.base_delay * 2.0 ** min(failed_tries - 1, 60))
    spread = base * settings.jitter
    return max(0.0, min(settings.max_delay, base + rng.uniform(-spread, spread)))


def with_partial(request: ModelRequest, partial: str) -> ModelRequest:
    """`request` carrying the text a dead stream delivered, so the next try can go on."""
    extra = [ChatMessage.assistant(partial), ChatMessage.user(CONTINUE_AFTER_CUT)]
    return request.model_copy(update={"messages": [*request.messages, *extra]})


class RetryingCaller:
    """Calls a model until it answers, a non-transient error occurs, or tries run out."""

    def __init__(
        self,
        settings: RetrySettings,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_retry: RetryListener | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or RealClock()
        self.rng = rng or random.Random()
        self.on_retry = on_retry

    def wait_for(self, error: TransientError, failed_tries: int) -> float:
        """How long to wait before the next try."""
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return min(error.retry_after, self.settings.max_retry_after)
        return backoff_delay(self.settings, failed_tries, self.rng)

    async def call(
        self,
        model: Model,
        request: ModelRequest,
        ctx: CallContext,
        on_delta: DeltaListener | None = None,
    ) -> ModelResponse:
        """One answer from `model`, retrying transient failures."""
        partials: list[str] = []
        current = request
        tries = self.settings.max_attempts
        for n in range(1, tries + 1):
            try:
                response = await self._one_try(model, current, ctx, on_delta)
            except TransientError as error:
                if error.partial:
                    partials.append(error.partial)
                    current = with_partial(current, error.partial)
                if n == tries:
                    error.message = f"gave up after {tries} tries: {error.message}"
                    error.args = (error.message,)
                    error.data["tries"] = tries
                    error.data["partials"] = partials
                    raise
                wait = self.wait_for(error, n)
                if on_delta is not None:
                    on_delta(Delta(kind="retry", text=error.message))
                if self.on_retry is not None:
                    self.on_retry(error, n, wait)
                await self.clock.sleep(wait)
                continue
            if partials:
                response = response.model_copy(update={"partials": partials})
            return response
        raise AssertionError("unreachable: the loop returns or raises")

    async def _one_try(
        self,
        model: Model,
        request: ModelRequest,
        ctx: CallContext,
        on_delta: DeltaListener | None,
    ) -> ModelResponse:
        """One try, failed as transient when nothing streams within the first-token deadline."""
        first = asyncio.Event()

        def relay(delta: Delta) -> None:
            first.set()
            if on_delta is not None:
                on_delta(delta)

        call = asyncio.ensure_future(model.complete(request, ctx, relay))
        waiter = asyncio.ensure_future(first.wait())
        try:
            await asyncio.wait(
                {call, waiter},
                timeout=self.settings.first_token_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not call.done() and not first.is_set():
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
                raise TransientError(
                    f"{model.provider} sent nothing within "
                    f"{self.settings.first_token_timeout:g}s (first-token deadline)",
                    provider=model.provider,
                )
            return await call
        finally:
            waiter.cancel()
            if not call.done():
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
