"""The blackboard: runs, tasks, attempts, events and transcripts, in one SQLite file
(the default) or one schema of a PostgreSQL database (board/postgres/).

Durability: WAL, synchronous=FULL, BEGIN IMMEDIATE on SQLite, a durable COMMIT on
PostgreSQL; one writer with group commit (writer.py). Every write appends its event(s) in the same transaction; after COMMIT,
listeners get (event, run, task) in seq order — `run` when the write changed the run,
`task` when it changed the task — before the writing caller's await returns.
Reads use their own connection and never wait for the writer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bosun_protocol.entities import (
    Attempt,
    AttemptOutcome,
    Cost,
    Event,
    Lease,
    Message,
    Run,
    RunOptions,
    RunState,
    Task,
    TaskState,
    Verdict,
)

from bosun.board import queries, record_writes, run_writes, task_edits, task_writes
from bosun.board.dialect import Backend, Conn
from bosun.board.errors import BoardStorageError, InvalidBoardInputError
from bosun.board.fields import (
    TASK_FIELDS,
    TRANSITION_FIELDS,
    json_data,
    plain_json,
    run_columns,
    task_columns,
)
from bosun.board.location import BoardLocation, PostgresBoard
from bosun.board.models import UNSET, NewMessage, TaskSpec, Unset
from bosun.board.outbox import OutboxMixin
from bosun.board.sqlite_backend import open_sqlite
from bosun.board.store_records import RecordsMixin
from bosun.board.transitions import check_transition
from bosun.board.writer import Notice, Writer

log = logging.getLogger(__name__)

T = TypeVar("T")
Listener = Callable[[Event, Run | None, Task | None], None]


class Store(RecordsMixin, OutboxMixin):
    """The board's API; every write is durable when it returns."""

    def __init__(self, backend: Backend, boot_id: str, *, group_commit: bool) -> None:
        self.backend = backend
        self.where = backend.where
        self.boot_id = boot_id
        self.migrated_from = backend.migrated_from
        self._last_seq = backend.last_seq
        self._listeners: list[Listener] = []
        self._closed = False
        self._writer = Writer(
            backend.write,
            backend.where,
            backend.dialect,
            self._announce,
            group_commit=group_commit,
            last_seq=backend.last_seq,
        )
        self._writer.start()

    @classmethod
    async def open(
        cls, location: BoardLocation, *, boot_id: str, group_commit: bool = True
    ) -> Store:
        """Open (creating and migrating as needed) the board at `location`: a SQLite
        file's path, or a PostgreSQL database and schema."""
        backend: Backend
        if isinstance(location, PostgresBoard):
            from bosun.board.postgres.backend import open_postgres  # psycopg: only if used

            backend = await open_postgres(location, boot_id=boot_id)
        else:
            backend = await open_sqlite(Path(location))
        if backend.migrated_from:
            log.info(
                "board %s migrated from schema version %d", backend.where, backend.migrated_from
            )
        return cls(backend, boot_id, group_commit=group_commit)

    @property
    def dialect(self) -> str:
        """Which database holds the board: "sqlite" or "postgresql"."""
        return self.backend.dialect.name

    async def close(self) -> None:
        """Finish queued writes and close both connections (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        await self._writer.close()
        await self.backend.close()

    # -- notifications -------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event, run, task)` after each commit; returns unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def last_seq(self) -> int:
        """The seq of the newest committed event (0 when there is none)."""
        return self._last_seq

    @property
    def transactions(self) -> int:
        """How many write transactions committed since open (group commit batches)."""
        return self._writer.transactions

    def _announce(self, notices: list[Notice]) -> None:
        for notice in notices:
            self._last_seq = notice.event.seq
            for listener in tuple(self._listeners):
                try:
                    listener(notice.event, notice.run, notice.task)
                except Exception:
                    log.exception(
                        "board listener %r failed on event %d", listener, notice.event.seq
                    )

    async def _read(self, fn: Callable[[Conn], T]) -> T:
        if self._closed:
            raise BoardStorageError(f"the board {self.where} is closed")
        dialect = self.backend.dialect
        try:
            return await self.backend.read(fn)
        except dialect.errors as exc:
            raise dialect.storage_error(exc, self.where) from exc

    # -- runs ------------------------------------------------------------------------

    async def create_run(self, objective: str, options: RunOptions | None = None) -> Run:
        """Record a new run (pending)."""
        opts = options or RunOptions()
        return await self._writer.submit(
            partial(run_writes.create_run, objective=objective, options=opts)
        )

    async def get_run(self, run_id: int) -> Run:
        """The run, or NotFoundError."""
        return await self._read(partial(run_writes.load_run, run_id=run_id))

    async def list_runs(self, limit: int = 50, before_id: int | None = None) -> list[Run]:
        """Newest runs first, `limit` at most, older than `before_id` when given."""
        limit = max(1, min(limit, 1000))
        return await self._read(partial(queries.list_runs, limit=limit, before_id=before_id))

    async def count_runs(self, active: Collection[RunState]) -> tuple[int, int]:
        """(all runs, runs in one of the `active` states), without reading the rows."""
        states = [s.value for s in active]
        return await self._read(partial(queries.count_runs, states=states))

    async def state_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(runs by state, tasks by state), for metrics."""
        return await self._read(queries.state_counts)

    async def update_run(
        self,
        run_id: int,
        *,
        event: str,
        expected_state: RunState | None = None,
        data: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Run:
        """Change run fields, recording `event` (CAS on state when expected_state given)."""
        columns = run_columns(fields)
        op = partial(
            run_writes.update_run,
            run_id=run_id,
            event=event,
            expected=expected_state,
            data=json_data(data, "data"),
            columns=columns,
        )
        return await self._writer.submit(op)

    # -- tasks -----------------------------------------------------------------------

    async def create_tasks(self, run_id: int, specs: Sequence[TaskSpec]) -> list[Task]:
        """Create tasks (planned) with their dependencies, all or none."""
        specs = [TaskSpec.model_validate(s) for s in specs]
        return await self._writer.submit(
            partial(task_writes.create_tasks, run_id=run_id, specs=specs)
        )

    async def get_task(self, task_id: int) -> Task:
        """The task, or NotFoundError."""
        return await self._read(partial(task_writes.load_task, task_id=task_id))

    async def get_task_by_key(self, run_id: int, key: str) -> Task:
        """The task with `key` in the run, or NotFoundError."""
        return await self._read(partial(queries.get_task_by_key, run_id=run_id, key=key))

    async def list_tasks(
        self, run_id: int, states: Collection[TaskState] | None = None
    ) -> list[Task]:
        """The run's tasks in creation order, only those in `states` when given."""
        return await self._read(
            queries.snapshot(partial(queries.list_tasks, run_id=run_id, states=states))
        )

    async def transition(
        self,
        task_id: int,
        *,
        expected: TaskState,
        to: TaskState,
        holder: str | None = None,
        lease: Lease | Unset | None = UNSET,
        event_data: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Task:
        """Move a task expected → to, compare-and-swap on (id, state, lease holder)."""
        check_transition(expected, to)
        # Everything is checked and encoded here, on the caller's side: the writer only
        # runs SQL (it holds the write lock for the whole batch).
        columns = task_columns(fields, TRANSITION_FIELDS, "transition") if fields else {}
        op = partial(
            task_writes.transition,
            task_id=task_id,
            expected=expected,
            to=to,
            holder=holder,
            lease=lease,
            event_data=plain_json(event_data, "event_data"),
            columns=columns,
        )
        return await self._writer.submit_deferred(op)

    async def update_task(
        self, task_id: int, *, event: str, data: Mapping[str, Any] | None = None, **fields: Any
    ) -> Task:
        """Change non-state fields of a task, recording `event`."""
        if "state" in fields:
            raise InvalidBoardInputError("update_task cannot change state: use transition()")
        columns = task_columns(fields, TASK_FIELDS, "update_task")
        op = partial(
            task_writes.update_task,
            task_id=task_id,
            event=event,
            data=json_data(data, "data"),
            columns=columns,
        )
        return await self._writer.submit(op)

    async def add_dependency(self, task_id: int, depends_on_id: int) -> Task:
        """Make a task wait for another of its run; a cycle raises DependencyCycleError."""
        return await self._writer.submit(
            partial(task_writes.add_dependency, task_id=task_id, depends_on_id=depends_on_id)
        )

    async def remove_dependency(self, task_id: int, depends_on_id: int) -> Task:
        """Remove a dependency (NotFoundError when there is none)."""
        return await self._writer.submit(
            partial(task_writes.remove_dependency, task_id=task_id, depends_on_id=depends_on_id)
        )

    async def edit_task(
        self,
        task_id: int,
        *,
        add_dependencies: Sequence[int] = (),
        remove_dependencies: Sequence[int] = (),
        **fields: Any,
    ) -> Task:
        """A client's edit (dependencies and title/description/criteria/profile) as one
        write; the profile only before the task starts."""
        allowed = {"title", "description", "acceptance_criteria", "profile"}
        columns = task_columns(fields, allowed, "edit")
        op = partial(
            task_edits.edit_task,
            task_id=task_id,
            add=list(add_dependencies),
            remove=list(remove_dependencies),
            columns=columns,
        )
        return await self._writer.submit(op)

    # -- attempts and cost -------------------------------------------------------------

    async def start_attempt(self, task_id: int, number: int) -> Attempt:
        """Open attempt `number` (ConflictError when it exists)."""
        return await self._writer.submit(
            partial(run_writes.start_attempt, task_id=task_id, number=number)
        )

    async def finish_attempt(
        self,
        task_id: int,
        number: int,
        outcome: AttemptOutcome,
        error: str | None = None,
        summary: str | None = None,
        files_changed: Sequence[str] = (),
        verdicts: Sequence[Verdict] = (),
    ) -> Attempt:
        """Close a running attempt with its outcome (ConflictError when already closed)."""
        op = partial(
            run_writes.finish_attempt,
            task_id=task_id,
            number=number,
            outcome=AttemptOutcome(outcome),
            error=error,
            summary=summary,
            files_changed=list(files_changed),
            verdicts=[Verdict.model_validate(v) for v in verdicts],
        )
        return await self._writer.submit(op)

    async def get_attempt(self, task_id: int, number: int) -> Attempt:
        """One attempt of a task (NotFoundError when it has none of that number)."""
        return await self._read(partial(run_writes.load_attempt, task_id=task_id, number=number))

    async def list_attempts(self, task_id: int) -> list[Attempt]:
        """A task's attempts, first to last."""
        return await self._read(partial(queries.list_attempts, task_id=task_id))

    async def add_cost(
        self, run_id: int, task_id: int | None, attempt: int | None, cost: Cost
    ) -> None:
        """Add to the attempt's, task's and run's totals atomically (see run_writes)."""
        op = partial(
            run_writes.add_cost, run_id=run_id, task_id=task_id, attempt=attempt, cost=cost
        )
        await self._writer.submit(op)

    # -- events, transcripts, recordings, journal -----------------------------------------

    async def append_event(
        self,
        kind: str,
        *,
        run_id: int | None = None,
        task_id: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Event:
        """Record an event of the caller's own (e.g. a tool call, a prompt answered)."""
        op = partial(
            record_writes.append_event,
            kind=kind,
            run_id=run_id,
            task_id=task_id,
            data=json_data(data, "data"),
        )
        return await self._writer.submit(op)

    async def events_since(
        self, after: int, limit: int = 500, run_id: int | None = None
    ) -> tuple[list[Event], bool]:
        """Events with seq > after (of one run when given), paged; `more` if cut."""
        limit = max(1, min(limit, 10_000))
        return await self._read(
            partial(queries.events_since, after=after, limit=limit, run_id=run_id)
        )

    async def append_messages(
        self, task_id: int, attempt: int, messages: Sequence[NewMessage]
    ) -> list[Message]:
        """Append transcript entries (secrets redacted); returns them with ids."""
        checked = [NewMessage.model_validate(m) for m in messages]
        op = partial(
            record_writes.append_messages, task_id=task_id, attempt=attempt, messages=checked
        )
        return await self._writer.submit(op)

    async def transcript(
        self, task_id: int, attempt: int | None = None, after_id: int = 0, limit: int = 200
    ) -> tuple[list[Message], bool]:
        """A page of transcript after message `after_id`; `more` if cut."""
        limit = max(1, min(limit, 5_000))
        op = partial(
            queries.transcript, task_id=task_id, attempt=attempt, after_id=after_id, limit=limit
        )
        return await self._read(op)
