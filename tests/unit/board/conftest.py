"""Fixtures for board tests: a real store on a real SQLite file in tmp_path, and the
same store in a real PostgreSQL server (tests/servers/postgres.py): every test that
takes `db_path` (or `store`) runs on both."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from bosun.board import Run, Store, TaskSpec
from bosun.board.location import BoardLocation, PostgresBoard

from tests.servers.postgres import PostgresServer

_schemas = itertools.count(1)


def postgres_board(server: PostgresServer, name: str = "") -> PostgresBoard:
    """A board of its own (a new schema) in the test server's database."""
    schema = name or f"test_{next(_schemas)}_{id(server) % 10_000}"
    return PostgresBoard(url=server.url(), schema=schema, password=server.password)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> BoardLocation:
    """Where the test's board lives: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return tmp_path / "state" / "board.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return postgres_board(server)


@pytest.fixture
async def store(db_path: BoardLocation) -> AsyncIterator[Store]:
    """An open store, closed after the test."""
    opened = await Store.open(db_path, boot_id="boot-test")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def run(store: Store) -> Run:
    """A run with no tasks."""
    return await store.create_run("build the thing")


Specs = Callable[..., list[TaskSpec]]


def _specs(*keys: str, deps: dict[str, list[str]] | None = None) -> list[TaskSpec]:
    deps = deps or {}
    return [TaskSpec(key=k, title=f"do {k}", depends_on=deps.get(k, [])) for k in keys]


@pytest.fixture
def specs() -> Specs:
    """specs("a", "b", deps={"b": ["a"]}): TaskSpecs titled after their keys."""
    return _specs
