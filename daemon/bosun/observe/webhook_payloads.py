"""What a webhook says: which board events call for one, the versioned payload, its signature.

Payload schema `bosun.webhook/1` (docs/observability.md):

    {"schema": "bosun.webhook/1", "id": idempotency key, "event": "run_completed",
     "occurredAt": ISO time, "workspace": name, "text": one line for people,
     "run": {"id", "objective", "state", "reason", "cost"} | null,
     "task": {"id", "key", "title", "state", "reason", "attempt"} | null}

`slack` and `discord` formats send only the text, as `{"text": …}` and `{"content": …}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from bosun_protocol.entities import Event, Run, Task

from bosun.secrets import redact

SCHEMA = "bosun.webhook/1"
# Board event kinds that can call for a webhook (the catch-up reads only these).
SOURCE_KINDS = (
    "task.transition",
    "task.approval_requested",
    "attempt.finished",
    "run.completed",
    "run.failed",
    "run.cancelled",
)


def webhook_event(event: Event) -> str | None:
    """The webhook event a board event is, if any."""
    data = event.data or {}
    if event.kind == "task.transition":
        to = str(data.get("to"))
        return {"waiting_human": "human_needed", "abandoned": "task_failed"}.get(to)
    if event.kind == "task.approval_requested":
        return "human_needed"
    if event.kind == "attempt.finished":
        outcome = data.get("outcome")
        return (
            "budget_reached"
            if str(getattr(outcome, "value", outcome)) == "budget_exceeded"
            else None
        )
    if event.kind in ("run.completed", "run.failed", "run.cancelled"):
        return "run_" + event.kind.removeprefix("run.")
    return None


def _text(name: str, run: Run | None, task: Task | None, reason: str | None) -> str:
    where = f"run {run.id}" if run is not None else "a run"
    if task is not None:
        where += f", task {task.key}"
    words = {
        "human_needed": "needs a human",
        "task_failed": "was abandoned",
        "run_completed": "completed",
        "run_failed": "failed",
        "run_cancelled": "was cancelled",
        "budget_reached": "reached its budget",
    }[name]
    line = f"Bosun: {where} {words}"
    if run is not None and task is None:
        line += f": {run.objective[:200]}"
    if reason:
        line += f" ({reason[:300]})"
    return redact(line)


def payload(
    name: str, key: str, event: Event, workspace: str, run: Run | None, task: Task | None
) -> dict[str, Any]:
    """The `bosun.webhook/1` document for one delivery."""
    reason = (event.data or {}).get("reason") or (task.reason if task else None)
    reason = reason or (run.reason if run is not None and task is None else None)
    return {
        "schema": SCHEMA,
        "id": key,
        "event": name,
        "occurredAt": event.ts.isoformat(),
        "workspace": workspace,
        "text": _text(name, run, task, str(reason) if reason else None),
        "run": None if run is None else {
            "id": run.id, "objective": redact(run.objective), "state": run.state.value,
            "reason": redact(run.reason) if run.reason else None,
            "cost": run.cost.model_dump(mode="json", by_alias=True),
        },
        "task": None if task is None else {
            "id": task.id, "key": task.key, "title": redact(task.title),
            "state": task.state.value, "reason": redact(task.reason) if task.reason else None,
            "attempt": task.attempt,
        },
    }  # fmt: skip


def body_for(document: dict[str, Any], fmt: str) -> bytes:
    """The bytes POSTed for `document` in the hook's format."""
    if fmt == "slack":
        shaped: dict[str, Any] = {"text": document["text"]}
    elif fmt == "discord":
        shaped = {"content": document["text"][:2000]}
    else:
        shaped = document
    return json.dumps(shaped, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the body with the hook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
