"""Write ops on what is kept beside the task rows: events, transcripts, recorded
model calls and the journal (intents such as a merge about to be published).

Transcript text and recorded calls pass through `bosun.secrets.redact` here, so no
caller can store a known secret by forgetting to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bosun_protocol.entities import Event, Message

from bosun.board.codec import SELECT_MESSAGE, dump, many
from bosun.board.models import NewMessage
from bosun.board.task_writes import load_task, require_run
from bosun.board.writer import WriteTx
from bosun.secrets import redact


def append_event(
    tx: WriteTx, kind: str, run_id: int | None, task_id: int | None, data: dict[str, Any]
) -> Event:
    """Record an event that is not tied to a change of a row."""
    return tx.emit(kind, run_id=run_id, task_id=task_id, data=data)


def _clean(value: Any) -> Any:
    # Redact the JSON text, then parse it back: secrets may sit in any nested string.
    return json.loads(redact(dump(value)))


def append_messages(
    tx: WriteTx, task_id: int, attempt: int, messages: Sequence[NewMessage]
) -> list[Message]:
    """Append transcript entries of an attempt."""
    task = load_task(tx.conn, task_id)
    stamp = tx.stamp
    first = None
    for msg in messages:
        cur = tx.conn.execute(
            "INSERT INTO messages (task_id, attempt, role, content, tool_calls, tool_call_id, "
            "name, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                task_id,
                attempt,
                msg.role,
                redact(msg.content),
                dump(_clean(msg.tool_calls)),
                msg.tool_call_id,
                msg.name,
                stamp,
            ),
        )
        first = cur.lastrowid if first is None else first
    if first is None:
        return []
    sql = SELECT_MESSAGE + " WHERE m.id >= ? AND m.task_id = ? ORDER BY m.id"
    stored = many(tx.conn, Message, sql, (first, task_id))
    data = {"attempt": attempt, "count": len(stored), "lastId": stored[-1].id}
    tx.emit("transcript.appended", run_id=task.run_id, task_id=task_id, data=data)
    return stored


def record_call(
    tx: WriteTx,
    run_id: int,
    task_id: int | None,
    attempt: int | None,
    role: str,
    key: str,
    turn: int,
    request: dict[str, Any],
    response: dict[str, Any],
) -> None:
    """Keep one model request/answer for replay."""
    require_run(tx.conn, run_id)
    tx.conn.execute(
        "INSERT INTO recorded_calls (run_id, task_id, attempt, role, key, turn, request, "
        "response, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            task_id,
            attempt,
            role,
            key,
            turn,
            dump(_clean(request)),
            dump(_clean(response)),
            tx.stamp,
        ),
    )
    data = {"role": role, "key": key, "turn": turn, "attempt": attempt}
    tx.emit("model.call_recorded", run_id=run_id, task_id=task_id, data=data)


def journal_put(tx: WriteTx, kind: str, key: str, data: dict[str, Any]) -> None:
    """Insert or replace one journal entry."""
    tx.conn.execute(
        "INSERT INTO journal (kind, key, data, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data, "
        "updated_at = excluded.updated_at",
        (kind, key, dump(data), tx.stamp),
    )
    tx.emit("journal.put", data={"kind": kind, "key": key})


def journal_delete(tx: WriteTx, kind: str, key: str) -> None:
    """Remove one journal entry (absent is fine: deleting is idempotent)."""
    cur = tx.conn.execute("DELETE FROM journal WHERE kind = ? AND key = ?", (kind, key))
    if cur.rowcount:
        tx.emit("journal.deleted", data={"kind": kind, "key": key})
