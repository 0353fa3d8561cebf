"""How a model call can fail, classified so the caller knows what to do next.

BosunError
├── ModelError                  MODEL_ERROR; `provider`, `retryable`
│   ├── TransientError          retried: connection, 5xx, 529, dead stream, no first token
│   │   └── RateLimitError      retried after `retry_after` seconds (429)
│   ├── ContextTooLongError     not retried as is: the caller compacts or falls back
│   ├── AuthenticationError     not retried: names the setting holding the key
│   ├── BadRequestError         not retried: the request itself is wrong
│   ├── UnknownModelError       not retried: no such provider or model name
│   └── ScenarioError           a scripted scenario has no answer (or is malformed)
│       └── ReplayDivergenceError  a replayed run asked what the recording does not hold
└── QuotaExceededError          BUDGET_EXCEEDED: the provider's quota or spend limit
"""

from __future__ import annotations

from typing import Any

from bosun_protocol.errors import ErrorCode

from bosun.errors import BosunError


class ModelError(BosunError):
    """A model call failed; `retryable` says whether the retry layer may try again."""

    code = ErrorCode.MODEL_ERROR
    retryable = False
    kind = "error"

    def __init__(self, message: str, *, provider: str = "", data: dict[str, Any] | None = None):
        payload = {"kind": self.kind, "provider": provider, **(data or {})}
        super().__init__(message, data=payload)
        self.provider = provider


class TransientError(ModelError):
    """A failure that another try may not meet; `partial` is text streamed before it."""

    retryable = True
    kind = "transient"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        partial: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, provider=provider, data=data)
        self.partial = partial


class RateLimitError(TransientError):
    """The provider said slow down; `retry_after` is its wait in seconds, when it gave one."""

    kind = "rate_limit"

    def __init__(self, message: str, *, provider: str = "", retry_after: float | None = None):
        super().__init__(message, provider=provider, data={"retry_after": retry_after})
        self.retry_after = retry_after


class ContextTooLongError(ModelError):
    """The conversation does not fit the model's context window."""

    kind = "context_too_long"


class AuthenticationError(ModelError):
    """The provider refused the key; the message names the setting to fix."""

    kind = "authentication"


class BadRequestError(ModelError):
    """The provider refused the request as malformed or unsupported."""

    kind = "bad_request"


class UnknownModelError(ModelError):
    """A model name that names no known provider, or a provider without needed settings."""

    kind = "unknown_model"


class ScenarioError(ModelError):
    """A scripted scenario cannot answer this call, or the scenario file is invalid."""

    kind = "scenario"


class ReplayDivergenceError(ScenarioError):
    """The replayed run asked something the recording does not hold."""

    kind = "replay_divergence"


class QuotaExceededError(BosunError):
    """The provider's quota or spend limit is reached: a human must act, so no retry."""

    code = ErrorCode.BUDGET_EXCEEDED
    retryable = False
    kind = "quota"

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message, data={"kind": self.kind, "provider": provider})
        self.provider = provider
