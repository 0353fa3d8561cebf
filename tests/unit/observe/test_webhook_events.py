"""Which board events owe which webhooks: every event of the schema, each hook told only
the events it lists, and the Slack/Discord shapes of the same text (a real board)."""

from __future__ import annotations

import json
from pathlib import Path

from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.observe.settings import WebhookSettings
from bosun.observe.webhook_payloads import body_for
from bosun.observe.webhooks import Webhooks
from bosun_protocol.entities import AttemptOutcome, RunState, TaskState

# Nobody listens on port 9: the rows stay owed (pending), which is what is checked.
_URL = "http://127.0.0.1:9/hook"


async def test_each_event_kind_is_owed_to_the_hooks_that_list_it(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "board.sqlite3", boot_id="b")
    hooks = {
        "all": WebhookSettings(url=_URL, max_attempts=100, backoff_initial_s=3600),
        "failures": WebhookSettings(url=_URL, events=["task_failed", "budget_reached"],
                                    max_attempts=100, backoff_initial_s=3600),
    }  # fmt: skip
    webhooks = Webhooks(store, hooks, "repo", {})
    await webhooks.start()
    try:
        run = await store.create_run("ship it")
        a, b = await store.create_tasks(
            run.id, [TaskSpec(key="a", title="a"), TaskSpec(key="b", title="b")]
        )
        await store.transition(a.id, expected=TaskState.PLANNED, to=TaskState.WAITING_HUMAN)
        await store.transition(a.id, expected=TaskState.WAITING_HUMAN, to=TaskState.ABANDONED)
        await store.start_attempt(b.id, 1)
        await store.finish_attempt(b.id, 1, AttemptOutcome.BUDGET_EXCEEDED, error="spent")
        await store.update_task(b.id, event="task.approval_requested", data={"tool": "x"})
        await store.update_run(run.id, event="run.failed", state=RunState.FAILED)
        other = await store.create_run("another")
        await store.update_run(other.id, event="run.cancelled", state=RunState.CANCELLED)
        await webhooks.owed()
    finally:
        await webhooks.stop()
        rows = await store.outbox_rows()
        await store.close()
    told = [(r.hook, r.event) for r in rows]
    assert [e for h, e in told if h == "all"] == [
        "human_needed", "task_failed", "budget_reached", "human_needed", "run_failed",
        "run_cancelled",
    ]  # fmt: skip
    assert [e for h, e in told if h == "failures"] == ["task_failed", "budget_reached"]
    assert {r.state for r in rows} == {"pending"}
    abandoned = json.loads(next(r.payload for r in rows if r.event == "task_failed"))
    assert abandoned["task"]["key"] == "a" and abandoned["task"]["state"] == "abandoned"
    assert abandoned["schema"] == "bosun.webhook/1" and abandoned["run"]["id"] == run.id


def test_slack_and_discord_bodies_carry_the_same_line_and_discord_keeps_its_limit() -> None:
    document = {"schema": "bosun.webhook/1", "text": "Bosun: run 3 " + "x" * 3000}
    assert json.loads(body_for(document, "slack")) == {"text": document["text"]}
    discord = json.loads(body_for(document, "discord"))
    assert discord == {"content": document["text"][:2000]}
    assert json.loads(body_for(document, "bosun")) == document
