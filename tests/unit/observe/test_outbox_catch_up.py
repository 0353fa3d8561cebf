"""The outbox's cursor: events a crash kept from being owed are owed at the next start; old history never."""

from __future__ import annotations

from pathlib import Path

from bosun.board.store import Store
from bosun.observe.settings import WebhookSettings
from bosun.observe.webhooks import Webhooks
from bosun_protocol.entities import RunState

HOOK = {"ops": WebhookSettings(url="http://127.0.0.1:9/hook", max_attempts=1)}


async def test_events_after_the_cursor_are_owed_at_start_and_history_before_it_never(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "board.sqlite3", boot_id="b")
    try:
        old = await store.create_run("an old run")
        await store.update_run(old.id, event="run.cancelled", state=RunState.CANCELLED)
        # Webhooks configured now: the cursor starts at the newest event, old runs stay quiet.
        assert await store.outbox_cursor(store.last_seq) == store.last_seq
        run = await store.create_run("ship it")
        # The daemon died right after this commit, before its listener owed anything.
        ended = await store.update_run(run.id, event="run.completed", state=RunState.COMPLETED)
        assert ended.state is RunState.COMPLETED
        seq = store.last_seq
        webhooks = Webhooks(store, HOOK, "repo", {})
        await webhooks.start()
        await webhooks.stop()
        rows = await store.outbox_rows()
        assert [(r.key, r.event) for r in rows] == [(f"ops:{seq}", "run_completed")]
        assert rows[0].state in ("pending", "failed")  # nobody listens on port 9
        # Owing again (a second start) owes nothing new.
        again = Webhooks(store, HOOK, "repo", {})
        await again.start()
        await again.stop()
        assert [r.key for r in await store.outbox_rows()] == [f"ops:{seq}"]
    finally:
        await store.close()
