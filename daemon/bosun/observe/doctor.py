"""`bosun doctor`'s observability checks: the metrics endpoint, the trace collector, webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bosun.config import Settings

_CONNECT_S = 3.0


def _check(name: str, ok: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail, **extra}


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


async def _reachable(url: str) -> str | None:
    """None when a TCP connection to the URL's host and port opens; else why not."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(_CONNECT_S):
            _, writer = await asyncio.open_connection(parts.hostname, port)
    except (OSError, TimeoutError) as exc:
        return f"cannot connect to {parts.hostname}:{port} ({exc or 'timed out'})"
    writer.close()
    return None


def _outbox(db: Path) -> dict[str, int]:
    """Outbox rows by state (empty when the board or its v3 table does not exist yet)."""
    if not db.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT state, COUNT(*) FROM webhook_outbox GROUP BY state")
            return {str(s): int(n) for s, n in rows.fetchall()}
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


async def check_observability(
    settings: Settings, db: Path, environ: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A check for each of metrics, tracing and every webhook that is configured."""
    checks: list[dict[str, Any]] = []
    server = settings.server
    if server.metrics_port is not None:
        where = f"http://{server.metrics_host}:{server.metrics_port}/metrics"
        note = (
            ""
            if _loopback(server.metrics_host)
            else (" — not loopback: whoever reaches it reads the metrics (no token)")
        )
        checks.append(_check("metrics", True, f"served at {where}{note}"))
    tracing = settings.observe.tracing
    if tracing.endpoint is not None:
        missing = [v for v in tracing.secret_headers.values() if v not in environ]
        problem = await _reachable(tracing.endpoint)
        if missing:
            problem = f"secret variables not set: {', '.join(missing)}"
        detail = f"OTLP/HTTP to {tracing.endpoint}" + (f": {problem}" if problem else "")
        if tracing.capture_prompts:
            detail += " (prompt text captured, redacted)"
        checks.append(_check("tracing", problem is None, detail))
    counts = _outbox(db) if settings.observe.webhooks else {}
    for name, hook in settings.observe.webhooks.items():
        if not hook.enabled:
            checks.append(_check(f"webhook {name}", True, "disabled"))
            continue
        problems = []
        if hook.secret_env is not None and hook.secret_env not in environ:
            problems.append(f"the secret variable {hook.secret_env} is not set")
        if hook.secret_env is None:
            problems.append("unsigned (no secret_env)")
        unreachable = await _reachable(hook.url)
        if unreachable:
            problems.append(unreachable)
        owed = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing owed yet"
        detail = f"{hook.url}: " + ("; ".join(problems) + "; " if problems else "") + owed
        ok = not problems or problems == ["unsigned (no secret_env)"]
        checks.append(_check(f"webhook {name}", ok and not counts.get("failed"), detail))
    return checks
