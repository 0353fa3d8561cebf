"""Classification of provider failures that the fake servers do not produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bosun.llm.classify import classify
from bosun.llm.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    QuotaExceededError,
    RateLimitError,
    TransientError,
)
from bosun.secrets import register_secret


@dataclass
class FakeStatusError(Exception):
    status_code: int | None
    body: Any = None


def kind(status: int | None, body: Any = None) -> type[Exception]:
    error = classify(FakeStatusError(status, body), provider="p", key_setting="K")
    assert error is not None
    return type(error)


def test_an_html_gateway_page_is_transient() -> None:
    assert kind(502, "<html><body>Bad gateway</body></html>") is TransientError


def test_statuses_alone_decide_when_the_body_says_nothing() -> None:
    assert kind(503) is TransientError
    assert kind(429) is RateLimitError
    assert kind(401) is AuthenticationError
    assert kind(403) is AuthenticationError
    assert kind(402) is QuotaExceededError
    assert kind(413) is ContextTooLongError
    assert kind(422) is BadRequestError


def test_bodies_of_compatible_servers_are_understood() -> None:
    vllm = {"object": "error", "message": "This model's maximum context length is 8192 tokens"}
    assert kind(400, vllm) is ContextTooLongError
    openrouter = {"error": {"message": "Insufficient credits", "code": 402}}
    assert kind(402, openrouter) is QuotaExceededError
    assert kind(None, {"type": "overloaded_error", "message": "Overloaded"}) is TransientError


def test_a_plain_bug_is_not_disguised_as_a_provider_failure() -> None:
    assert classify(KeyError("x"), provider="p", key_setting="K") is None
    assert classify(AttributeError("x"), provider="p", key_setting="K") is None


def test_provider_messages_are_redacted() -> None:
    register_secret("sk-echoed-back-424242")
    body = {"error": {"message": "Incorrect API key provided: sk-echoed-back-424242"}}
    error = classify(FakeStatusError(401, body), provider="p", key_setting="K")
    assert error is not None
    assert "sk-echoed-back-424242" not in str(error)
