"""A scripted AgentRunner and an engine harness on a real board (git optional)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bosun.agents.api import AttemptReport, AttemptRequest, CheckResult, QAReport, QARequest
from bosun.board.store import Store
from bosun.engine.core import Engine
from bosun.engine.ports import GitPlane, NullGitPlane
from bosun.engine.settings import EngineSettings
from bosun.tools.context import SubtaskSpec, ToolContext
from bosun_protocol.entities import AttemptOutcome, Run, RunOptions, RunState, Task, TaskState

Step = Callable[[AttemptRequest], Awaitable[AttemptReport]]
T = TypeVar("T")


def finish(summary: str = "done") -> Step:
    """An attempt that finishes."""

    async def step(req: AttemptRequest) -> AttemptReport:
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary=summary)

    return step


def fail(error: str = "it broke") -> Step:
    """An attempt that ends in error."""

    async def step(req: AttemptRequest) -> AttemptReport:
        return AttemptReport(outcome=AttemptOutcome.ERROR, error=error)

    return step


def ask(question: str) -> Step:
    """An attempt that calls ask_human."""

    async def step(req: AttemptRequest) -> AttemptReport:
        return AttemptReport(outcome=AttemptOutcome.INTERRUPTED, needs_human=question)

    return step


def hang() -> Step:
    """An attempt that runs until told to stop."""

    async def step(req: AttemptRequest) -> AttemptReport:
        await req.cancel.wait()
        return AttemptReport(outcome=AttemptOutcome.INTERRUPTED, error="stopped")

    return step


def plan(*subtasks: SubtaskSpec, then: str = "planned") -> Step:
    """A director/planner attempt that creates subtasks, then finishes."""

    async def step(req: AttemptRequest) -> AttemptReport:
        assert req.host is not None
        ctx = ToolContext(
            run_id=req.run.id,
            task_id=req.task.id,
            attempt=req.attempt,
            worktree_path=req.worktree,
            branch=req.branch,
            profile=req.task.profile,
        )
        await req.host.create_subtasks(ctx, list(subtasks))
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary=then)

    return step


@dataclass
class ScriptedRunner:
    """Runs each task key's scripted steps in order (the last one repeats)."""

    steps: dict[str, list[Step]] = field(default_factory=dict)
    qa_fail: dict[str, int] = field(default_factory=dict)  # key → attempts failing QA
    qa_cannot_run: dict[str, int] = field(default_factory=dict)  # key → QA runs that cannot
    requests: dict[str, list[AttemptRequest]] = field(default_factory=lambda: defaultdict(list))
    qa_requests: list[QARequest] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    order: list[str] = field(default_factory=list)
    moved: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_running(self, n: int) -> None:
        """Until at least n attempts are inside the runner."""
        while self.running < n:
            self.moved.clear()
            await self.moved.wait()

    async def run_attempt(self, request: AttemptRequest) -> AttemptReport:
        key = request.task.key
        self.requests[key].append(request)
        script = self.steps.get(key) or [finish()]
        step = script[min(len(self.requests[key]), len(script)) - 1]
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.moved.set()
        try:
            return await step(request)
        finally:
            self.running -= 1
            self.order.append(key)

    async def run_qa(self, request: QARequest) -> QAReport:
        from bosun_protocol.entities import Verdict

        self.qa_requests.append(request)
        if self.qa_cannot_run.get(request.task.key, 0):
            self.qa_cannot_run[request.task.key] -= 1
            return QAReport(passed=False, cannot_run="No module named pytest")
        left = self.qa_fail.get(request.task.key, 0)
        if left:
            self.qa_fail[request.task.key] = left - 1
            verdict = Verdict(criterion="tests pass", passed=False, evidence="1 failed")
            return QAReport(passed=False, verdicts=[verdict], summary="tests failed")
        return QAReport(passed=True, verdicts=[Verdict(criterion="tests pass", passed=True)])

    async def run_baseline(
        self, run: Run, worktree: Path, test_command: str | None
    ) -> CheckResult | None:
        return None


@dataclass
class Harness:
    """An engine over a real board with a scripted runner."""

    store: Store
    engine: Engine
    runner: ScriptedRunner

    async def run(self, objective: str = "do it", **options: Any) -> Run:
        run = await self.store.create_run(objective, RunOptions(**options))
        return await self.engine.start_run(run.id)

    async def wait_task(
        self, run_id: int, key: str, states: set[TaskState], timeout: float = 10
    ) -> Task:
        return await wait_for(self.store, lambda: self._task_in(run_id, key, states), timeout)

    async def _task_in(self, run_id: int, key: str, states: set[TaskState]) -> Task | None:
        try:
            task = await self.store.get_task_by_key(run_id, key)
        except Exception:
            return None
        return task if task.state in states else None

    async def wait_run(self, run_id: int, states: set[RunState], timeout: float = 10) -> Run:
        async def check() -> Run | None:
            run = await self.store.get_run(run_id)
            return run if run.state in states else None

        return await wait_for(self.store, check, timeout)


async def wait_for(store: Store, check: Callable[[], Awaitable[T | None]], timeout: float) -> T:
    """Re-check after every board commit until `check` returns something (or time out)."""
    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda *_: changed.set())
    try:
        async with asyncio.timeout(timeout):
            while True:
                changed.clear()
                found = await check()
                if found is not None:
                    return found
                await changed.wait()
    finally:
        unsubscribe()


class EngineFactory:
    """Starts engines on one board, each with a scripted runner; remembers them so the
    fixture can stop every one it handed out."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engines: list[Engine] = []

    async def __call__(
        self, runner: ScriptedRunner | None = None, git: GitPlane | None = None, **settings: Any
    ) -> Harness:
        runner = runner or ScriptedRunner()
        values: dict[str, Any] = {"cancel_grace_s": 2.0, **settings}
        engine = Engine(
            self.store,
            git or NullGitPlane(self.store),
            runner,
            EngineSettings(**values),
            "boot-test",
        )
        self.engines.append(engine)
        await engine.start()
        return Harness(self.store, engine, runner)

    async def stop_all(self) -> None:
        for engine in self.engines:
            await engine.stop()
