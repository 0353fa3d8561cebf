"""Write ops on runs, attempts and cost counters.

Cost rule: tokens and calls add up. Money adds up only while every part is known: a
call whose price is unknown (`usd=None`) makes every total it joins unknown (None),
for good. A total that silently left out unknown calls would be a number that looks
exact and is wrong; None says "we cannot tell", and budget checks treat it so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bosun_protocol.entities import (
    Attempt,
    AttemptOutcome,
    Cost,
    Run,
    RunOptions,
    RunState,
    Verdict,
)

from bosun.board.codec import SELECT_ATTEMPT, SELECT_RUN, dump, one
from bosun.board.dialect import Conn
from bosun.board.fields import assignments
from bosun.board.task_writes import load_task, require_run
from bosun.board.writer import WriteTx
from bosun.errors import ConflictError, NotFoundError


def load_run(conn: Conn, run_id: int) -> Run:
    """The run, or NotFoundError."""
    run = one(conn, Run, SELECT_RUN + " WHERE r.id = ?", (run_id,))
    if run is None:
        raise NotFoundError(f"run #{run_id} does not exist", data={"runId": run_id})
    return run


def load_attempt(conn: Conn, task_id: int, number: int) -> Attempt:
    """The attempt, or NotFoundError."""
    sql = SELECT_ATTEMPT + " WHERE a.task_id = ? AND a.number = ?"
    attempt = one(conn, Attempt, sql, (task_id, number))
    if attempt is None:
        raise NotFoundError(
            f"task #{task_id} has no attempt {number}", data={"taskId": task_id, "attempt": number}
        )
    return attempt


def add_costs(total: Cost, more: Cost) -> Cost:
    """`total + more` under the rule in this module's docstring."""
    usd = None if total.usd is None or more.usd is None else total.usd + more.usd
    return Cost(
        input_tokens=total.input_tokens + more.input_tokens,
        output_tokens=total.output_tokens + more.output_tokens,
        cached_tokens=total.cached_tokens + more.cached_tokens,
        cache_write_tokens=total.cache_write_tokens + more.cache_write_tokens,
        reasoning_tokens=total.reasoning_tokens + more.reasoning_tokens,
        usd=usd,
        calls=total.calls + more.calls,
        estimated_tokens=total.estimated_tokens + more.estimated_tokens,
    )


def create_run(tx: WriteTx, objective: str, options: RunOptions) -> Run:
    """Record a new run, pending."""
    stamp = tx.stamp
    cur = tx.conn.execute(
        "INSERT INTO runs (objective, state, options, cost, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (objective, RunState.PENDING.value, dump(options), dump(Cost()), stamp, stamp),
    )
    assert cur.lastrowid is not None
    run = load_run(tx.conn, cur.lastrowid)
    tx.emit("run.created", run_id=run.id, data={"state": run.state}, run=run)
    return run


def update_run(
    tx: WriteTx,
    run_id: int,
    event: str,
    expected: RunState | None,
    data: dict[str, Any],
    columns: dict[str, Any],
) -> Run:
    """Change a run's fields (compare-and-swap on its state when `expected` is given)."""
    text, params = assignments({**columns, "updated_at": tx.stamp})
    where = "id = ?"
    keys: list[Any] = [run_id]
    if expected is not None:
        where += " AND state = ?"
        keys.append(expected.value)
    cur = tx.conn.execute(f"UPDATE runs SET {text} WHERE {where}", [*params, *keys])
    if cur.rowcount != 1:
        actual = load_run(tx.conn, run_id).state
        assert expected is not None
        raise ConflictError(
            f"run #{run_id} is {actual.value}, not {expected.value}: it changed first",
            data={"runId": run_id, "expected": expected.value, "actual": actual.value},
        )
    run = load_run(tx.conn, run_id)
    body = {**data, "fields": sorted(columns), "state": run.state}
    tx.emit(event, run_id=run_id, data=body, run=run)
    return run


def start_attempt(tx: WriteTx, task_id: int, number: int) -> Attempt:
    """Open attempt `number` of a task (running)."""
    task = load_task(tx.conn, task_id)
    # Looked up rather than caught as a constraint violation: on PostgreSQL a failed
    # statement spoils the whole transaction, and with it the batch's other writes.
    taken = tx.conn.execute(
        "SELECT 1 FROM attempts WHERE task_id = ? AND number = ?", (task_id, number)
    ).fetchone()
    if taken is not None:
        raise ConflictError(
            f"task #{task_id} already has an attempt {number}",
            data={"taskId": task_id, "attempt": number},
        )
    tx.conn.execute(
        "INSERT INTO attempts (task_id, number, outcome, cost, started_at) VALUES (?, ?, ?, ?, ?)",
        (task_id, number, AttemptOutcome.RUNNING.value, dump(Cost()), tx.stamp),
    )
    attempt = load_attempt(tx.conn, task_id, number)
    tx.emit("attempt.started", run_id=task.run_id, task_id=task_id, data={"attempt": number})
    return attempt


def finish_attempt(
    tx: WriteTx,
    task_id: int,
    number: int,
    outcome: AttemptOutcome,
    error: str | None,
    summary: str | None,
    files_changed: Sequence[str],
    verdicts: Sequence[Verdict],
) -> Attempt:
    """Close a running attempt with its outcome."""
    if outcome is AttemptOutcome.RUNNING:
        raise ConflictError("an attempt cannot finish as 'running'")
    task = load_task(tx.conn, task_id)
    cur = tx.conn.execute(
        "UPDATE attempts SET outcome = ?, error = ?, summary = ?, files_changed = ?, "
        "verdicts = ?, ended_at = ? WHERE task_id = ? AND number = ? AND outcome = ?",
        (
            outcome.value,
            error,
            summary,
            dump(list(files_changed)),
            dump(list(verdicts)),
            tx.stamp,
            task_id,
            number,
            AttemptOutcome.RUNNING.value,
        ),
    )
    if cur.rowcount != 1:
        found = load_attempt(tx.conn, task_id, number)
        raise ConflictError(
            f"attempt {number} of task #{task_id} already ended ({found.outcome.value})",
            data={"taskId": task_id, "attempt": number, "outcome": found.outcome.value},
        )
    attempt = load_attempt(tx.conn, task_id, number)
    data = {"attempt": number, "outcome": outcome, "error": error}
    tx.emit("attempt.finished", run_id=task.run_id, task_id=task_id, data=data)
    return attempt


def add_cost(
    tx: WriteTx, run_id: int, task_id: int | None, attempt: int | None, cost: Cost
) -> None:
    """Add `cost` to the attempt's, the task's and the run's totals in one go."""
    conn = tx.conn
    require_run(conn, run_id)
    task = None
    if task_id is not None:
        task = load_task(conn, task_id)
        if task.run_id != run_id:
            raise NotFoundError(f"task #{task_id} is not a task of run #{run_id}")
        if attempt is not None:
            row = load_attempt(conn, task_id, attempt)
            conn.execute(
                "UPDATE attempts SET cost = ? WHERE task_id = ? AND number = ?",
                (dump(add_costs(row.cost, cost)), task_id, attempt),
            )
        conn.execute(
            "UPDATE tasks SET cost = ? WHERE id = ?", (dump(add_costs(task.cost, cost)), task_id)
        )
        task = load_task(conn, task_id)
    run = load_run(conn, run_id)
    conn.execute("UPDATE runs SET cost = ? WHERE id = ?", (dump(add_costs(run.cost, cost)), run_id))
    run = load_run(conn, run_id)
    data = {"attempt": attempt, "cost": cost.model_dump(), "runCost": run.cost.model_dump()}
    tx.emit("cost.added", run_id=run_id, task_id=task_id, data=data, run=run, task=task)
