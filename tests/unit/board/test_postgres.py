"""What only the PostgreSQL board has: one database for several workspaces, the
workspace's advisory lock, its schema versions, the server's refusals in plain words.
(Everything the two boards share runs on both: the rest of tests/unit/board.)"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bosun.board import (
    BoardStorageError,
    BoardUnwritableError,
    NewMessage,
    SchemaVersionError,
    Store,
    TaskSpec,
    TaskState,
)
from bosun.board.errors import BoardLockedError
from bosun.board.location import (
    BoardSettings,
    PostgresBoard,
    board_location,
    default_schema,
    redact_url,
)
from bosun.board.postgres.backend import PgBackend, board_refusal
from bosun.board.postgres.schema import SCHEMA_VERSION
from bosun.board.postgres.sql import translate
from pydantic import ValidationError

from tests.servers.postgres import PostgresServer

from .conftest import postgres_board

S = TaskState


async def test_a_second_daemon_on_the_same_workspace_is_refused_naming_the_first(
    postgres_server: PostgresServer,
) -> None:
    board = postgres_board(postgres_server)
    first = await Store.open(board, boot_id="first-boot")
    try:
        with pytest.raises(BoardLockedError) as refused:
            await Store.open(board, boot_id="second-boot")
        assert "in use by another bosun daemon" in refused.value.message
        assert "first-boot" in refused.value.message  # the holder's application_name
        assert board.schema in refused.value.message
        await first.create_run("still mine")  # the refusal took nothing from the holder
    finally:
        await first.close()
    second = await Store.open(board, boot_id="second-boot")  # released by close
    try:
        assert [r.objective for r in await second.list_runs()] == ["still mine"]
    finally:
        await second.close()


async def test_workspaces_in_one_database_keep_their_own_rows_and_sequences(
    postgres_server: PostgresServer,
) -> None:
    one = await Store.open(postgres_board(postgres_server), boot_id="one")
    two = await Store.open(postgres_board(postgres_server), boot_id="two")
    try:
        a = await one.create_run("in one")
        await one.create_tasks(a.id, [TaskSpec(key="k", title="t")])
        b = await two.create_run("in two")
        assert (a.id, b.id) == (1, 1)
        assert (one.last_seq, two.last_seq) == (2, 1)
        assert [r.objective for r in await two.list_runs()] == ["in two"]
        events, _ = await two.events_since(0)
        assert [e.seq for e in events] == [1]
    finally:
        await one.close()
        await two.close()


async def test_a_schema_newer_than_the_code_is_refused_untouched(
    postgres_server: PostgresServer,
) -> None:
    board = postgres_board(postgres_server)
    store = await Store.open(board, boot_id="b")
    await store.create_run("keep me")
    await store.close()
    with psycopg.connect(board.url, password=board.password, autocommit=True) as conn:
        conn.execute(
            f'UPDATE "{board.schema}".board_schema SET version = %s', (SCHEMA_VERSION + 1,)
        )
    with pytest.raises(SchemaVersionError, match=f"version {SCHEMA_VERSION + 1}.*upgrade bosun"):
        await Store.open(board, boot_id="b")
    with psycopg.connect(board.url, password=board.password) as conn:
        rows = conn.execute(f'SELECT objective FROM "{board.schema}".runs').fetchall()
    assert rows == [("keep me",)]


async def test_a_wrong_password_is_a_clear_refusal_that_does_not_show_it(
    postgres_server: PostgresServer,
) -> None:
    board = PostgresBoard(
        url=postgres_server.url(), schema="wrong_password", password="not-the-password"
    )
    with pytest.raises(BoardStorageError) as refused:
        await Store.open(board, boot_id="b")
    assert not isinstance(refused.value, BoardUnwritableError)  # waiting will not fix it
    assert "refused the login" in refused.value.message
    assert "board.password_env" in refused.value.message
    assert "not-the-password" not in refused.value.message


async def test_an_unreachable_server_is_named_with_the_password_hidden() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    board = PostgresBoard(url=f"postgresql://u:s3cret@127.0.0.1:{port}/db", schema="nowhere")
    with pytest.raises(BoardUnwritableError) as refused:
        await Store.open(board, boot_id="b")
    assert "cannot be reached" in refused.value.message
    assert f"127.0.0.1:{port}" in refused.value.message
    assert "s3cret" not in refused.value.message


async def test_nul_in_text_reads_back_as_a_replacement_character_and_loses_the_rest_not(
    postgres_server: PostgresServer,
) -> None:
    store = await Store.open(postgres_board(postgres_server), boot_id="b")
    try:
        run = await store.create_run("nul")
        (task,) = await store.create_tasks(run.id, [TaskSpec(key="k", title="t")])
        await store.append_messages(task.id, 1, [NewMessage(role="tool", content="a\x00b")])
        messages, _ = await store.transcript(task.id)
        assert [m.content for m in messages] == ["a\ufffdb"]
    finally:
        await store.close()


def test_doctor_names_what_keeps_the_board_from_working_without_taking_it(
    postgres_server: PostgresServer,
) -> None:
    good = postgres_board(postgres_server)
    assert board_refusal(good) is None
    wrong = PostgresBoard(url=good.url, schema=good.schema, password="wrong")
    assert "refused the login" in (board_refusal(wrong) or "")


def test_settings_pick_postgres_and_take_the_password_from_the_environment(
    tmp_path: Path,
) -> None:
    sqlite_path = tmp_path / ".bosun" / "board.sqlite3"
    assert board_location(BoardSettings(), tmp_path, sqlite_path) == sqlite_path
    settings = BoardSettings(url="postgresql://bosun@db.internal:5432/boards")
    found = board_location(settings, tmp_path, sqlite_path, env={"BOSUN_BOARD_PASSWORD": "pw"})
    assert found == PostgresBoard(
        url="postgresql://bosun@db.internal:5432/boards",
        schema=default_schema(tmp_path),
        password="pw",
    )
    assert default_schema(tmp_path).startswith("bosun_")
    assert default_schema(tmp_path / "a") != default_schema(tmp_path / "b" / "a")
    named = BoardSettings(url="postgresql://h/db", schema_name="team_boards", password_env="")
    assert board_location(named, tmp_path, sqlite_path, env={}) == PostgresBoard(
        url="postgresql://h/db", schema="team_boards", password=None
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("url", "mysql://h/db"), ("schema_name", "Robert'); DROP"), ("schema_name", "9lives")],
)
def test_settings_refuse_other_databases_and_unsafe_schema_names(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        BoardSettings.model_validate({field: value})


def test_a_password_in_the_url_never_reaches_a_message() -> None:
    assert redact_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact_url("postgresql://h/db") == "postgresql://h/db"
    assert "pw" not in PostgresBoard(url="postgresql://u:pw@h/db", schema="s").where


def test_statements_are_translated_by_their_rules() -> None:
    assert translate("SELECT 1 FROM runs WHERE id = ? AND x LIKE '%'") == (
        "SELECT 1 FROM runs WHERE id = %s AND x LIKE '%%'",
        False,
    )
    text, returning = translate("INSERT INTO runs (objective) VALUES (?)")
    assert (text, returning) == ("INSERT INTO runs (objective) VALUES (%s) RETURNING id", True)
    text, returning = translate("INSERT OR IGNORE INTO webhook_cursor (name, seq) VALUES (?, ?)")
    assert text.endswith("ON CONFLICT DO NOTHING") and not returning
    text, returning = translate(
        "INSERT INTO events (ts, kind, run_id, task_id, data) VALUES (?, ?, ?, ?, ?)"
    )
    assert "max(seq)" in text and returning  # gapless, never from a sequence


async def test_a_statement_failing_in_the_pipeline_fails_its_write_alone(
    postgres_server: PostgresServer,
) -> None:
    store = await Store.open(postgres_board(postgres_server), boot_id="b")
    try:
        run = await store.create_run("pipeline")
        tasks = await store.create_tasks(
            run.id, [TaskSpec(key=f"t{i}", title="t") for i in range(3)]
        )
        before = store.last_seq
        # attempt is an `integer` column: 2**40 is refused by the server, inside the
        # batch's pipeline, after the first transition's statement was already sent.
        results = await asyncio.gather(
            store.transition(tasks[0].id, expected=S.PLANNED, to=S.READY),
            store.transition(tasks[1].id, expected=S.PLANNED, to=S.READY, attempt=2**40),
            store.transition(tasks[2].id, expected=S.PLANNED, to=S.READY),
            return_exceptions=True,
        )
        assert isinstance(results[1], BoardStorageError), results
        assert "out of range" in results[1].message
        assert [r.state for r in (results[0], results[2]) if not isinstance(r, BaseException)] == [
            S.READY,
            S.READY,
        ]
        events, _ = await store.events_since(before)
        assert [e.seq for e in events] == [before + 1, before + 2]  # gapless
        assert (await store.get_task(tasks[1].id)).state is S.PLANNED
    finally:
        await store.close()


async def test_a_commit_whose_answer_was_lost_is_announced_before_the_next_write(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(postgres_board(postgres_server), boot_id="b")
    heard: list[tuple[int, str]] = []
    store.subscribe(lambda event, _run, _task: heard.append((event.seq, event.kind)))
    try:
        await store.append_event("first")
        backend = store.backend
        assert isinstance(backend, PgBackend)
        conn = backend.writer
        real = conn.execute
        lost: list[str] = []

        def answer_lost(sql: str, parameters: Any = (), /) -> Any:
            cur = real(sql, parameters)
            if sql == "COMMIT" and not lost:  # it landed; the answer did not come back
                lost.append(sql)
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            return cur

        monkeypatch.setattr(conn, "execute", answer_lost)
        with pytest.raises(BoardUnwritableError):
            await store.append_event("landed")
        nxt = await store.append_event("next")
        assert nxt.seq == 3
        assert heard == [(1, "first"), (2, "landed"), (3, "next")]  # in seq order, none lost
        assert store.last_seq == 3
    finally:
        await store.close()
