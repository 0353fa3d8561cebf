"""Runs, tasks, attempts, events and transcript messages as they cross the wire.

The board stores exactly these shapes; there is one definition, here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from bosun_protocol.base import WireModel


class TaskState(StrEnum):
    """Where a task is in its life (DESIGN.md, "The blackboard")."""

    PLANNED = "planned"
    READY = "ready"
    ACTIVE = "active"
    AWAITING_QA = "awaiting_qa"
    AWAITING_REVIEW = "awaiting_review"
    COMPLETE = "complete"
    FAILED = "failed"
    WAITING_HUMAN = "waiting_human"
    ABANDONED = "abandoned"


class RunState(StrEnum):
    """Where a run is in its life."""

    PENDING = "pending"
    PLANNING = "planning"
    RUNNING = "running"
    PAUSED = "paused"
    LANDING = "landing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Profile(StrEnum):
    """Worker profiles; each has its own prompt, tool set and model role."""

    DIRECTOR = "director"
    PLANNER = "planner"
    CODER = "coder"
    TESTER = "tester"
    TEST_ARCHITECT = "test_architect"
    RESEARCHER = "researcher"
    WRITER = "writer"
    MERGER = "merger"
    STRATEGIST = "strategist"


class AttemptOutcome(StrEnum):
    """How an attempt ended; `running` while it goes on."""

    RUNNING = "running"
    FINISHED = "finished"
    QA_PASSED = "qa_passed"
    QA_FAILED = "qa_failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    STALLED = "stalled"
    CRASHED = "crashed"
    INTERRUPTED = "interrupted"
    CHANGES_REQUESTED = "changes_requested"
    BUDGET_EXCEEDED = "budget_exceeded"


class Cost(WireModel):
    """Token and money counters; `usd` is None when a model's price is unknown.

    `estimated_tokens`: the part of input and output counted from characters because
    the provider reported no usage (budgets bind on it all the same). Input includes
    `cached_tokens` (read from the provider's prompt cache, billed at a fraction) and
    `cache_write_tokens` (written to it, billed at a premium by some providers). Output
    includes `reasoning_tokens` (a reasoning model's thinking, billed as output).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    usd: float | None = 0.0
    calls: int = 0
    estimated_tokens: int = 0


class Lease(WireModel):
    """Who holds an active task: the daemon's boot id and the worker slot."""

    boot_id: str
    holder: str
    acquired_at: datetime


class Verdict(WireModel):
    """QA's judgement of one acceptance criterion, with its evidence."""

    criterion: str
    passed: bool
    evidence: str = ""


class RunOptions(WireModel):
    """Per-run settings chosen at creation; unset fields fall back to config."""

    model: str | None = None
    workers: int | None = Field(default=None, ge=1, le=256)
    review_gate: bool | None = None
    max_retries: int | None = Field(default=None, ge=0, le=100)
    budget_tokens: int | None = Field(default=None, ge=0)
    budget_usd: float | None = Field(default=None, ge=0)
    base_branch: str | None = None
    base_commit: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{7,64}$",
        description="Start the run branch at this commit instead of the base branch's "
        "head (a replay starts where the recorded run started).",
    )
    models: dict[str, str] = Field(default_factory=dict)


class Run(WireModel):
    """One objective being worked on in the workspace."""

    id: int
    objective: str
    state: RunState
    options: RunOptions = Field(default_factory=RunOptions)
    base_branch: str | None = None
    base_commit: str | None = None
    run_branch: str | None = None
    head_commit: str | None = None
    cost: Cost = Field(default_factory=Cost)
    reason: str | None = None
    created_at: datetime
    updated_at: datetime


class Task(WireModel):
    """One unit of work on the blackboard."""

    id: int
    run_id: int
    key: str
    title: str
    description: str = ""
    profile: Profile = Profile.CODER
    phase: str = ""
    dependencies: list[int] = Field(default_factory=list)
    acceptance_criteria: list[str] = Field(default_factory=list)
    state: TaskState = TaskState.PLANNED
    attempt: int = 0
    max_retries: int = 4
    lease: Lease | None = None
    worktree: str | None = None
    branch: str | None = None
    base_commit: str | None = None
    head_commit: str | None = None
    verdicts: list[Verdict] = Field(default_factory=list)
    cost: Cost = Field(default_factory=Cost)
    reason: str | None = None
    parent_id: int | None = None
    created_at: datetime
    updated_at: datetime


class Attempt(WireModel):
    """One try at a task; Phoenix makes attempt n+1 from what n learned."""

    task_id: int
    number: int
    outcome: AttemptOutcome = AttemptOutcome.RUNNING
    error: str | None = None
    summary: str | None = None
    files_changed: list[str] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    cost: Cost = Field(default_factory=Cost)
    started_at: datetime
    ended_at: datetime | None = None


class Event(WireModel):
    """An append-only record; `seq` is strictly increasing across the workspace."""

    seq: int
    ts: datetime
    kind: str
    run_id: int | None = None
    task_id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Message(WireModel):
    """One transcript entry of an attempt (stored apart from tasks, read in pages)."""

    id: int
    task_id: int
    attempt: int
    role: str
    content: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    ts: datetime
