"""The board's SQLite schema as an ordered list of migrations, and applying them.

The schema version is `PRAGMA user_version` (0 for a new file). Migration n takes a
database from version n-1 to n. All pending migrations run in ONE transaction at open,
so a crash mid-migration leaves the previous version intact. A migration, once
released, never changes: tests/fixtures/board/v1.sqlite3 is frozen proof of that.
JSON columns hold pydantic `model_dump_json` output; timestamps are ISO 8601 UTC text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from bosun.board.errors import SchemaVersionError

# v1: the first released schema.
V1: Sequence[str] = (
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        objective TEXT NOT NULL,
        state TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        base_branch TEXT, base_commit TEXT, run_branch TEXT, head_commit TEXT,
        cost TEXT NOT NULL DEFAULT '{}',
        reason TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        profile TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT '',
        acceptance_criteria TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        max_retries INTEGER NOT NULL,
        lease TEXT,
        worktree TEXT, branch TEXT, base_commit TEXT, head_commit TEXT,
        verdicts TEXT NOT NULL DEFAULT '[]',
        cost TEXT NOT NULL DEFAULT '{}',
        reason TEXT,
        parent_id INTEGER REFERENCES tasks(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (run_id, key))""",
    """CREATE TABLE dependencies (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        depends_on_id INTEGER NOT NULL REFERENCES tasks(id),
        PRIMARY KEY (task_id, depends_on_id)) WITHOUT ROWID""",
    """CREATE TABLE attempts (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        number INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT, summary TEXT,
        files_changed TEXT NOT NULL DEFAULT '[]',
        verdicts TEXT NOT NULL DEFAULT '[]',
        cost TEXT NOT NULL DEFAULT '{}',
        started_at TEXT NOT NULL,
        ended_at TEXT,
        PRIMARY KEY (task_id, number))""",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        kind TEXT NOT NULL,
        run_id INTEGER, task_id INTEGER,
        data TEXT NOT NULL DEFAULT '{}')""",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        attempt INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        tool_calls TEXT NOT NULL DEFAULT '[]',
        tool_call_id TEXT, name TEXT,
        ts TEXT NOT NULL)""",
    """CREATE TABLE recorded_calls (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        task_id INTEGER, attempt INTEGER,
        role TEXT NOT NULL, key TEXT NOT NULL, turn INTEGER NOT NULL,
        request TEXT NOT NULL, response TEXT NOT NULL,
        ts TEXT NOT NULL)""",
    """CREATE TABLE journal (
        kind TEXT NOT NULL, key TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, key)) WITHOUT ROWID""",
    "CREATE INDEX tasks_by_run ON tasks(run_id)",
    "CREATE INDEX dependencies_by_target ON dependencies(depends_on_id)",
    "CREATE INDEX messages_by_attempt ON messages(task_id, attempt, id)",
)

# v2: v1's lease CAS ran json_extract(lease, '$.holder') on every transition, and
# events_since(run_id=…) scanned the whole event log. A plain lease_holder column
# (backfilled) and an index of events by run fix both.
V2: Sequence[str] = (
    "ALTER TABLE tasks ADD COLUMN lease_holder TEXT",
    "UPDATE tasks SET lease_holder = json_extract(lease, '$.holder') WHERE lease IS NOT NULL",
    "CREATE INDEX events_by_run ON events(run_id, seq)",
    "CREATE INDEX tasks_by_run_state ON tasks(run_id, state)",
)

# v3: the webhook outbox (bosun.observe.webhooks). A delivery is a row written before it
# is sent and settled after, so a daemon that dies between the two sends it on restart;
# the cursor is the last event seq the outbox has looked at, so events a crash kept
# from being looked at are looked at again.
V3: Sequence[str] = (
    """CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY,
        hook TEXT NOT NULL,
        event TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        source_seq INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT)""",
    "CREATE INDEX webhook_outbox_due ON webhook_outbox(state, next_at)",
    "CREATE TABLE webhook_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID",
)

Migration = Callable[[sqlite3.Connection], None]


def _statements(sql: Sequence[str]) -> Migration:
    def apply(conn: sqlite3.Connection) -> None:
        # One statement at a time: executescript() would COMMIT our transaction.
        for statement in sql:
            conn.execute(statement)

    return apply


MIGRATIONS: Sequence[Migration] = (_statements(V1), _statements(V2), _statements(V3))
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's schema version (0 when empty)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to `target` in one transaction; returns the old version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{path} has board schema version {current}, but this bosun knows only "
                f"up to {SCHEMA_VERSION}: upgrade bosun (or move the file aside to start "
                "a fresh board)",
                data={"path": str(path), "version": current, "supported": SCHEMA_VERSION},
            )
        for version in range(current + 1, target + 1):
            MIGRATIONS[version - 1](conn)
        if target > current:
            # PRAGMA takes no bound parameters; target is an int we computed.
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return current
