"""A failed outbox write (the OUTBOX_WRITE fault) delays that event's webhook, never loses
it, and holds up no later one; a row that cannot be sent does not stop the sender.
A real board and a real receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun import failpoints
from bosun.board.outbox import OutboxItem, OutboxRow
from bosun.board.store import Store
from bosun.observe import webhooks as webhooks_module
from bosun.observe.settings import WebhookSettings
from bosun.observe.webhooks import Webhooks
from bosun_protocol.entities import RunState

from tests.integration.observe.webhook_receiver import Receiver


@pytest.fixture
def fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The file whose existence makes the outbox's writes fail."""
    flag = tmp_path / "outbox-write-fails"
    monkeypatch.setenv("BOSUN_FAULT_OUTBOX_WRITE", str(flag))
    failpoints.reset_for_tests()
    yield flag
    monkeypatch.delenv("BOSUN_FAULT_OUTBOX_WRITE")
    failpoints.reset_for_tests()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real board."""
    s = await Store.open(tmp_path / "board.sqlite3", boot_id="b")
    yield s
    await s.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver that is up."""
    r = Receiver()
    r.up()
    yield r
    r.down()


def _hooks(receiver: Receiver, **extra: Any) -> dict[str, WebhookSettings]:
    return {"ops": WebhookSettings(url=receiver.url, backoff_initial_s=0.05, **extra)}


async def _ended(store: Store, objective: str) -> int:
    """A run that completes; the seq of its `run.completed` event."""
    run = await store.create_run(objective)
    await store.update_run(run.id, event="run.completed", state=RunState.COMPLETED)
    return store.last_seq


async def _settled(store: Store, count: int) -> dict[str, OutboxRow]:
    """The outbox once `count` rows are settled (each a read of the board, no sleep)."""
    for _ in range(10_000):
        rows = {r.key: r for r in await store.outbox_rows()}
        if sum(1 for r in rows.values() if r.state != "pending") >= count:
            return rows
    raise AssertionError(f"outbox rows never settled: {rows}")


def _ids(receiver: Receiver, count: int) -> list[str]:
    return sorted(d.document["id"] for d in receiver.wait_for(count))


async def test_an_event_whose_outbox_write_failed_is_owed_again_and_later_ones_go_meanwhile(
    store: Store, receiver: Receiver, fault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks_module, "_RETRY_FIRST_S", 0.05)
    hooks = Webhooks(store, _hooks(receiver), "repo", {})
    await hooks.start()
    try:
        await asyncio.to_thread(fault.touch)
        first = await _ended(store, "one")
        await hooks.owed()  # its write failed
        await asyncio.to_thread(fault.unlink)
        second = await _ended(store, "two")
        # The later one is sent without waiting for the earlier one's retry…
        assert (await asyncio.to_thread(_ids, receiver, 1)) == [f"ops:{second}"]
        # …which follows: nothing lost.
        got = await asyncio.to_thread(_ids, receiver, 2)
        rows = list((await _settled(store, 2)).values())
    finally:
        await hooks.stop()
    assert got == sorted([f"ops:{first}", f"ops:{second}"])
    assert sorted((r.key, r.state) for r in rows) == sorted(
        [(f"ops:{first}", "delivered"), (f"ops:{second}", "delivered")]
    )
    assert await store.outbox_cursor(0) == second


async def test_the_cursor_stays_before_a_failed_write_so_a_restart_owes_it(
    store: Store, receiver: Receiver, fault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks_module, "_RETRY_FIRST_S", 3600.0)  # no retry before the stop
    hooks = Webhooks(store, _hooks(receiver), "repo", {})
    await hooks.start()
    try:
        await asyncio.to_thread(fault.touch)
        first = await _ended(store, "one")
        await hooks.owed()
        await asyncio.to_thread(fault.unlink)
        second = await _ended(store, "two")
        await hooks.owed()
        assert (await asyncio.to_thread(_ids, receiver, 1)) == [f"ops:{second}"]
        await _settled(store, 1)
    finally:
        await hooks.stop()  # the daemon stops with the first one still not written
    assert [r.key for r in await store.outbox_rows()] == [f"ops:{second}"]
    assert await store.outbox_cursor(0) == first - 1  # not past the one never written
    again = Webhooks(store, _hooks(receiver), "repo", {})
    await again.start()  # the catch-up owes it (and the second again, which is a no-op)
    try:
        got = await asyncio.to_thread(_ids, receiver, 2)
        rows = await _settled(store, 2)
    finally:
        await again.stop()
    assert got == sorted([f"ops:{first}", f"ops:{second}"])
    assert sorted(rows) == sorted([f"ops:{first}", f"ops:{second}"])  # none owed twice
    assert {r.state for r in rows.values()} == {"delivered"}


async def test_a_row_that_cannot_be_sent_is_failed_and_the_rows_after_it_are_delivered(
    store: Store, receiver: Receiver
) -> None:
    hooks = Webhooks(store, _hooks(receiver, format="slack"), "repo", {})
    # A payload without its text (an older daemon's, or a damaged row): slack's shape
    # cannot be made from it.
    await store.outbox_enqueue(
        [OutboxItem("ops", "run_completed", "ops:broken", {"schema": "?"}, 0)], 0, 0.0
    )
    await hooks.start()
    try:
        seq = await _ended(store, "fine")
        delivered = await asyncio.to_thread(receiver.wait_for, 1)
        rows = await _settled(store, 2)
    finally:
        await hooks.stop()
    assert delivered[0].headers["x-bosun-delivery"] == f"ops:{seq}"
    assert rows["ops:broken"].state == "failed"
    assert rows["ops:broken"].last_error == "cannot be sent: KeyError"
    assert rows[f"ops:{seq}"].state == "delivered"
