"""The slice of the board (bosun.board.store.Store) the git plane reads and writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from bosun_protocol.entities import Event, Run, Task, TaskState


class GitBoard(Protocol):
    """What the git plane needs from the Store; the real Store satisfies it."""

    async def get_run(self, run_id: int) -> Run: ...

    async def list_runs(self, limit: int = 50, before_id: int | None = None) -> list[Run]: ...

    async def update_run(
        self, run_id: int, *, event: str, data: dict[str, Any] = ..., **fields: Any
    ) -> Run: ...

    async def get_task(self, task_id: int) -> Task: ...

    async def list_tasks(self, run_id: int, states: set[TaskState] | None = None) -> list[Task]: ...

    async def update_task(
        self, task_id: int, *, event: str, data: dict[str, Any] = ..., **fields: Any
    ) -> Task: ...

    async def append_event(
        self,
        kind: str,
        *,
        run_id: int | None = None,
        task_id: int | None = None,
        data: dict[str, Any] = ...,
    ) -> Event: ...

    async def journal_put(self, kind: str, key: str, data: dict[str, Any]) -> None: ...

    async def journal_get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def journal_delete(self, kind: str, key: str) -> None: ...

    async def journal_list(self, kind: str) -> list[tuple[str, dict[str, Any]]]: ...


async def all_runs(board: GitBoard) -> AsyncIterator[Run]:
    """Every run on the board, newest first, page by page."""
    before: int | None = None
    while True:
        page = await board.list_runs(limit=200, before_id=before)
        for run in page:
            yield run
        if len(page) < 200:
            return
        before = page[-1].id
