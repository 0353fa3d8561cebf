"""`bosun run`'s live view shows spend as it grows: per task, and the run's total."""

from __future__ import annotations

import io
import re
from typing import Any

from bosun.cli.live_view import LiveView


class Notifications:
    """Where LiveView registers its notification handler (no daemon needed to render)."""

    def on_notification(self, handler: Any) -> None:
        self.handler = handler


def _task(cost: dict[str, Any], state: str = "active", key: str = "core") -> dict[str, Any]:
    return {"id": 2, "runId": 1, "key": key, "profile": "coder", "state": state, "attempt": 1,
            "cost": cost}  # fmt: skip


def _run(cost: dict[str, Any]) -> dict[str, Any]:
    return {"id": 1, "state": "running", "cost": cost}


def _cost(tokens: int, usd: float | None) -> dict[str, Any]:
    return {"inputTokens": tokens, "outputTokens": 0, "usd": usd, "calls": tokens // 100}


async def test_task_lines_carry_spend_and_the_total_is_shown_when_it_grows() -> None:
    out = io.StringIO()
    view = LiveView(Notifications(), out=out, spend_every_s=0)  # type: ignore[arg-type]
    view.follow(1)
    view.on_notification("bosun/runChanged", {"run": _run(_cost(0, 0.0))})
    view.on_notification("bosun/taskChanged", {"task": _task(_cost(0, 0.0))})
    view.on_notification("bosun/taskChanged", {"task": _task(_cost(1200, 0.0123))})
    view.on_notification("bosun/runChanged", {"run": _run(_cost(1200, 0.0123))})
    view.on_notification("bosun/taskChanged", {"task": _task(_cost(1500, 0.02), "awaiting_qa")})
    view.on_notification("bosun/runChanged", {"run": _run(_cost(1500, 0.02))})
    lines = [re.sub(r"^ *\d+\.\ds  ", "", line) for line in out.getvalue().splitlines()]
    assert lines == [
        "run 1 running",
        "#2   core         coder      active          attempt 1",
        "spent 1200 tokens, 12 calls, $0.0123 (core $0.0123)",
        "#2   core         coder      awaiting_qa     attempt 1, $0.0200",
        "spent 1500 tokens, 15 calls, $0.0200 (core $0.0200)",
    ]


async def test_the_total_is_shown_at_most_once_per_interval_and_unpriced_spend_in_tokens() -> None:
    out = io.StringIO()
    view = LiveView(Notifications(), out=out, spend_every_s=3600)  # type: ignore[arg-type]
    view.follow(1)
    for tokens in (100, 200, 300):
        view.on_notification("bosun/taskChanged", {"task": _task(_cost(tokens, None))})
        view.on_notification("bosun/runChanged", {"run": _run(_cost(tokens, None))})
    spent = [line for line in out.getvalue().splitlines() if "spent" in line]
    assert len(spent) == 1
    assert spent[0].endswith("spent 100 tokens, 1 calls, price unknown (core 100 tok)")
