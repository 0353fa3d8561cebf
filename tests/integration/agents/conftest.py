"""The agents' harness (a real board, git worktree and tools) for tests that put a fake
provider behind the real SDK adapters instead of the scripted model."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.replies import FakeProvider
from tests.unit.agents.conftest import harness_factory

__all__ = ["harness_factory"]


@pytest.fixture(params=["openai", "anthropic"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeProvider]:
    """A running fake provider of each kind."""
    server: FakeProvider = FakeOpenAI() if request.param == "openai" else FakeAnthropic()
    async with server:
        yield server
