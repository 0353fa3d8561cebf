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


def _call(view: LiveView, seq: int, task: dict[str, Any], run: dict[str, Any]) -> None:
    """One board event as the daemon's hub tells it: run, then task, then the event."""
    view.on_notification("bosun/runChanged", {"seq": seq, "run": run})
    view.on_notification("bosun/taskChanged", {"seq": seq, "task": task})
    view.on_notification("bosun/event", {"event": {"seq": seq, "kind": "cost.added"}})


async def test_task_lines_carry_spend_and_the_total_is_shown_when_it_grows() -> None:
    out = io.StringIO()
    view = LiveView(Notifications(), out=out, spend_every_s=0)  # type: ignore[arg-type]
    view.follow(1)
    _call(view, 1, _task(_cost(0, 0.0)), _run(_cost(0, 0.0)))
    _call(view, 2, _task(_cost(1200, 0.0123)), _run(_cost(1200, 0.0123)))
    _call(view, 3, _task(_cost(1500, 0.02), "awaiting_qa"), _run(_cost(1500, 0.02)))
    lines = [re.sub(r"^ *\d+\.\ds  ", "", line) for line in out.getvalue().splitlines()]
    assert lines == [
        "run 1 running",
        "#2   core         coder      active          attempt 1",
        "spent 1200 tokens, 12 calls, $0.0123 (core $0.0123)",
        "#2   core         coder      awaiting_qa     attempt 1, $0.0200",
        "spent 1500 tokens, 15 calls, $0.0200 (core $0.0200)",
    ]


async def test_the_costliest_tasks_include_the_call_that_just_moved_the_total() -> None:
    # Drawn at the run's notification, the line showed the task before this call.
    out = io.StringIO()
    view = LiveView(Notifications(), out=out, spend_every_s=0)  # type: ignore[arg-type]
    view.follow(1)
    _call(view, 1, _task(_cost(500, 0.005), key="first"), _run(_cost(500, 0.005)))
    second = {**_task(_cost(900, 0.009), key="second"), "id": 3}
    _call(view, 2, second, _run(_cost(1400, 0.014)))
    spent = [line for line in out.getvalue().splitlines() if "spent" in line]
    assert spent[-1].endswith(
        "spent 1400 tokens, 14 calls, $0.0140 (second $0.0090, first $0.0050)"
    )


async def test_the_total_is_shown_at_most_once_per_interval_and_unpriced_spend_in_tokens() -> None:
    out = io.StringIO()
    view = LiveView(Notifications(), out=out, spend_every_s=3600)  # type: ignore[arg-type]
    view.follow(1)
    for seq, tokens in enumerate((100, 200, 300), 1):
        _call(view, seq, _task(_cost(tokens, None)), _run(_cost(tokens, None)))
    spent = [line for line in out.getvalue().splitlines() if "spent" in line]
    assert len(spent) == 1
    assert spent[0].endswith("spent 100 tokens, 1 calls, price unknown (core 100 tok)")
