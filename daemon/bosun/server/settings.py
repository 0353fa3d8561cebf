"""Settings of the daemon's transports and logging (owned by bosun.server)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ServerSettings(BaseModel):
    """`[server]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    tcp_port: int | None = Field(default=None, ge=0, le=65535)
    ws_port: int | None = Field(default=None, ge=0, le=65535)
    host: str = "127.0.0.1"
    allowed_origins: list[str] = Field(default_factory=lambda: ["vscode-webview://*"])
    max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    client_queue_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Requests of one client handled at once; its next message waits (backpressure.py).
    max_requests_in_flight: int = Field(default=8, ge=1)
    # A client whose queued output has not moved for this long is disconnected.
    client_stall_s: float = Field(default=60.0, gt=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 5
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="serve Prometheus metrics at http://metrics_host:PORT/metrics (off unless "
        "set; 0 picks a free port, shown by `bosun daemon status`)",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="where the metrics endpoint listens (no token on it)"
    )
