"""Between SQLite rows and the pydantic entities.

Each entity is read with one SELECT that has SQLite build the entity's JSON
(`json_object`), which pydantic then parses in one pass: one statement gives one
consistent snapshot (a task and its dependencies together), and it is the fastest way
from a row to a validated model. Writes serialise with `model_dump_json`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pydantic_core
from pydantic import BaseModel

from bosun.board.dialect import Conn

M = TypeVar("M", bound=BaseModel)

RUN_JSON = """json_object(
    'id', r.id, 'objective', r.objective, 'state', r.state, 'options', json(r.options),
    'base_branch', r.base_branch, 'base_commit', r.base_commit, 'run_branch', r.run_branch,
    'head_commit', r.head_commit, 'cost', json(r.cost), 'reason', r.reason,
    'created_at', r.created_at, 'updated_at', r.updated_at)"""


def task_json(alias: str) -> str:
    """The json_object() of a task row named `alias`."""
    return f"""json_object(
    'id', {alias}.id, 'run_id', {alias}.run_id, 'key', {alias}.key, 'title', {alias}.title,
    'description', {alias}.description, 'profile', {alias}.profile, 'phase', {alias}.phase,
    'dependencies', (SELECT json_group_array(d.depends_on_id) FROM
        (SELECT depends_on_id FROM dependencies WHERE task_id = {alias}.id
         ORDER BY depends_on_id) AS d),
    'acceptance_criteria', json({alias}.acceptance_criteria), 'state', {alias}.state,
    'attempt', {alias}.attempt, 'max_retries', {alias}.max_retries, 'lease', json({alias}.lease),
    'worktree', {alias}.worktree, 'branch', {alias}.branch, 'base_commit', {alias}.base_commit,
    'head_commit', {alias}.head_commit, 'verdicts', json({alias}.verdicts), 'cost', json({alias}.cost),
    'reason', {alias}.reason, 'parent_id', {alias}.parent_id,
    'created_at', {alias}.created_at, 'updated_at', {alias}.updated_at)"""


TASK_JSON = task_json("t")

ATTEMPT_JSON = """json_object(
    'task_id', a.task_id, 'number', a.number, 'outcome', a.outcome, 'error', a.error,
    'summary', a.summary, 'files_changed', json(a.files_changed),
    'verdicts', json(a.verdicts), 'cost', json(a.cost),
    'started_at', a.started_at, 'ended_at', a.ended_at)"""

EVENT_JSON = """json_object(
    'seq', e.seq, 'ts', e.ts, 'kind', e.kind, 'run_id', e.run_id, 'task_id', e.task_id,
    'data', json(e.data))"""

MESSAGE_JSON = """json_object(
    'id', m.id, 'task_id', m.task_id, 'attempt', m.attempt, 'role', m.role,
    'content', m.content, 'tool_calls', json(m.tool_calls),
    'tool_call_id', m.tool_call_id, 'name', m.name, 'ts', m.ts)"""

CALL_JSON = """json_object(
    'id', c.id, 'run_id', c.run_id, 'task_id', c.task_id, 'attempt', c.attempt,
    'role', c.role, 'key', c.key, 'turn', c.turn, 'request', json(c.request),
    'response', json(c.response), 'ts', c.ts)"""

SELECT_RUN = f"SELECT {RUN_JSON} FROM runs AS r"
SELECT_TASK = f"SELECT {TASK_JSON} FROM tasks AS t"
SELECT_ATTEMPT = f"SELECT {ATTEMPT_JSON} FROM attempts AS a"
SELECT_EVENT = f"SELECT {EVENT_JSON} FROM events AS e"
SELECT_MESSAGE = f"SELECT {MESSAGE_JSON} FROM messages AS m"
SELECT_CALL = f"SELECT {CALL_JSON} FROM recorded_calls AS c"


def now() -> datetime:
    """The current time, timezone-aware UTC (the only clock the board reads)."""
    return datetime.now(UTC)


def ts(moment: datetime) -> str:
    """A timestamp as stored: ISO 8601 in UTC (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def dump(value: BaseModel | Sequence[BaseModel] | Sequence[str] | dict[str, Any]) -> str:
    """JSON text for a JSON column (pydantic models in snake_case, never aliases)."""
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return pydantic_core.to_json(value).decode()


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as it will read back from its JSON column (enums and datetimes as text)."""
    loaded: dict[str, Any] = json.loads(pydantic_core.to_json(data))
    return loaded


def one(conn: Conn, model: type[M], sql: str, params: Sequence[Any]) -> M | None:
    """The first entity the SELECT finds, or None."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else model.model_validate_json(row[0])


def many(conn: Conn, model: type[M], sql: str, params: Sequence[Any]) -> list[M]:
    """Every entity the SELECT finds, in its order."""
    return [model.model_validate_json(row[0]) for row in conn.execute(sql, params)]
