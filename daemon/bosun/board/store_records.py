"""The board's records beside runs and tasks: model calls kept for replay, and the journal.

A mixin of Store (kept apart so each module stays one concern and small).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from bosun.board import queries, record_writes
from bosun.board.dialect import Conn
from bosun.board.fields import json_data
from bosun.board.models import RecordedCall
from bosun.board.writer import Writer

T = TypeVar("T")
PROBE_JOURNAL = "storage-probe"  # the writability check's entry, deleted at once


class RecordsMixin:
    """Recorded calls and journal entries; needs Store's writer and reader."""

    _writer: Writer

    async def _read(self, fn: Callable[[Conn], T]) -> T:
        raise NotImplementedError  # provided by Store

    async def record_call(
        self,
        run_id: int,
        task_id: int | None,
        attempt: int | None,
        role: str,
        key: str,
        turn: int,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
    ) -> None:
        """Keep one model call (request and answer) for replay."""
        op = partial(
            record_writes.record_call,
            run_id=run_id,
            task_id=task_id,
            attempt=attempt,
            role=role,
            key=key,
            turn=turn,
            request=json_data(request, "request"),
            response=json_data(response, "response"),
        )
        await self._writer.submit(op)

    async def recorded_calls(self, run_id: int) -> list[RecordedCall]:
        """Every recorded call of a run, in order."""
        return await self._read(partial(queries.recorded_calls, run_id=run_id))

    async def journal_put(self, kind: str, key: str, data: Mapping[str, Any]) -> None:
        """Write (or replace) a journal entry, durably."""
        op = partial(
            record_writes.journal_put, kind=kind, key=key, data=json_data(data, "journal data")
        )
        await self._writer.submit(op)

    async def journal_get(self, kind: str, key: str) -> dict[str, Any] | None:
        """A journal entry's data, or None."""
        return await self._read(partial(queries.journal_get, kind=kind, key=key))

    async def journal_delete(self, kind: str, key: str) -> None:
        """Remove a journal entry (no error when absent)."""
        await self._writer.submit(partial(record_writes.journal_delete, kind=kind, key=key))

    async def check_writable(self) -> None:
        """A real write through the writer, undone: BoardUnwritableError if the disk refuses."""
        await self.journal_put(PROBE_JOURNAL, "probe", {"probe": True})
        await self.journal_delete(PROBE_JOURNAL, "probe")

    async def journal_list(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Every entry of a journal kind, by key."""
        return await self._read(partial(queries.journal_list, kind=kind))
