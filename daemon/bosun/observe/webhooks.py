"""Webhooks delivered at least once from the board's outbox, signed, retried with backoff.

1. Owing. A board listener queues each event that calls for a webhook; one owing loop
   turns them, in seq order, into an outbox row per hook (idempotency key
   `<hook>:<event seq>`, so owing twice is owing once) and moves the outbox's cursor
   past it. At start the events after the cursor are looked at again: a daemon killed
   between an event's commit and its row loses nothing. The first start with webhooks
   configured sets the cursor at the newest event, so old history is never sent. An
   event whose write fails is tried again (with backoff) while later ones are owed, and
   the cursor never passes it until it is written: a failed write delays it, never
   loses it, and holds nothing else up; a restart meanwhile owes it again at catch-up.
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
_RETRY_FIRST_S = 1.0  # an owing whose write failed is tried again after this, doubling
_RETRY_MAX_S = 60.0

_Owed = tuple[Event, Run | None, Task | None]


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
        self._queue: asyncio.Queue[_Owed] = asyncio.Queue()
        self._failed: dict[int, _Owed] = {}  # event seq → an owing whose write failed
        self._retry_s = _RETRY_FIRST_S
        self._retry_at = 0.0  # monotonic time the failed owings are due again
        self._newest = 0  # the newest event seq the owing has tried
        self._owing: asyncio.Task[None] | None = None
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
                await self._try_owe((event, None, None))
            cursor = events[-1].seq
        self._owing = asyncio.create_task(self._owe_loop(), name="webhook-owing")
        self._sender = asyncio.create_task(self._send_loop(), name="webhook-sender")

    def on_board_event(self, event: Event, run: Run | None, task: Task | None) -> None:
        """A Store listener: owe the webhooks this event calls for (queued, in seq order)."""
        if webhook_event(event) is not None:
            self._queue.put_nowait((event, run, task))

    async def _owe_loop(self) -> None:
        while True:
            owed: _Owed | None = None
            if self._failed:  # earlier failures are tried again at the latest after a backoff
                with contextlib.suppress(TimeoutError):
                    owed = await asyncio.wait_for(self._queue.get(), self._retry_s)
            else:
                owed = await self._queue.get()
            if self._failed and (owed is None or self._retry_at <= time.monotonic()):
                await self._retry_failed()
            if owed is not None:
                await self._try_owe(owed)
                self._queue.task_done()

    async def owed(self) -> None:
        """Wait until every event queued so far has been tried (written, or kept for a
        retry after its write failed)."""
        await self._queue.join()

    async def _retry_failed(self) -> None:
        for seq in sorted(self._failed):
            owed = self._failed.pop(seq)
            if not await self._try_owe(owed):
                break  # still failing: the later ones wait for the next round, in order
        if self._failed:
            self._retry_s = min(self._retry_s * 2, _RETRY_MAX_S)
        else:
            self._retry_s = _RETRY_FIRST_S
        self._retry_at = time.monotonic() + self._retry_s

    async def _try_owe(self, owed: _Owed) -> bool:
        """Owe one event's deliveries; a failure is kept for a retry (and logged)."""
        event = owed[0]
        try:
            await self._owe(*owed)
        except Exception as exc:
            if not self._failed:
                self._retry_at = time.monotonic() + self._retry_s
            self._failed[event.seq] = owed
            log.warning("webhook: owing event %d failed (tried again later): %s", event.seq,
                        getattr(exc, "message", None) or exc)  # fmt: skip
            return False
        return True

    def _cursor_for(self, seq: int) -> int:
        # Up to the newest event tried (an earlier failure written at last lets the cursor
        # catch up with the later ones written meanwhile), never past one still failing:
        # a restart must look at it again.
        self._newest = max(self._newest, seq)
        failing = [s for s in self._failed if s != seq]
        return min(min(failing) - 1, self._newest) if failing else self._newest

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
        if await self.store.outbox_enqueue(items, self._cursor_for(event.seq), time.time()):
            self._kick.set()

    # --- sending ---------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while True:
            self._kick.clear()
            try:
                for row in await self.store.outbox_due(time.time()):
                    await self._deliver_or_fail(row)
                next_at = await self.store.outbox_next_at()
            except BosunError as exc:  # the board is closing or failing: try later
                log.warning("webhook: %s", exc.message)
                next_at = time.time() + 5
            wait = _IDLE_S if next_at is None else max(next_at - time.time(), 0)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), wait)

    async def _deliver_or_fail(self, row: OutboxRow) -> None:
        """Deliver `row`; a row that cannot even be sent (a payload that does not load) is
        settled failed, so it neither stops the sender nor holds up the rows after it."""
        try:
            await self._deliver(row)
        except BosunError:
            raise  # the board: the whole loop tries again later
        except Exception as exc:
            log.exception("webhook %s delivery %s cannot be sent", row.hook, row.key)
            await self.store.outbox_settle(row.id, state="failed", attempts=row.attempts,
                                           next_at=row.next_at,
                                           error=f"cannot be sent: {type(exc).__name__}")  # fmt: skip

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
        for task in (self._owing, self._sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        # Queued, not yet written: write it now rather than at the next start's catch-up
        # (which would owe it too, since the cursor is not past it).
        while not self._queue.empty():
            await self._try_owe(self._queue.get_nowait())
            self._queue.task_done()


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
