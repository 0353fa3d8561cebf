"""The base's test results: taken once per base tree and command, reused by later runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bosun.agents.api import CheckResult, QAReport, QARequest
from bosun.agents.suite_results import Failure, SuiteResults
from bosun.board.store import Store
from bosun.engine.baselines import BASE_EVENT, BASELINES
from bosun.engine.ports import NullGitPlane
from bosun.tools.context import SubtaskSpec
from bosun_protocol.entities import Profile, Run, RunState

from .scripted import EngineFactory, ScriptedRunner, plan

BASE = "b" * 40


class _BasedPlane(NullGitPlane):
    """The null plane with a base commit and a tree for it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.checkouts = 0

    async def start_run(self, run_id: int) -> Run:
        await super().start_run(run_id)
        return await self.store.update_run(run_id, event="run.base", base_commit=BASE)

    async def tree_of(self, commit: str) -> str | None:
        return "t" * 40 if commit == BASE else None

    @asynccontextmanager
    async def base_checkout(self, commit: str) -> AsyncIterator[Path]:
        self.checkouts += 1
        yield Path("/nonexistent-base")


class _RedBase(ScriptedRunner):
    """The base fails one test; QA hands each task the base's results it was given."""

    def __init__(self) -> None:
        x = SubtaskSpec(key="x", title="task x", profile=Profile.CODER)
        super().__init__(steps={"director": [plan(x)]})
        self.base_runs = 0
        self.seen: list[CheckResult | None] = []

    async def run_baseline(
        self, run: Run, worktree: Path, test_command: str | None
    ) -> CheckResult | None:
        self.base_runs += 1
        results = SuiteResults("junit", [Failure("t::old", "assert 1 == 2")], passed=4)
        return CheckResult(test_command or "pytest", 1, "exit code: 1", results=results)

    async def run_qa(self, request: QARequest) -> QAReport:
        if request.task.key == "x" and request.baseline is not None:
            self.seen.append(await request.baseline())
        return await super().run_qa(request)


async def test_the_base_is_tested_once_per_tree_and_reused_by_the_next_run(
    harness: EngineFactory, store: Store
) -> None:
    runner = _RedBase()
    plane = _BasedPlane(store)
    h = await harness(runner, git=plane, test_command="pytest -q")
    for _ in range(2):
        run = await h.run()
        await h.wait_run(run.id, {RunState.COMPLETED})

    assert runner.base_runs == 1 and plane.checkouts == 1
    assert len(await store.journal_list(BASELINES)) == 1
    events, _ = await store.events_since(0, 10_000)
    assert [e.data["failing"] for e in events if e.kind == BASE_EVENT] == [1]
    assert [c.results.names if c and c.results else None for c in runner.seen] == [
        {"t::old"},
        {"t::old"},
    ]
