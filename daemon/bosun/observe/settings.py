"""`[observe]` in `.bosun/config.toml`: traces and webhooks (metrics are `server.metrics_port`)."""

from __future__ import annotations

from typing import Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// address, not {value!r}")
    return value


class TracingSettings(BaseModel):
    """`[observe.tracing]`: OpenTelemetry traces over OTLP/HTTP (off unless `endpoint` is set)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = Field(
        default=None,
        description="the OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every export")
    secret_headers: dict[str, str] = Field(
        default_factory=dict,
        description="header → name of the secret variable holding its whole value",
    )
    service_name: str = "bosun"
    capture_prompts: bool = Field(
        default=False,
        description="put (redacted) prompt and answer text on model-call spans",
    )
    export_timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


WebhookEvent = Literal[
    "human_needed", "task_failed", "run_completed", "run_failed", "run_cancelled", "budget_reached"
]
WEBHOOK_EVENTS: tuple[WebhookEvent, ...] = get_args(WebhookEvent)


class WebhookSettings(BaseModel):
    """`[observe.webhooks.<name>]`: one receiver of signed JSON POSTs."""

    model_config = ConfigDict(extra="forbid")

    url: str
    secret_env: str | None = Field(
        default=None,
        description="name of the secret variable holding this hook's HMAC-SHA256 key "
        "(unset: deliveries are not signed)",
    )
    events: list[WebhookEvent] = Field(
        default_factory=lambda: list(WEBHOOK_EVENTS), description="what it is told of"
    )
    format: Literal["bosun", "slack", "discord"] = Field(
        default="bosun", description="the payload's shape (slack/discord: their webhook text)"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    max_attempts: int = Field(default=10, ge=1, le=100)
    backoff_initial_s: float = Field(default=2.0, gt=0, le=3600)
    backoff_max_s: float = Field(default=600.0, gt=0, le=86400)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class ObserveSettings(BaseModel):
    """`[observe]`: where the daemon reports what it does (docs/observability.md)."""

    model_config = ConfigDict(extra="forbid")

    tracing: TracingSettings = Field(default_factory=TracingSettings)
    webhooks: dict[str, WebhookSettings] = Field(default_factory=dict)
