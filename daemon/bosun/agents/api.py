"""The seam between the engine and the agents.

The engine decides *what* runs and *when* (scheduling, Phoenix, humans, merges); the
agents decide *how* one attempt or one QA check is carried out (prompts, the tool loop,
verdicts). Planning is not special: the director and planners are tasks like any other,
run in their own worktrees, writing the design document with file tools and creating
tasks with `create_subtasks`; their work merges onto the run branch like everyone's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bosun_protocol.entities import AttemptOutcome, Run, Task, Verdict

from bosun.agents.suite_results import SuiteResults
from bosun.executors.place import Place
from bosun.tools.context import Approver, FrameworkHost


@dataclass
class AttemptRequest:
    """Everything one attempt of one task needs from the engine."""

    run: Run
    task: Task
    attempt: int
    worktree: Path
    branch: str
    # Phoenix: a bounded account of earlier attempts (what was tried, errors, QA
    # verdicts per criterion, reviewer comments, files touched). Empty on attempt 1.
    history: str = ""
    guidance: str | None = None  # a human's added instructions on retry
    approver: Approver | None = None  # `ask` policy → the engine's HITL
    host: FrameworkHost | None = None  # create_subtasks, insights, design log
    cancel: asyncio.Event = field(default_factory=asyncio.Event)  # set → stop now
    max_turns: int = 40
    time_limit_s: float = 1800.0


@dataclass
class AttemptReport:
    """How an attempt ended, and its after-action report."""

    outcome: AttemptOutcome  # FINISHED, ERROR, TIMEOUT, STALLED, INTERRUPTED, BUDGET_EXCEEDED
    summary: str = ""
    files_changed: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    error: str | None = None
    # Set when the agent called ask_human, or a failure needs a person (quota spent,
    # authentication): the engine puts the task in waiting_human with this reason.
    needs_human: str | None = None
    human_options: list[str] = field(default_factory=list)  # ask_human's suggested answers
    # What needs_human is when it is not the agent's question: "model_unusable",
    # "setup_failed" (bosun_protocol.engine.PromptKind values).
    human_kind: str | None = None
    turns: int = 0
    # The node running the attempt's tools was lost (outcome CRASHED): not the attempt's
    # fault, so the engine does not count it against the task's retries.
    worker_lost: bool = False


@dataclass
class CheckResult:
    """One deterministic check QA ran in the worktree."""

    command: str
    exit_code: int | None  # None: could not run / timed out
    output_tail: str = ""
    duration_s: float = 0.0
    results: SuiteResults | None = None  # per test, where the runner reports per test
    cannot_run: str | None = None  # why the tests could not run at all (not a failure)


@dataclass
class QARequest:
    """A finished attempt to judge."""

    run: Run
    task: Task
    attempt: int
    worktree: Path
    report: AttemptReport
    test_command: str | None = None  # from config; None → detect (pytest, npm test, …)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    approver: Approver | None = None  # `ask` policy of the strategist's MCP tools → HITL
    # The same command's results on the run's base commit (failures there are not the
    # task's), fetched only when the task's run fails; None: no comparison.
    baseline: Callable[[], Awaitable[CheckResult | None]] | None = None
    # Where the test command runs (bosun.executors); None: in `worktree`, here.
    place: Place | None = None


@dataclass
class QAReport:
    """QA's verdict: the checks it ran and a verdict per acceptance criterion."""

    passed: bool
    verdicts: list[Verdict] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    summary: str = ""
    error: str | None = None  # QA itself failed (model error…): the engine retries QA
    # The tests could not run at all (runner missing, exit 127…): a human is asked once,
    # QA is not retried and the attempt is not counted as failed.
    cannot_run: str | None = None


class AgentRunner(Protocol):
    """What the engine calls; `bosun.agents.runner.Agents` implements it."""

    async def run_attempt(self, request: AttemptRequest) -> AttemptReport:
        """Run the task's worker profile in its worktree until finish, failure or a limit."""
        ...

    async def run_qa(self, request: QARequest) -> QAReport:
        """Deterministic checks first, then a verdict per acceptance criterion."""
        ...

    async def run_baseline(
        self, run: Run, worktree: Path, test_command: str | None
    ) -> CheckResult | None:
        """The test command's results in a checkout of the run's base (None: not taken)."""
        ...
