"""Settings that point bosun's model layer at a fake provider (for any package's tests)."""

from __future__ import annotations

from typing import Any

from bosun.llm.settings import LlmSettings, ProviderSettings, RetrySettings

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.replies import FakeProvider

FAKE_KEYS = {"openai": "sk-fake-openai-0123456789", "anthropic": "sk-ant-fake-0123456789"}

# Fast retries: real but tiny backoffs, and a short first-token deadline.
FAST_RETRY = RetrySettings(
    max_attempts=4, base_delay=0.001, max_delay=0.005, jitter=0.0, first_token_timeout=0.5
)


def provider_of(fake: FakeProvider) -> str:
    """`openai` or `anthropic`: which SDK talks to `fake`."""
    return "anthropic" if isinstance(fake, FakeAnthropic) else "openai"


def fake_settings(fake: FakeProvider, **overrides: Any) -> LlmSettings:
    """LlmSettings whose default model is served by `fake` (model id `fake-model`)."""
    provider = provider_of(fake)
    base = fake.base_url if isinstance(fake, FakeOpenAI | FakeAnthropic) else fake.url
    conf = ProviderSettings(base_url=base, api_key=FAKE_KEYS[provider])
    data: dict[str, Any] = {
        "default_model": f"{provider}:fake-model",
        "providers": {provider: conf},
        "retry": FAST_RETRY,
    }
    data.update(overrides)
    return LlmSettings(**data)
