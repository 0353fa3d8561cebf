"""The board's SQLite statements as PostgreSQL runs them.

The ops are written once, in the SQLite dialect (board/dialect.py); the few places
where PostgreSQL differs are rewritten here, each by a named rule, and every rewritten
text is cached (the same few hundred statements recur):

- `?` parameters become `%s` (psycopg's), and a literal `%` becomes `%%`;
- the entity SELECTs of codec.py build their JSON with `json_build_object` instead of
  `json_object`; JSON columns are `json` already, so `json(col)` is just `col`, and a
  task's dependencies are `json_agg`ed in order (`[]` when there are none);
- an INSERT into a table with an `id` gets `RETURNING id` (a cursor's `lastrowid`);
- `INSERT OR IGNORE` is `ON CONFLICT DO NOTHING`; SQLite's two-argument `max` is
  `greatest`;
- an event's seq is the workspace's last seq + 1, taken in the writing transaction:
  a sequence would leave gaps behind every rolled-back write, and clients resync on
  "every seq after N" (only the one writer, under the advisory lock, inserts events);
- the writer's `BEGIN IMMEDIATE` is a plain BEGIN (PostgreSQL locks rows as it
  writes), and the reader's snapshot `BEGIN` is REPEATABLE READ so that a read of
  several statements sees one state, as WAL gives SQLite's reader.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bosun.board import codec

# Tables whose rows get an id from an identity column (events' seq is computed instead).
ID_TABLES = frozenset({"runs", "tasks", "messages", "recorded_calls", "webhook_outbox"})

_DEPENDENCIES_SQLITE = """(SELECT json_group_array(d.depends_on_id) FROM
        (SELECT depends_on_id FROM dependencies WHERE task_id = t.id
         ORDER BY depends_on_id) AS d)"""
_DEPENDENCIES_PG = """(SELECT coalesce(json_agg(d.depends_on_id ORDER BY d.depends_on_id),
        '[]'::json) FROM dependencies AS d WHERE d.task_id = t.id)"""


def entity_select(sqlite_sql: str) -> str:
    """One of codec's SELECT_* texts in PostgreSQL's JSON functions."""
    text = sqlite_sql.replace(_DEPENDENCIES_SQLITE, _DEPENDENCIES_PG)
    text = text.replace("json_object(", "json_build_object(")
    return re.sub(r"\bjson\((\w+\.\w+)\)", r"\1", text)


_SELECTS = tuple(
    (sql, entity_select(sql))
    for sql in (
        codec.SELECT_RUN,
        codec.SELECT_TASK,
        codec.SELECT_ATTEMPT,
        codec.SELECT_EVENT,
        codec.SELECT_MESSAGE,
        codec.SELECT_CALL,
        codec.TASK_JSON,  # after SELECT_TASK, which holds it: transition_sql's result
    )
)

# Whole statements that differ (after parameter rewriting, which they skip).
_STATEMENTS = {
    "BEGIN IMMEDIATE": "BEGIN",
    "BEGIN": "BEGIN ISOLATION LEVEL REPEATABLE READ",
    "INSERT INTO events (ts, kind, run_id, task_id, data) VALUES (?, ?, ?, ?, ?)": (
        "INSERT INTO events (seq, ts, kind, run_id, task_id, data) VALUES "
        "((SELECT coalesce(max(seq), 0) + 1 FROM events), %s, %s, %s, %s, %s) RETURNING seq"
    ),
}

# Pieces of statements that differ.
_PIECES = (
    ("SET seq = max(seq, excluded.seq)", "SET seq = greatest(webhook_cursor.seq, excluded.seq)"),
)

_INSERT = re.compile(r"INSERT INTO (\w+)")


@lru_cache(maxsize=256)
def transition_sql(columns: tuple[str, ...], with_holder: bool, with_reason: bool) -> str:
    """A task transition in one statement (one round trip instead of three).

    The compare-and-swap UPDATE, its `task.transition` event (data: the caller's JSON
    with from/to, merged with the task's new attempt and, when set, reason) and the
    task's JSON with the event's seq. Parameters: the columns' values, task id,
    expected state, [holder], the event's ts and its data's JSON. No row: the swap lost.
    """
    sets = ", ".join(f"{c} = ?" for c in columns)
    holder = " AND lease_holder = ?" if with_holder else ""
    reason = (
        " || CASE WHEN t.reason IS NULL THEN '{}'::jsonb "
        "ELSE jsonb_build_object('reason', t.reason) END"
        if with_reason
        else ""
    )
    return (
        f"WITH t AS (UPDATE tasks SET {sets} WHERE id = ? AND state = ?{holder} RETURNING *), "
        "e AS (INSERT INTO events (seq, ts, kind, run_id, task_id, data) "
        "SELECT (SELECT coalesce(max(seq), 0) + 1 FROM events), ?, 'task.transition', "
        "t.run_id, t.id, (CAST(? AS jsonb) || jsonb_build_object('attempt', t.attempt)"
        f"{reason})::json FROM t RETURNING seq) "
        f"SELECT {codec.TASK_JSON}, (SELECT seq FROM e) FROM t"
    )


@lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, bool]:
    """(PostgreSQL text, whether it returns the new row's id) for a SQLite statement."""
    whole = _STATEMENTS.get(sql)
    if whole is not None:
        return whole, whole.endswith("RETURNING seq")
    text = sql
    for sqlite_sql, pg_sql in _SELECTS:
        if sqlite_sql in text:
            text = text.replace(sqlite_sql, pg_sql)
    for old, new in _PIECES:
        text = text.replace(old, new)
    if text.startswith("INSERT OR IGNORE INTO "):
        text = (
            "INSERT INTO " + text.removeprefix("INSERT OR IGNORE INTO ") + " ON CONFLICT DO NOTHING"
        )
    insert = _INSERT.match(text)
    returning = insert is not None and insert.group(1) in ID_TABLES and "RETURNING" not in text
    if returning:
        text += " RETURNING id"
    text = text.replace("%", "%%").replace("?", "%s")
    return text, returning
