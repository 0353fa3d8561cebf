"""A harness for agent tests: a real board, a real git worktree, real tools, a scripted model."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bosun.agents.api import AttemptRequest, QARequest
from bosun.agents.runner import Agents
from bosun.agents.settings import AgentSettings
from bosun.agents.transcript import TranscriptChunk
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.config import Settings
from bosun.git.pinned import Pins, register, unregister
from bosun.llm.gateway import ModelGateway
from bosun.llm.settings import LlmSettings
from bosun.tools import Policy, ToolExecutor, build_registry
from bosun.tools.settings import ToolSettings
from bosun_protocol.entities import Profile, Run, RunOptions, Task

# Plugin autoload off: this venv holds many plugins and loading them costs seconds.
PYTEST = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its output."""
    out = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip()


@dataclass
class Harness:
    """One run on a real board over a real repository, with agents on a scripted model."""

    store: Store
    repo: Path
    scenario: Path
    run: Run
    chunks: list[tuple[int, int, TranscriptChunk]] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)

    def agents(
        self, llm: LlmSettings | None = None, agents: AgentSettings | None = None, **kwargs: Any
    ) -> Agents:
        """Agents over this harness's board and scenario (or the model `llm` names)."""
        self.settings = Settings(
            llm=llm or LlmSettings(default_model=f"scripted:{self.scenario}"),
            tools=ToolSettings(command_timeout_s=30),
            agents=agents or AgentSettings(),
        )
        gateway = ModelGateway(self.settings.llm, recorder=self.store)
        executor = ToolExecutor(
            build_registry(self.settings.tools), Policy.from_settings(self.settings.tools)
        )
        return Agents(
            gateway,
            executor,
            self.store,
            self.settings,
            on_delta=lambda t, a, c: self.chunks.append((t, a, c)),
            **kwargs,
        )

    async def task(
        self,
        key: str = "t1",
        *,
        profile: Profile = Profile.CODER,
        criteria: list[str] | None = None,
        description: str = "",
        depends_on: list[str] | None = None,
    ) -> Task:
        """A task of the run, with its own worktree on its own branch."""
        spec = TaskSpec(
            key=key,
            title=f"task {key}",
            description=description,
            profile=profile,
            acceptance_criteria=criteria or [],
            depends_on=depends_on or [],
        )
        (task,) = await self.store.create_tasks(self.run.id, [spec])
        path = self.repo.parent / f"wt-{key}"
        git(self.repo, "worktree", "add", "-q", "-b", f"bosun/task-{task.id}", str(path))
        base = git(path, "rev-parse", "HEAD")
        await self.store.start_attempt(task.id, 1)  # as the engine does before attempt 1
        return await self.store.update_task(
            task.id, event="test.worktree", worktree=str(path), branch=f"bosun/task-{task.id}",
            base_commit=base,
        )  # fmt: skip

    def request(self, task: Task, **kwargs: Any) -> AttemptRequest:
        """An attempt request for `task` in its worktree."""
        assert task.worktree and task.branch
        kwargs.setdefault("attempt", 1)
        return AttemptRequest(
            run=self.run, task=task, worktree=Path(task.worktree), branch=task.branch, **kwargs
        )

    def qa_request(self, task: Task, report: Any, **kwargs: Any) -> QARequest:
        """A QA request for a finished attempt of `task`."""
        assert task.worktree
        kwargs.setdefault("attempt", 1)
        kwargs.setdefault("test_command", PYTEST)
        return QARequest(
            run=self.run, task=task, worktree=Path(task.worktree), report=report, **kwargs
        )

    async def calls(self, role: str | None = None) -> list[Any]:
        """The model calls recorded for the run (of one role when given)."""
        calls = await self.store.recorded_calls(self.run.id)
        return [c for c in calls if role is None or c.role == role]


@pytest.fixture
async def harness_factory(tmp_path: Path, git_repo: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build a harness from a scenario's TOML text (and run options). Task worktrees
    live beside the repository (in tmp_path), registered as the daemon's own."""
    stores: list[Store] = []
    pins = Pins(git_repo, tmp_path)
    register(pins)

    async def make(scenario: str, options: RunOptions | None = None) -> Harness:
        path = tmp_path / "scenario.toml"
        path.write_text(scenario)
        store = await Store.open(tmp_path / "board.db", boot_id="test-boot")
        stores.append(store)
        run = await store.create_run("make the sample better", options or RunOptions())
        return Harness(store=store, repo=git_repo, scenario=path, run=run)

    yield make
    unregister(pins)
    for store in stores:
        await store.close()
