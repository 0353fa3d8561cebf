"""Schema versions: the frozen v1 sample migrates intact; bad files get clear errors."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from bosun.board import AttemptOutcome, BoardStorageError, SchemaVersionError, Store, TaskState
from bosun.board.schema import MIGRATIONS, SCHEMA_VERSION, migrate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "board"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """SQLite only (PostgreSQL's schema versions: test_postgres.py)."""
    return tmp_path / "state" / "board.sqlite3"


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    """A private copy of the frozen v1 board (the fixture itself is never opened)."""
    target = tmp_path / "board.sqlite3"
    shutil.copyfile(FIXTURES / "v1.sqlite3", target)
    return target


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    return [(name, " ".join(sql.split())) for name, sql in rows]


def test_v1_migration_still_builds_the_frozen_v1_schema(tmp_path: Path, v1_copy: Path) -> None:
    fresh = sqlite3.connect(tmp_path / "fresh.sqlite3", isolation_level=None)
    migrate(fresh, tmp_path / "fresh.sqlite3", target=1)
    frozen = sqlite3.connect(v1_copy)
    assert _schema(fresh) == _schema(frozen)
    assert fresh.execute("PRAGMA user_version").fetchone()[0] == 1


async def test_frozen_v1_board_opens_with_every_row_intact(v1_copy: Path) -> None:
    store = await Store.open(v1_copy, boot_id="upgrade")
    try:
        assert store.migrated_from == 1
        assert store.last_seq == 6
        run = await store.get_run(1)
        assert (run.objective, run.run_branch, run.options.workers) == (
            "Add a health endpoint",
            "bosun/run-1",
            2,
        )
        assert run.cost.usd == pytest.approx(0.0123)
        tasks = await store.list_tasks(1)
        assert [(t.key, t.state) for t in tasks] == [
            ("design", TaskState.COMPLETE),
            ("build-api", TaskState.ACTIVE),
            ("test-api", TaskState.PLANNED),
        ]
        assert tasks[2].dependencies == [1, 2]
        assert tasks[1].lease is not None and tasks[1].lease.holder == "worker-2"
        assert tasks[1].created_at.utcoffset() is not None
        attempts = await store.list_attempts(2)
        assert [a.outcome for a in attempts] == [AttemptOutcome.QA_FAILED, AttemptOutcome.RUNNING]
        assert attempts[0].verdicts[0].evidence == "500"
        events, more = await store.events_since(0, 100)
        assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6] and not more
        messages, _ = await store.transcript(2, 1)
        assert [m.content for m in messages] == ["You are a coder.", "Build it.", "Done."]
        assert (await store.recorded_calls(1))[0].response == {"content": "Done."}
        assert await store.journal_get("merge", "task-1") == {
            "task_id": 1,
            "old": "a1b2c3",
            "new": "d4e5f6",
        }
        # v2's lease_holder was backfilled: the holder-checked CAS works on old rows.
        moved = await store.transition(
            2, expected=TaskState.ACTIVE, to=TaskState.AWAITING_QA, holder="worker-2"
        )
        assert moved.lease is None
        assert (await store.append_event("after.upgrade")).seq == 8
    finally:
        await store.close()
    conn = sqlite3.connect(v1_copy)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_board_newer_than_code_is_refused_untouched(db_path: Path) -> None:
    store = await Store.open(db_path, boot_id="b")
    await store.create_run("keep me")
    await store.close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match=f"version {SCHEMA_VERSION + 1}.*upgrade bosun"):
        await Store.open(db_path, boot_id="b")
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT objective FROM runs").fetchall() == [("keep me",)]


async def test_file_that_is_not_a_database_names_file_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite3"
    _write(path, b"this is not sqlite at all, just text\n" * 200)
    with pytest.raises(BoardStorageError) as caught:
        await Store.open(path, boot_id="b")
    assert str(path) in caught.value.message
    assert "move it aside" in caught.value.message
    assert _head(path) == b"this is not sqlite"


def _head(path: Path) -> bytes:
    return path.read_bytes()[:18]


async def test_truncated_database_file_is_reported_not_crashed(db_path: Path) -> None:
    store = await Store.open(db_path, boot_id="b")
    for i in range(50):
        await store.create_run(f"run {i} " + "x" * 500)
    await store.close()
    _overwrite(db_path, 100, b"\xff" * 3000)
    with pytest.raises(BoardStorageError, match="board"):
        await _open_and_list(db_path)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _overwrite(path: Path, offset: int, junk: bytes) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:offset] + junk + data[offset + len(junk) :])


async def _open_and_list(path: Path) -> None:
    store = await Store.open(path, boot_id="b")
    try:
        await store.list_runs(100)
    finally:
        await store.close()


def test_every_migration_is_registered_in_order() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION == 3
