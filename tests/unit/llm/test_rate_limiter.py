"""The shared per-provider rate limiter holds its limits under concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bosun.llm.clock import ManualClock
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.ratelimit import WINDOW, RateLimiter
from bosun.llm.settings import LlmSettings


async def test_twenty_concurrent_callers_never_exceed_the_concurrency_limit() -> None:
    limiter = RateLimiter(max_concurrent=3)
    gate = asyncio.Event()
    peak = 0
    entered = asyncio.Condition()

    async def caller() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            async with entered:
                entered.notify_all()
            await gate.wait()

    tasks = [asyncio.create_task(caller()) for _ in range(20)]
    async with entered:
        await entered.wait_for(lambda: limiter.in_flight == 3 and limiter.waiting == 17)
    assert limiter.in_flight == 3  # the other 17 are held back, not running
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 3
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_twenty_concurrent_callers_keep_within_requests_per_minute() -> None:
    clock = ManualClock()
    limiter = RateLimiter(requests_per_minute=5, clock=clock)
    starts: list[float] = []

    async def caller() -> None:
        async with limiter.slot():
            starts.append(clock.monotonic())

    await asyncio.gather(*(caller() for _ in range(20)))
    assert len(starts) == 20
    for t in starts:
        in_window = [s for s in starts if t <= s < t + WINDOW]
        assert len(in_window) <= 5
    # And it does not wait longer than needed: 20 calls at 5/min take 3 windows.
    assert max(starts) - min(starts) == 3 * WINDOW


async def test_tokens_per_minute_admit_only_what_fits() -> None:
    clock = ManualClock()
    limiter = RateLimiter(tokens_per_minute=1000, clock=clock)
    starts: list[tuple[float, int]] = []

    async def caller(tokens: int) -> None:
        async with limiter.slot(tokens):
            starts.append((clock.monotonic(), tokens))

    await asyncio.gather(*(caller(400) for _ in range(5)))
    for t, _ in starts:
        used = sum(n for s, n in starts if t <= s < t + WINDOW)
        assert used <= 1000
    assert len(starts) == 5


async def test_real_usage_replaces_the_estimate() -> None:
    clock = ManualClock()
    limiter = RateLimiter(tokens_per_minute=1000, clock=clock)
    async with limiter.slot(10) as entry:
        entry.tokens = 990  # the call turned out bigger than estimated
    async with limiter.slot(50):
        pass
    assert clock.sleeps == [WINDOW]  # the second call had to wait for the window


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    limiter = RateLimiter(max_concurrent=1)
    gate = asyncio.Event()

    async def holder() -> None:
        async with limiter.slot():
            await gate.wait()

    first = asyncio.create_task(holder())
    second = asyncio.create_task(holder())
    while limiter.waiting != 1:  # noqa: ASYNC110 — a bare yield until `second` queues, no timing
        await asyncio.sleep(0)
    second.cancel()
    gate.set()
    await first
    assert limiter.waiting == 0
    async with limiter.slot():
        assert limiter.in_flight == 1


async def test_a_hold_delays_every_new_caller_until_it_ends() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock=clock)
    limiter.hold(30)
    async with limiter.slot():
        assert clock.monotonic() == limiter.held_until
    assert clock.sleeps == [30]


async def test_a_429_holds_the_whole_provider_for_its_retry_after(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        '[[reply]]\ntry = 1\nerror = "rate_limit"\nretry_after = 30\n[[reply]]\ntext = "ok"\n'
    )
    clock = ManualClock()
    holds: list[float] = []
    gw = ModelGateway(
        LlmSettings(default_model=f"scripted:{scenario}"),
        clock=clock,
        on_retry=lambda e, n, w: holds.append(gw.limiter("scripted").held_until - clock.now),
    )
    request = ModelRequest(messages=[ChatMessage.user("hi")])
    assert (await gw.complete(request, CallContext())).text == "ok"
    assert holds == [30]
