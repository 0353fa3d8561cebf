"""Turns a provider SDK's exception into one of `bosun.llm.errors`, in plain words.

Works on what both SDKs' errors share (status code, error body, response headers) so
that it survives SDK upgrades and serves every OpenAI-compatible endpoint alike.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import Any

from bosun.errors import BosunError
from bosun.llm.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    QuotaExceededError,
    RateLimitError,
    TransientError,
)
from bosun.secrets import redact

_CONTEXT_WORDS = re.compile(
    r"prompt is too long|maximum context length|context length|context window|"
    r"too many tokens|reduce the length",
    re.IGNORECASE,
)
_QUOTA_WORDS = re.compile(
    r"credit balance|insufficient.quota|exceeded your current quota|spend(ing)? limit|billing",
    re.IGNORECASE,
)
_QUOTA_CODES = {"insufficient_quota", "billing_error", "billing_hard_limit_reached"}
_CONTEXT_CODES = {"context_length_exceeded", "string_above_max_length"}
_TRANSIENT_TYPES = {"overloaded_error", "api_error", "server_error", "timeout_error"}
# Exception class names (of the SDKs and their HTTP client) that mean the wire failed.
_WIRE_FAILURES = ("Connection", "Timeout", "Transport", "Protocol", "ReadError", "StreamError")


def _error_fields(body: Any) -> tuple[str, str, str]:
    """(type, code, message) from an OpenAI or Anthropic error body."""
    if not isinstance(body, dict):
        return "", "", str(body or "")
    inner = body.get("error", body)
    if not isinstance(inner, dict):
        return "", "", str(inner)
    return (
        str(inner.get("type") or ""),
        str(inner.get("code") or ""),
        str(inner.get("message") or ""),
    )


def retry_after_seconds(headers: Any) -> float | None:
    """The provider's requested wait: `retry-after-ms`, or `retry-after` (seconds or a date)."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_wire_failure(exc: BaseException) -> bool:
    """Whether `exc` is a connection, timeout or protocol failure of the HTTP layer."""
    return any(
        any(word in cls.__name__ for word in _WIRE_FAILURES) for cls in type(exc).__mro__
    ) or isinstance(exc, ConnectionError | TimeoutError)


def classify(
    exc: BaseException, *, provider: str, key_setting: str, partial: str = ""
) -> BosunError | None:
    """The classified error for `exc`, or None when it is not a provider failure (a bug)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status < 400:
        status = None  # an error event inside a 200 stream: judge it by its body alone
    etype, code, message = _error_fields(getattr(exc, "body", None))
    message = redact(message or str(exc))
    said = f"{provider} said: {message}"
    if (
        code in _QUOTA_CODES
        or etype in _QUOTA_CODES
        or status == 402
        or _QUOTA_WORDS.search(message)
    ):
        return QuotaExceededError(
            f"{provider} quota or spend limit reached; add credit or raise the limit "
            f"with the provider, then retry the task ({said})",
            provider=provider,
        )
    if (
        code in _CONTEXT_CODES
        or status == 413
        or (status == 400 and _CONTEXT_WORDS.search(message))
    ):
        return ContextTooLongError(
            f"the conversation is too long for the model ({said})", provider=provider
        )
    if status == 429 or etype == "rate_limit_error":
        response = getattr(exc, "response", None)
        wait = retry_after_seconds(getattr(response, "headers", None))
        return RateLimitError(f"rate limited ({said})", provider=provider, retry_after=wait)
    if status in (401, 403) or etype in ("authentication_error", "permission_error"):
        return AuthenticationError(
            f"{provider} refused the API key; check {key_setting} ({said})", provider=provider
        )
    if status is not None and (status >= 500 or status in (408, 409)):
        return TransientError(
            f"{provider} failed with HTTP {status} ({said})", provider=provider, partial=partial
        )
    if etype in _TRANSIENT_TYPES:
        return TransientError(
            f"{provider} stream failed ({said})", provider=provider, partial=partial
        )
    if status is not None:
        return BadRequestError(
            f"{provider} refused the request with HTTP {status} ({said})", provider=provider
        )
    if is_wire_failure(exc) or type(exc).__module__.split(".")[0] in (
        "openai",
        "anthropic",
        "httpx2",
        "httpx",
        "httpcore",
        "httpcore2",
    ):
        return TransientError(
            f"connection to {provider} failed: {type(exc).__name__}: {redact(str(exc)) or 'no detail'}",
            provider=provider,
            partial=partial,
        )
    if isinstance(exc, ValueError):
        # JSON or validation failure while reading the stream: the provider sent garbage.
        return TransientError(
            f"{provider} sent a malformed response: {redact(str(exc))[:200]}",
            provider=provider,
            partial=partial,
        )
    return None
