"""A PostgreSQL server for the board benchmark: the test suite's own temporary cluster
(tests/servers/postgres.py: initdb + pg_ctl as an unprivileged user, reached through
its Unix socket, fsync and synchronous_commit on as shipped), or an existing one named
by --postgres-url."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator

import psycopg
from bosun.board.location import PostgresBoard

_names = itertools.count(1)


class BenchDatabase:
    """Where each measured board gets a schema of its own, dropped after it."""

    def __init__(self, url: str, password: str | None) -> None:
        self.url = url
        self.password = password

    @contextlib.contextmanager
    def board(self) -> Iterator[PostgresBoard]:
        """A fresh, empty board (schema) for one measurement."""
        schema = f"bench_{os.getpid()}_{next(_names)}"
        try:
            yield PostgresBoard(url=self.url, schema=schema, password=self.password)
        finally:
            with psycopg.connect(self.url, password=self.password, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextlib.contextmanager
def database(url: str | None) -> Iterator[BenchDatabase]:
    """The server at `url` (password from BOSUN_BOARD_PASSWORD), or a temporary one."""
    if url:
        yield BenchDatabase(url, os.environ.get("BOSUN_BOARD_PASSWORD"))
        return
    from tests.servers.postgres import PostgresServer

    server = PostgresServer()
    try:
        server.start()
        server.create_database("bosun")
        # Its Unix socket, as a database on the daemon's own machine would be reached.
        yield BenchDatabase(
            f"postgresql://bosun@/bosun?host={server.sockets}&port={server.port}", None
        )
    finally:
        server.remove()
