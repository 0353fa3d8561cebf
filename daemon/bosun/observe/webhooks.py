"""Webhooks delivered at least once from the board's outbox, signed, retried with backoff.

1. Owing. A board listener turns each event that calls for a webhook into an outbox
   row per hook (idempotency key `<hook>:<event seq>`, so owing twice is owing once)
   and moves the outbox's cursor past it. At start the events after the cursor are
   looked at again: a daemon killed between an event's commit and its row loses
   nothing. The first start with webhooks configured sets the cursor at the newest
   event, so old history is never sent.
2. Sending. One loop POSTs due rows one at a time (`X-Bosun-Delivery` carries the key,
   `X-Bosun-Signature` the HMAC-SHA256 of the body) and settles each in a committed
   write before the next: 2xx is `delivered`; anything else is tried again after
   `backoff_initial_s · 2^(tries-1)` (at most `backoff_max_s`) until `max_attempts`,
   then `failed`. A daemon killed after a POST and before its settling sends it again
   on restart: the receiver sees the same key and drops the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

from bosun_protocol.entities import Event, Run, Task

from bosun.board.outbox import OutboxItem, OutboxRow
from bosun.board.store import Store
from bosun.errors import BosunError
from bosun.observe.settings import WebhookSettings
from bosun.observe.webhook_payloads import (
    SOURCE_KINDS,
    body_for,
    payload,
    signature,
    webhook_event,
)
from bosun.secrets import redact, register_secret

log = logging.getLogger(__name__)

_CATCH_UP_PAGE = 500
_IDLE_S = 300.0  # with nothing pending, look again this often anyway


class Webhooks:
    """The daemon's webhook outbox: owing from board events, sending from the outbox."""

    def __init__(
        self,
        store: Store,
        hooks: Mapping[str, WebhookSettings],
        workspace: str,
        environ: Mapping[str, str],
    ) -> None:
        self.store = store
        self.hooks = {n: h for n, h in hooks.items() if h.enabled}
        self.workspace = workspace
        self.secrets: dict[str, str] = {}
        for name, hook in self.hooks.items():
            if hook.secret_env is None:
                continue
            value = environ.get(hook.secret_env)
            if value is None:
                log.warning("webhook %s: the secret variable %s is not set; not signing",
                            name, hook.secret_env)  # fmt: skip
                continue
            register_secret(value)
            self.secrets[name] = value
        self._kick = asyncio.Event()
        self._owing: set[asyncio.Task[None]] = set()
        self._sender: asyncio.Task[None] | None = None
        self._unsubscribe: object = None

    # --- owing ---------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up on events after the cursor, then follow the board and send."""
        cursor = await self.store.outbox_cursor(self.store.last_seq)
        unsubscribe = self.store.subscribe(self.on_board_event)
        self._unsubscribe = unsubscribe
        while True:
            events = await self.store.events_of_kinds(cursor, SOURCE_KINDS, _CATCH_UP_PAGE)
            if not events:
                break
            for event in events:
                await self._owe(event, None, None)
            cursor = events[-1].seq
        self._sender = asyncio.create_task(self._send_loop(), name="webhook-sender")

    def on_board_event(self, event: Event, run: Run | None, task: Task | None) -> None:
        """A Store listener: owe the webhooks this event calls for."""
        if webhook_event(event) is None:
            return
        owing = asyncio.get_running_loop().create_task(self._owe(event, run, task))
        self._owing.add(owing)
        owing.add_done_callback(self._owed)

    def _owed(self, task: asyncio.Task[None]) -> None:
        self._owing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook: owing failed", exc_info=task.exception())

    async def _owe(self, event: Event, run: Run | None, task: Task | None) -> None:
        name = webhook_event(event)
        targets = [h for h, conf in self.hooks.items() if name is not None and name in conf.events]
        if name is None or not targets:
            return
        if run is None and event.run_id is not None:
            run = await self.store.get_run(event.run_id)
        if task is None and event.task_id is not None:
            task = await self.store.get_task(event.task_id)
        items = []
        for hook in targets:
            key = f"{hook}:{event.seq}"
            items.append(
                OutboxItem(hook, name, key, payload(name, key, event, self.workspace, run, task),
                           event.seq)
            )  # fmt: skip
        if await self.store.outbox_enqueue(items, event.seq, time.time()):
            self._kick.set()

    # --- sending ---------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while True:
            self._kick.clear()
            try:
                for row in await self.store.outbox_due(time.time()):
                    await self._deliver(row)
                next_at = await self.store.outbox_next_at()
            except BosunError as exc:  # the board is closing or failing: try later
                log.warning("webhook: %s", exc.message)
                next_at = time.time() + 5
            wait = _IDLE_S if next_at is None else max(next_at - time.time(), 0)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), wait)

    async def _deliver(self, row: OutboxRow) -> None:
        hook = self.hooks.get(row.hook)
        if hook is None:  # the hook was removed from the config: nobody to tell
            await self.store.outbox_settle(row.id, state="failed", attempts=row.attempts,
                                           next_at=row.next_at, error="hook no longer configured")  # fmt: skip
            return
        body = body_for(json.loads(row.payload), hook.format)
        headers = {"Content-Type": "application/json", "User-Agent": "bosun-webhook/1",
                   "X-Bosun-Event": row.event, "X-Bosun-Delivery": row.key, **hook.headers}  # fmt: skip
        secret = self.secrets.get(row.hook)
        if secret is not None:
            headers["X-Bosun-Signature"] = signature(secret, body)
        error = await asyncio.to_thread(_post, hook.url, body, headers, hook.timeout_s)
        tries = row.attempts + 1
        if error is None:
            await self.store.outbox_settle(row.id, state="delivered", attempts=tries,
                                           next_at=row.next_at, error=None)  # fmt: skip
            return
        spent = tries >= hook.max_attempts
        wait = min(hook.backoff_initial_s * 2 ** (tries - 1), hook.backoff_max_s)
        log.warning("webhook %s delivery %s try %d failed: %s", row.hook, row.key, tries, error)
        await self.store.outbox_settle(
            row.id, state="failed" if spent else "pending", attempts=tries,
            next_at=time.time() + wait, error=redact(error)[:500],
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop following and sending; what is owed stays in the outbox for the next start."""
        if callable(self._unsubscribe):
            self._unsubscribe()
        if self._owing:
            await asyncio.gather(*self._owing, return_exceptions=True)
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str | None:
    """POST once; None on 2xx, else what went wrong."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return None if 200 <= status < 300 else f"HTTP {status}"
