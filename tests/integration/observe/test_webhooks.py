"""Webhooks from the board's outbox: signed, retried while the receiver is down, and sent after a SIGKILL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.observe.demo_daemon import (
    connect,
    run_demo,
    sample_repo,
    start_daemon,
    stop_daemon,
)
from tests.integration.observe.webhook_receiver import Delivery, Receiver

SECRET = "whsec-test-0123456789"


def _hook(url: str, **extra: str) -> str:
    # Quick retries, never spent while the receiver is down.
    lines = [f'url = "{url}"', 'secret_env = "BOSUN_TEST_WEBHOOK_SECRET"',
             "backoff_initial_s = 0.2", "backoff_max_s = 0.5", "max_attempts = 100"]  # fmt: skip
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "[observe.webhooks.ops]\n" + "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOSUN_TEST_WEBHOOK_SECRET", SECRET)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver, down until a test brings it up."""
    r = Receiver()
    yield r
    r.down()


def _verified(d: Delivery) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), d.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(d.headers["x-bosun-signature"], expected)


def _outbox(repo: Path) -> list[tuple[str, str, int, str | None]]:
    conn = sqlite3.connect(repo / ".bosun" / "board.sqlite3")
    try:
        return conn.execute(
            "SELECT idempotency_key, state, attempts, delivered_at FROM webhook_outbox ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


async def test_a_run_is_told_signed_and_a_receiver_that_was_down_gets_it_when_back(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.fail_first = 1  # and a 500 once it is up
    repo = sample_repo(tmp_path / "wordkit", _hook(receiver.url))
    start_daemon(repo)
    try:
        async with await connect(repo) as client:
            run = await run_demo(client)  # the receiver is down all along
        assert run["run"]["state"] == "completed"
        receiver.up()
        arrived = await asyncio.to_thread(receiver.wait_for, 2)
    finally:
        stop_daemon(repo)
    # In the order owed (a retried one may arrive after a later one).
    got = sorted(arrived, key=lambda d: int(d.document["id"].split(":")[1]))
    docs = [d.document for d in got]
    assert [d["event"] for d in docs] == ["human_needed", "run_completed"]
    assert all(_verified(d) for d in got)
    first = docs[0]
    assert first["schema"] == "bosun.webhook/1" and first["workspace"] == "wordkit"
    assert first["task"]["key"] == "readme" and first["run"]["id"] == run["run"]["id"]
    assert docs[1]["run"]["state"] == "completed" and docs[1]["task"] is None
    assert got[0].headers["x-bosun-delivery"] == first["id"]
    assert got[0].headers["x-bosun-event"] == "human_needed"
    rows = _outbox(repo)
    assert [r[1] for r in rows] == ["delivered", "delivered"]
    assert all(r[3] is not None for r in rows)
    assert rows[0][2] >= 2  # refused at least once, then delivered


async def test_deliveries_pending_at_a_sigkill_are_sent_after_restart_and_their_rows_settle(
    tmp_path: Path, receiver: Receiver
) -> None:
    repo = sample_repo(tmp_path / "wordkit", _hook(receiver.url, format='"slack"'))
    start_daemon(repo)
    async with await connect(repo) as client:
        pid = (await client.request("bosun/status"))["pid"]
        await run_demo(client)
    # The question was owed long ago; the run's end may not be yet (a kill right after
    # the event's commit): the restarted daemon's catch-up owes it then.
    pending = _outbox(repo)
    assert pending and {r[1] for r in pending} == {"pending"}
    os.kill(pid, signal.SIGKILL)
    receiver.up()
    start_daemon(repo)  # a new daemon, the same board
    try:
        got = await asyncio.to_thread(receiver.wait_for, 2)
        async with await connect(repo) as client:
            # Each row is settled in the board right after its POST: wait for that,
            # giving the daemon round trips (bounded), never a sleep.
            for _ in range(5000):
                if [r[1] for r in _outbox(repo)] == ["delivered", "delivered"]:
                    break
                await client.request("bosun/status")
            events = (await client.request("bosun/eventsSince", {"after": 0, "limit": 5000}))[
                "events"
            ]
    finally:
        stop_daemon(repo)
    rows = _outbox(repo)
    assert [r[1] for r in rows] == ["delivered", "delivered"]
    assert all(r[3] is not None for r in rows)
    ended = next(e for e in events if e["kind"] == "run.completed")
    asked = next(
        e for e in events if e["kind"] == "task.transition" and e["data"]["to"] == "waiting_human"
    )
    keys = {f"ops:{asked['seq']}", f"ops:{ended['seq']}"}
    assert {r[0] for r in rows} == keys  # owed once each, not again after the restart
    assert {d.headers["x-bosun-delivery"] for d in got} == keys
    assert all(set(d.document) == {"text"} for d in got)  # the slack shape
    assert any("needs a human" in d.document["text"] for d in got)


def test_the_discord_shape_and_the_signature_are_what_receivers_expect() -> None:
    from bosun.observe.webhook_payloads import body_for, signature

    doc = {"text": "x", "event": "run_completed"}
    assert json.loads(body_for(doc, "discord")) == {"content": "x"}
    assert signature("k", b"{}") == "sha256=" + hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()
