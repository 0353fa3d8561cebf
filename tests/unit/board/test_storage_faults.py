"""Unlucky storage: a full disk fails writes cleanly and loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.board import BoardStorageError, NewMessage, Run, Store, TaskSpec, TaskState
from bosun.board.dialect import Conn

Specs = Callable[..., list[TaskSpec]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """SQLite only: the faults are injected through SQLite's page limit."""
    return tmp_path / "state" / "board.sqlite3"


async def _limit_pages(store: Store, extra: int | None) -> None:
    """Fault injection: cap the file's size as a full disk would (None lifts the cap)."""

    def cap(conn: Conn) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        limit = 1_073_741_823 if extra is None else pages + extra
        conn.execute(f"PRAGMA max_page_count = {limit}")

    await store.backend.write(cap)


async def test_disk_full_fails_the_batch_cleanly_and_loses_nothing(
    store: Store, run: Run, specs: Specs
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    before = store.last_seq
    await _limit_pages(store, 0)
    huge = [NewMessage(role="tool", content="x" * 300_000)]
    results = await asyncio.gather(
        store.append_messages(task.id, 1, huge),
        store.transition(task.id, expected=TaskState.PLANNED, to=TaskState.READY),
        return_exceptions=True,
    )
    assert all(isinstance(r, BoardStorageError) for r in results), results
    first = results[0]
    assert isinstance(first, BoardStorageError)
    assert "disk is full" in first.message and store.where in first.message
    assert await store.transcript(task.id, 1) == ([], False)
    assert (await store.get_task(task.id)).state is TaskState.PLANNED
    assert store.last_seq == before
    assert await store.events_since(before, 10) == ([], False)

    await _limit_pages(store, None)
    stored = await store.append_messages(task.id, 1, huge)
    assert len(stored) == 1
    assert store.last_seq == before + 1


async def test_board_path_that_is_a_directory_names_file_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite3"
    path.mkdir()
    with pytest.raises(BoardStorageError) as caught:
        await Store.open(path, boot_id="b")
    assert str(path) in caught.value.message
    assert "check that you own the file" in caught.value.message


async def test_state_directory_that_is_a_file_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("not a directory")
    with pytest.raises(BoardStorageError, match="cannot create"):
        await Store.open(blocker / "board.sqlite3", boot_id="b")
