"""Params and results of every `bosun/*` request, and notification payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from bosun_protocol.base import WireModel
from bosun_protocol.entities import Attempt, Event, Message, Profile, Run, RunOptions, Task


class Empty(WireModel):
    """No params / no result fields."""


# --- status -----------------------------------------------------------------


class StorageStatus(WireModel):
    """Whether the daemon can write its board; `paused` stops every run until it can."""

    state: Literal["ok", "paused"] = "ok"
    reason: str | None = Field(
        default=None, description="Why writes fail (disk full, read-only…) and what to do."
    )
    since: datetime | None = None


class StorageChanged(StorageStatus):
    """`bosun/storageChanged`: the daemon's storage state changed (the new state)."""


class StatusResult(WireModel):
    """What `bosun/status` reports about the daemon."""

    version: str
    protocol_version: str
    pid: int
    workspace: str
    socket: str
    started_at: datetime
    uptime_s: float
    clients: int
    runs: int
    active_runs: int
    last_seq: int
    boot_id: str
    sandbox: str = "unknown"
    listeners: list[str] = Field(default_factory=list)
    storage: StorageStatus = Field(default_factory=StorageStatus)


# --- runs -------------------------------------------------------------------


class CreateRunParams(WireModel):
    """Start a run: an objective and its options."""

    objective: str = Field(min_length=1, max_length=100_000)
    options: RunOptions = Field(default_factory=RunOptions)


class RunResult(WireModel):
    """One run."""

    run: Run


class ListRunsParams(WireModel):
    """Runs, newest first, paged."""

    limit: int = Field(default=50, ge=1, le=1000)
    before_id: int | None = None


class ListRunsResult(WireModel):
    """A page of runs."""

    runs: list[Run]


class RunIdParams(WireModel):
    """Names one run."""

    run_id: int


class GetRunResult(WireModel):
    """A run and all its tasks."""

    run: Run
    tasks: list[Task]


# --- tasks ------------------------------------------------------------------


class TaskIdParams(WireModel):
    """Names one task."""

    task_id: int


class GetTaskResult(WireModel):
    """A task and its attempts."""

    task: Task
    attempts: list[Attempt]


class UpdateTaskParams(WireModel):
    """Edit a task: dependencies, description, acceptance criteria (all optional)."""

    task_id: int
    add_dependencies: list[int] = Field(default_factory=list)
    remove_dependencies: list[int] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=100_000)
    acceptance_criteria: list[str] | None = None
    title: str | None = Field(default=None, min_length=1, max_length=500)
    profile: Profile | None = Field(
        default=None,
        description="Only while the task has not started (planned or ready, no attempt "
        "yet); refused with INVALID_STATE after.",
    )


class TaskResult(WireModel):
    """One task."""

    task: Task


class TranscriptParams(WireModel):
    """A page of an attempt's transcript."""

    task_id: int
    attempt: int | None = None
    after_id: int = 0
    limit: int = Field(default=200, ge=1, le=5000)


class TranscriptResult(WireModel):
    """Transcript entries in order; `more` says another page exists."""

    messages: list[Message]
    more: bool


# --- events -----------------------------------------------------------------


class EventsSinceParams(WireModel):
    """Events with `seq` greater than `after`, at most `limit`."""

    after: int = Field(default=0, ge=0)
    limit: int = Field(default=500, ge=1, le=10_000)
    run_id: int | None = None


class EventsSinceResult(WireModel):
    """A page of events; `more` says another page exists; `last_seq` is the daemon's."""

    events: list[Event]
    more: bool
    last_seq: int


# --- notifications ----------------------------------------------------------


class RunChanged(WireModel):
    """A run changed; carries the run and the seq of the event that changed it."""

    seq: int
    run: Run


class TaskChanged(WireModel):
    """A task changed; carries the task and the seq of the event that changed it."""

    seq: int
    task: Task


class EventNotification(WireModel):
    """An event was appended."""

    event: Event


class ShutdownParams(WireModel):
    """Ask the daemon to stop; active work is interrupted and recorded."""

    reason: str = "requested by client"


class ShutdownResult(WireModel):
    """The daemon acknowledged and will exit."""

    stopping: Literal[True] = True
