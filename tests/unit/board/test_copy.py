"""`bosun board export/import`: a whole board copied SQLite → PostgreSQL → SQLite reads
back the same through every read of the Store, and goes on where it left off."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bosun.board import (
    AttemptOutcome,
    Cost,
    InvalidBoardInputError,
    Lease,
    NewMessage,
    Store,
    TaskSpec,
    TaskState,
    Verdict,
)
from bosun.board.copy import COLUMNS, copy_board
from bosun.board.location import BoardLocation, PostgresBoard
from bosun.board.outbox import OutboxItem
from bosun.cli import main

from tests.servers.postgres import PostgresServer

from .conftest import postgres_board

S = TaskState


async def _fill(store: Store) -> None:
    """One of everything the board keeps, with the awkward values in it."""
    run = await store.create_run("copy me ☃ 'quoted'")
    await store.update_run(run.id, event="run.started", run_branch="bosun/run-1", state="running")
    tasks = await store.create_tasks(
        run.id,
        [
            TaskSpec(key="a", title="first", acceptance_criteria=["it works"]),
            TaskSpec(key="b", title="second", depends_on=["a"]),
        ],
    )
    a, b = tasks
    await store.create_tasks(run.id, [TaskSpec(key="c", title="child", parent_id=a.id)])
    await store.transition(a.id, expected=S.PLANNED, to=S.READY)
    lease = Lease(boot_id="boot", holder="worker-1", acquired_at=datetime(2026, 1, 2, tzinfo=UTC))
    await store.transition(a.id, expected=S.READY, to=S.ACTIVE, lease=lease, attempt=1)
    await store.start_attempt(a.id, 1)
    await store.append_messages(
        a.id,
        1,
        [
            NewMessage(role="assistant", content="hello", tool_calls=[{"id": "1", "x": [1, 2.5]}]),
            NewMessage(role="tool", content="out\nput", tool_call_id="1", name="shell"),
        ],
    )
    await store.add_cost(run.id, a.id, 1, Cost(input_tokens=10, output_tokens=5, usd=0.25, calls=1))
    await store.record_call(run.id, a.id, 1, "coder", "a", 1, {"messages": []}, {"content": "ok"})
    await store.finish_attempt(
        a.id, 1, AttemptOutcome.QA_FAILED, error="nope", files_changed=["x.py"],
        verdicts=[Verdict(criterion="it works", passed=False, evidence="500")],
    )  # fmt: skip
    await store.journal_put("merge", "task-1", {"old": "a1", "new": "b2"})
    await store.outbox_enqueue(
        [OutboxItem(hook="h", event="run.started", key="k1", payload={"a": 1}, source_seq=2)],
        cursor=5,
        now=1.5,
    )
    [row] = await store.outbox_rows()
    await store.outbox_settle(row.id, state="delivered", attempts=1, next_at=2.0, error=None)
    await store.append_event("custom.kind", run_id=run.id, task_id=b.id, data={"n": None})


async def _everything(store: Store) -> dict[str, Any]:
    """The board as every read of the Store sees it."""
    runs = await store.list_runs(1000)
    tasks = [t for r in runs for t in await store.list_tasks(r.id)]
    events, more = await store.events_since(0, 10_000)
    assert not more
    return {
        "runs": runs,
        "tasks": tasks,
        "attempts": [await store.list_attempts(t.id) for t in tasks],
        "transcripts": [(await store.transcript(t.id, limit=5000))[0] for t in tasks],
        "calls": [await store.recorded_calls(r.id) for r in runs],
        "journal": await store.journal_list("merge"),
        "outbox": await store.outbox_rows(),
        "events": events,
        "last_seq": store.last_seq,
    }


async def _read(where: BoardLocation) -> dict[str, Any]:
    store = await Store.open(where, boot_id="read")
    try:
        return await _everything(store)
    finally:
        await store.close()


async def test_sqlite_to_postgres_and_back_loses_nothing_and_continues(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    original = tmp_path / "original.sqlite3"
    store = await Store.open(original, boot_id="fill")
    await _fill(store)
    await store.close()
    expected = await _read(original)

    pg = postgres_board(postgres_server)
    report = await copy_board(original, pg)
    assert report.rows["events"] == len(expected["events"]) and report.rows["messages"] == 2
    assert await _read(pg) == expected

    back = tmp_path / "back.sqlite3"
    await copy_board(pg, back)
    assert await _read(back) == expected

    # Ids and seqs go on after the copied ones, in both directions.
    for where in (pg, back):
        store = await Store.open(where, boot_id="after")
        try:
            run = await store.create_run("next")
            assert run.id == expected["runs"][0].id + 1
            assert store.last_seq == expected["last_seq"] + 1
            (task,) = await store.create_tasks(run.id, [TaskSpec(key="n", title="n")])
            assert task.id == max(t.id for t in expected["tasks"]) + 1
        finally:
            await store.close()


async def test_copy_into_a_board_that_has_rows_is_refused_and_leaves_it_alone(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    source = tmp_path / "source.sqlite3"
    store = await Store.open(source, boot_id="s")
    await store.create_run("from the source")
    await store.close()
    pg = postgres_board(postgres_server)
    store = await Store.open(pg, boot_id="t")
    await store.create_run("already here")
    await store.close()
    with pytest.raises(InvalidBoardInputError, match="already holds a board"):
        await copy_board(source, pg)
    assert [r.objective for r in (await _read(pg))["runs"]] == ["already here"]
    with pytest.raises(InvalidBoardInputError, match="both the source and the target"):
        await copy_board(source, source)


async def test_every_table_and_column_of_both_schemas_is_copied(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    path = tmp_path / "b.sqlite3"
    pg = postgres_board(postgres_server)
    for where in (path, pg):
        await (await Store.open(where, boot_id="cols")).close()
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    lite = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    conn.close()
    with psycopg.connect(pg.url, password=pg.password) as db:
        rows = db.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name <> 'board_schema'",
            (pg.schema,),
        ).fetchall()
    postgres: dict[str, set[str]] = {}
    for table, column in rows:
        postgres.setdefault(table, set()).add(column)
    listed = {t: set(c) for t, c in COLUMNS.items()}
    assert lite == listed == postgres


def test_board_export_and_import_commands_move_a_workspace_to_postgres_and_back(
    git_repo: Path,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BOSUN_BOARD_PASSWORD", postgres_server.password)
    state = git_repo / ".bosun"
    state.mkdir()

    async def fill() -> None:
        store = await Store.open(state / "board.sqlite3", boot_id="fill")
        await _fill(store)
        await store.close()

    asyncio.run(fill())
    expected = asyncio.run(_read(state / "board.sqlite3"))
    url = postgres_server.url()
    args = ["-C", str(git_repo), "board", "export", "--to", url, "--schema", "moved"]
    assert main(args) == 0
    assert "copied" in capsys.readouterr().out
    pg = PostgresBoard(url=url, schema="moved", password=postgres_server.password)
    assert asyncio.run(_read(pg)) == expected

    # The workspace now keeps its board in PostgreSQL; bring a copy back into a new file.
    (state / "config.toml").write_text(f'[board]\nurl = "{url}"\nschema_name = "moved"\n')
    assert main(["-C", str(git_repo), "board", "export", "--to", str(git_repo / "b.sqlite3")]) == 0
    assert asyncio.run(_read(git_repo / "b.sqlite3")) == expected
    # Importing into the (now full) PostgreSQL board is refused, with the reason.
    assert (
        main(["-C", str(git_repo), "board", "import", "--from", str(git_repo / "b.sqlite3")]) == 1
    )
    assert "already holds a board" in capsys.readouterr().err
