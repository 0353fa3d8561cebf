"""When the board cannot be written (disk full, read-only, I/O errors): pause, wait, resume.

The engine's memory is only a cache of the board (core.py), so a write that fails leaves
the board as it was before it, and the one safe answer is to stop acting on the cache:
the engine is stopped as at shutdown (its attempts interrupted, what they could not
record left for recovery), every client is told why (`bosun/storageChanged`, the
`storage` field of `bosun/status`, a `window/showMessage`), and a small write is tried
every `engine.storage_probe_s`. The first that succeeds — or `bosun resume` once it can —
starts a new engine, whose recovery picks every run up from the board: tasks this boot
had leased are re-queued without spending a retry, since the disk was not their fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bosun_protocol.messages import StorageStatus

from bosun.board.errors import BoardStorageError, BoardUnwritableError
from bosun.errors import BosunError, find_cause

log = logging.getLogger(__name__)


def unwritable_in(exc: BaseException | None) -> BoardUnwritableError | None:
    """The disk-refused-a-write error behind `exc` (its causes, a group's members)."""
    return find_cause(exc, BoardUnwritableError)


class StoragePause:
    """The daemon's storage state; pauses the engine on a refused write, resumes it later."""

    def __init__(
        self,
        *,
        stop: Callable[[], Awaitable[None]],
        restart: Callable[[], Awaitable[None]],
        probe: Callable[[], Awaitable[None]],
        announce: Callable[[StorageStatus], None],
        interval: Callable[[], float],
    ) -> None:
        self._stop = stop
        self._restart = restart
        self._probe = probe
        self._announce = announce
        self._interval = interval
        self.status = StorageStatus()
        self._wake = asyncio.Event()
        self._resuming = asyncio.Lock()  # the probe loop and `bosun resume` take turns
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def paused(self) -> bool:
        return self.status.state == "paused"

    def failed(self, exc: BaseException) -> None:
        """A write the disk refused: pause (once; later failures only refresh the reason)."""
        error = unwritable_in(exc)
        if error is None or self._closing:
            return
        if self.paused:
            return
        self.status = StorageStatus(state="paused", reason=error.message, since=datetime.now(UTC))
        log.warning("the board cannot be written; runs are paused until it can: %s", error)
        self._announce(self.status)
        self._task = asyncio.create_task(self._wait_and_resume(), name="storage-pause")
        self._task.add_done_callback(_log_failure)

    async def _wait_and_resume(self) -> None:
        try:
            await self._stop()
        except Exception:
            log.exception("stopping the engine for the storage pause failed")
        while not self._closing and self.paused:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval())
            if self._closing:
                return
            await self._try_resume()

    async def _try_resume(self) -> bool:
        async with self._resuming:
            if not self.paused:
                return True
            return await self._resume()

    async def _resume(self) -> bool:
        try:
            await self._probe()
            await self._restart()
        except BosunError as exc:
            if isinstance(exc, BoardStorageError) and exc.message != self.status.reason:
                self.status = self.status.model_copy(update={"reason": exc.message})
                self._announce(self.status)
            return False
        except Exception:
            log.exception("resuming after the storage pause failed; trying again")
            return False
        log.info("the board accepts writes again; runs resumed")
        self.status = StorageStatus()
        self._announce(self.status)
        return True

    async def resume_now(self) -> bool:
        """`bosun resume` while paused: try at once; BoardUnwritableError if still refused.

        False when nothing was paused."""
        if not self.paused:
            return False
        if not await self._try_resume():
            raise BoardUnwritableError(
                f"runs stay paused: {self.status.reason or 'the board cannot be written'}"
            )
        self._wake.set()  # the probe loop sees it resumed and ends
        return True

    async def close(self) -> None:
        """Stop waiting (the daemon is stopping)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 30)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the storage pause failed", exc_info=task.exception())
