"""Backoff, caps, jitter and the retry loop's decisions."""

from __future__ import annotations

import random

import pytest
from bosun.llm.clock import ManualClock
from bosun.llm.errors import AuthenticationError, RateLimitError, TransientError
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.retry import RetryingCaller, backoff_delay
from bosun.llm.scenario import Scenario
from bosun.llm.scripted import ScriptedModel
from bosun.llm.settings import RetrySettings

REQUEST = ModelRequest(messages=[ChatMessage.user("go")])


def scripted(*replies: dict[str, object]) -> ScriptedModel:
    return ScriptedModel(Scenario.model_validate({"name": "t", "reply": list(replies)}))


def test_backoff_doubles_and_is_capped() -> None:
    s = RetrySettings(base_delay=1, max_delay=10, jitter=0)
    rng = random.Random(0)
    assert [backoff_delay(s, n, rng) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_jitter_stays_within_its_fraction_and_under_the_cap() -> None:
    s = RetrySettings(base_delay=4, max_delay=5, jitter=0.5)
    rng = random.Random(1)
    delays = [backoff_delay(s, 1, rng) for _ in range(200)]
    assert min(delays) >= 2.0
    assert max(delays) <= 5.0
    assert len(set(delays)) > 100  # callers do not retry in lockstep


def test_huge_try_counts_do_not_overflow() -> None:
    s = RetrySettings(base_delay=1, max_delay=30, jitter=0)
    assert backoff_delay(s, 5000, random.Random()) == 30


async def test_retry_after_is_honoured_but_capped() -> None:
    clock = ManualClock()
    caller = RetryingCaller(RetrySettings(max_retry_after=60), clock=clock)
    model = scripted(
        {"try": 1, "error": "rate_limit", "retry_after": 3600},
        {"try": 2, "error": "rate_limit"},
        {"text": "ok"},
    )
    assert (await caller.call(model, REQUEST, CallContext())).text == "ok"
    assert clock.sleeps[0] == 60  # an hour asked, the cap given
    assert clock.sleeps[1] == pytest.approx(2.0, rel=0.26)  # no retry-after: backoff


async def test_non_transient_errors_are_raised_at_once() -> None:
    clock = ManualClock()
    caller = RetryingCaller(RetrySettings(), clock=clock)
    with pytest.raises(AuthenticationError):
        await caller.call(scripted({"error": "auth"}), REQUEST, CallContext())
    assert clock.sleeps == []


async def test_giving_up_keeps_the_partials_and_counts_tries() -> None:
    retry_seen: list[int] = []
    caller = RetryingCaller(
        RetrySettings(max_attempts=3),
        clock=ManualClock(),
        on_retry=lambda e, n, w: retry_seen.append(n),
    )
    model = scripted({"error": "transient", "text": "half an answ"})
    with pytest.raises(TransientError, match="gave up after 3 tries") as caught:
        await caller.call(model, REQUEST, CallContext())
    assert caught.value.data["partials"] == ["half an answ"] * 3
    assert retry_seen == [1, 2]
    assert not isinstance(caught.value, RateLimitError)
