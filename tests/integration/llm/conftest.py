"""A fake provider per SDK; every test using `fake` runs through both SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bosun.llm.clock import ManualClock
from bosun.llm.gateway import ModelGateway

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeProvider


@pytest.fixture(params=["openai", "anthropic"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeProvider]:
    """A running fake provider of each kind."""
    server: FakeProvider = FakeOpenAI() if request.param == "openai" else FakeAnthropic()
    async with server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    """Backoff waits are recorded, not slept."""
    return ManualClock()


@pytest.fixture
async def gateway(fake: FakeProvider, clock: ManualClock) -> AsyncIterator[ModelGateway]:
    """A gateway whose default model is served by `fake`."""
    gw = ModelGateway(fake_settings(fake), clock=clock)
    yield gw
    await gw.aclose()
