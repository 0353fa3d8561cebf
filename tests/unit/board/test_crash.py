"""A process killed with SIGKILL in the middle of writing leaves a consistent board."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from bosun.board import Store, TaskState
from bosun.board.location import BoardLocation, PostgresBoard

S = TaskState
CHILD = Path(__file__).with_name("board_child.py")
ORDER = [S.READY, S.ACTIVE, S.FAILED]


def _child(
    db: BoardLocation, mode: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    where = {}
    if isinstance(db, PostgresBoard):
        where = {"BOARD_SCHEMA": db.schema, "BOARD_PASSWORD": db.password or ""}
    return subprocess.Popen(
        [sys.executable, str(CHILD), db.url if isinstance(db, PostgresBoard) else str(db), mode],
        env={**os.environ, **where, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


def _consistent(db: BoardLocation) -> list[int]:
    """Integrity-check the board; return every event seq, in order."""
    if isinstance(db, PostgresBoard):
        # The server keeps its own integrity (foreign keys are enforced on every write).
        with psycopg.connect(db.url, password=db.password) as pg:
            rows = pg.execute(f'SELECT seq FROM "{db.schema}".events ORDER BY seq')
            return [int(row[0]) for row in rows]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        return [row[0] for row in conn.execute("SELECT seq FROM events ORDER BY seq")]
    finally:
        conn.close()


async def test_kill_between_write_and_commit_loses_the_whole_batch_only(
    db_path: BoardLocation, tmp_path: Path
) -> None:
    assert _finish(_child(db_path, "setup"))[0] == 0
    seqs_before = _consistent(db_path)
    hit = tmp_path / "hit"
    env = {"BOSUN_FAILPOINTS": "board.after_write_before_commit", "BOSUN_FAILPOINTS_HIT": str(hit)}
    code, output = _finish(_child(db_path, "batch", env))
    assert code == -signal.SIGKILL, output
    assert hit.read_text() == "board.after_write_before_commit\n"

    assert _consistent(db_path) == seqs_before == list(range(1, len(seqs_before) + 1))
    store = await Store.open(db_path, boot_id="after-crash")
    try:
        assert [t.state for t in await store.list_tasks(1)] == [S.READY] * 8
        assert store.last_seq == len(seqs_before)
        moved = await store.transition(1, expected=S.READY, to=S.ACTIVE)
        assert moved.state is S.ACTIVE
        assert store.last_seq == len(seqs_before) + 1
    finally:
        await store.close()


@pytest.mark.timeout(60)
async def test_acknowledged_transitions_survive_sigkill(db_path: BoardLocation) -> None:
    assert _finish(_child(db_path, "setup"))[0] == 0
    proc = _child(db_path, "loop")
    acked: dict[int, S] = {}
    assert proc.stdout is not None
    for count, line in enumerate(proc.stdout):
        task_id, state = line.split()
        acked[int(task_id)] = S(state)
        if count >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    # Lines the child printed after we stopped reading are acknowledgements too, and
    # some already sit in proc.stdout's buffer: read through it (communicate() would
    # skip them). A last line cut by the kill is not an acknowledgement.
    rest = proc.stdout.read()
    proc.communicate(timeout=30)
    for line in rest.splitlines(keepends=True):
        if line.endswith("\n"):
            task_id, state = line.split()
            acked[int(task_id)] = S(state)

    seqs = _consistent(db_path)
    assert seqs == list(range(1, len(seqs) + 1))
    store = await Store.open(db_path, boot_id="after-kill")
    try:
        for task in await store.list_tasks(1):
            if task.id not in acked:
                continue
            # Durable means: at the acknowledged state, or a later one whose commit
            # landed before the kill but whose answer did not reach us.
            steps = (ORDER.index(task.state) - ORDER.index(acked[task.id])) % 3
            assert steps in (0, 1), (task.id, acked[task.id], task.state)
        event = await store.append_event("after.kill")
        assert event.seq == seqs[-1] + 1
    finally:
        await store.close()
