"""A rate limiter per provider (requests/min, tokens/min, concurrent), shared by all workers.

Requests and tokens are counted over a sliding 60-second window; a caller that would
exceed a limit waits (first come, first served) until the window has room.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bosun.llm.clock import Clock, RealClock

WINDOW = 60.0


@dataclass
class _Entry:
    at: float
    tokens: int


class RateLimiter:
    """Admits calls to one provider within its limits; None means no limit."""

    def __init__(
        self,
        *,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        max_concurrent: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.rpm = requests_per_minute
        self.tpm = tokens_per_minute
        self.clock = clock or RealClock()
        self._slots = asyncio.Semaphore(max_concurrent) if max_concurrent else None
        self._turn = asyncio.Lock()  # one caller at a time waits for window room: FIFO
        self._window: deque[_Entry] = deque()
        self.in_flight = 0
        self.waiting = 0
        self.held_until = 0.0  # the provider said "retry after": nobody starts before this

    def _expire(self, now: float) -> None:
        while self._window and self._window[0].at <= now - WINDOW:
            self._window.popleft()

    def hold(self, seconds: float) -> None:
        """Admit no new call for `seconds` (a 429 slows every worker, not just one)."""
        self.held_until = max(self.held_until, self.clock.monotonic() + seconds)

    def _wait_needed(self, tokens: int, now: float) -> float:
        if now < self.held_until:
            return self.held_until - now
        self._expire(now)
        if not self._window:
            return 0.0
        if self.rpm is not None and len(self._window) >= self.rpm:
            return self._window[len(self._window) - self.rpm].at + WINDOW - now
        if self.tpm is not None:
            used = sum(e.tokens for e in self._window)
            if used + tokens > self.tpm:
                # Wait until enough of the oldest entries leave the window.
                excess = used + tokens - self.tpm
                for entry in self._window:
                    excess -= entry.tokens
                    if excess <= 0:
                        return entry.at + WINDOW - now
                return self._window[-1].at + WINDOW - now
        return 0.0

    async def _admit(self, tokens: int) -> _Entry:
        async with self._turn:
            while True:
                now = self.clock.monotonic()
                wait = self._wait_needed(tokens, now)
                if wait <= 0:
                    entry = _Entry(now, tokens)
                    self._window.append(entry)
                    return entry
                await self.clock.sleep(wait)

    @asynccontextmanager
    async def slot(self, estimated_tokens: int = 0) -> AsyncIterator[_Entry]:
        """Hold one admitted call; set `.tokens` on the yielded entry to the real usage."""
        self.waiting += 1
        try:
            if self._slots is not None:
                await self._slots.acquire()
            try:
                entry = await self._admit(estimated_tokens)
            except BaseException:
                if self._slots is not None:
                    self._slots.release()
                raise
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            yield entry
        finally:
            self.in_flight -= 1
            if self._slots is not None:
                self._slots.release()
