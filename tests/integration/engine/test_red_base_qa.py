"""QA on a repository whose suite is already red on the base, through the real engine,
git plane, agents, sandbox and pytest (the daemon's own interpreter), with the scripted
model: unrelated work lands, a broken passing test fails QA by name, the director's
design document is not gated on the suite, and tests that cannot run ask a human once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bosun.agents.runner import Agents
from bosun.board.store import Store
from bosun.config import Settings
from bosun.engine.baselines import BASE_EVENT, BASELINES
from bosun.engine.core import Engine
from bosun.engine.gitplane import ServiceGitPlane
from bosun.engine.lifecycle import DIRECTOR_CRITERIA
from bosun.engine.settings import EngineSettings
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.llm.gateway import ModelGateway
from bosun.llm.settings import LlmSettings
from bosun.tools import Policy, ToolExecutor, build_registry, current_sandbox
from bosun.tools.settings import ToolSettings
from bosun.workspace import Workspace
from bosun_protocol.engine import PromptKind, ResolveAction, ResolveTaskParams
from bosun_protocol.entities import AttemptOutcome, RunOptions, Task, TaskState

from tests.unit.engine.scripted import wait_for

PYTEST = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
TIMEOUT = 120.0

CORE = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a + b  # a known bug\n"
TESTS = (
    "from calc.core import add, mul\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul_known_bug():\n    assert mul(2, 3) == 6\n"
)
EXTRA = "def neg(a):\n    return -a\n"
EXTRA_TEST = "from calc.extra import neg\n\n\ndef test_neg():\n    assert neg(2) == -2\n"
BROKEN = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b  # a known bug\n"


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _reply(role: str, task: str, turn: int | None, **body: Any) -> str:
    head = f'[[reply]]\nrole = "{role}"\ntask = "{task}"\n'
    if turn is not None:
        head += f"turn = {turn}\n"
    if "text" in body:
        head += f"text = {json.dumps(body['text'])}\n"
    for call in body.get("calls", []):
        head += f'[[reply.tool_calls]]\nname = "{call[0]}"\narguments = {_inline(call[1])}\n'
    return head


def _inline(value: Any) -> str:
    """A TOML inline value (JSON strings, numbers and lists are TOML too)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value)


def _verdicts(*criteria: str) -> str:
    return json.dumps(
        {
            "verdicts": [{"criterion": c, "passed": True, "evidence": "seen"} for c in criteria],
            "summary": "met",
        }
    )


def _coder(key: str, files: dict[str, str]) -> list[str]:
    writes = [("write_file", {"path": p, "content": c}) for p, c in files.items()]
    return [
        _reply("coder", key, 1, calls=writes),
        _reply("coder", key, 2, calls=[("finish", {"summary": f"{key} done"})]),
    ]


def scenario(subtasks: list[dict[str, Any]]) -> str:
    """The director writes its design document and creates `subtasks`; each coder task
    writes its files (per key below) and finishes; the strategist approves everything."""
    doc = "docs/bosun/run-1-design.md"
    parts = [
        _reply(
            "director",
            "director",
            1,
            calls=[
                ("write_file", {"path": doc, "content": "# Design\n\nThe plan.\n"}),
                ("create_subtasks", {"tasks": subtasks}),
            ],
        ),
        _reply("director", "director", 2, calls=[("finish", {"summary": "designed"})]),
        *_coder("unrelated", {"calc/extra.py": EXTRA, "tests/test_extra.py": EXTRA_TEST}),
        *_coder("breaker", {"calc/core.py": BROKEN}),
        _reply("strategist", "director", None, text=_verdicts("design", "subtasks")),
        _reply("strategist", "unrelated", None, text=_verdicts("neg() negates")),
        _reply("strategist", "breaker", None, text=_verdicts("add() rewritten")),
    ]
    return "\n".join(parts)


def _task(key: str, criterion: str) -> dict[str, Any]:
    return {
        "key": key,
        "title": f"task {key}",
        "profile": "coder",
        "acceptance_criteria": [criterion],
    }


@dataclass
class Rig:
    """A real engine over a real repository whose base fails one test."""

    store: Store
    engine: Engine
    repo: Path

    async def task(self, run_id: int, key: str, states: set[TaskState]) -> Task:
        async def check() -> Task | None:
            try:
                task = await self.store.get_task_by_key(run_id, key)
            except Exception:
                return None
            return task if task.state in states else None

        return await wait_for(self.store, check, TIMEOUT)


@pytest.fixture
def red_repo(git_repo: Path) -> Path:
    """`calc` with `test_add` passing and `test_mul_known_bug` failing on the base."""
    (git_repo / "calc").mkdir()
    (git_repo / "calc" / "__init__.py").write_text("")
    (git_repo / "calc" / "core.py").write_text(CORE)
    (git_repo / "tests").mkdir()
    (git_repo / "tests" / "test_core.py").write_text(TESTS)
    (git_repo / "pytest.ini").write_text("[pytest]\ntestpaths = tests\npythonpath = .\n")
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "calc, with a known bug")
    return git_repo


@pytest.fixture
async def rig(
    red_repo: Path, tmp_path: Path
) -> AsyncIterator[Callable[[str, str], Awaitable[Rig]]]:
    closers: list[Callable[[], Awaitable[None]]] = []

    async def make(scenario_text: str, test_command: str) -> Rig:
        path = tmp_path / "scenario.toml"
        path.write_text(scenario_text)
        workspace = Workspace(red_repo)
        store = await Store.open(tmp_path / "board.sqlite3", boot_id="boot-test")
        service = GitService(workspace, GitSettings(warm_pool=0), store)
        await service.start()
        settings = Settings(
            llm=LlmSettings(default_model=f"scripted:{path}"),
            tools=ToolSettings(command_timeout_s=60),
            engine=EngineSettings(max_retries=0, test_command=test_command),
        )
        gateway = ModelGateway(settings.llm, recorder=store)
        agents = Agents(
            gateway,
            ToolExecutor(build_registry(settings.tools), Policy.from_settings(settings.tools)),
            store,
            settings,
            sandbox=current_sandbox(settings.tools.sandbox, settings.tools.allow_weak_sandbox),
            hidden_paths=workspace.private_paths(),
        )
        engine = Engine(store, ServiceGitPlane(service), agents, settings.engine, "boot-test")
        await engine.start()

        async def close() -> None:
            await engine.stop()
            await gateway.aclose()
            await service.close()
            await store.close()

        closers.append(close)
        return Rig(store, engine, red_repo)

    yield make
    for close in closers:
        await close()


async def test_on_a_red_base_unrelated_work_lands_and_a_broken_test_fails_qa_by_name(
    rig: Callable[[str, str], Awaitable[Rig]],
) -> None:
    subtasks = [_task("unrelated", "neg() negates"), _task("breaker", "add() rewritten")]
    r = await rig(scenario(subtasks), PYTEST)
    run = await r.store.create_run("add neg(); rewrite add()", RunOptions())
    await r.engine.start_run(run.id)

    unrelated = await r.task(run.id, "unrelated", {TaskState.COMPLETE})
    [landed] = await r.store.list_attempts(unrelated.id)
    assert landed.outcome is AttemptOutcome.QA_PASSED
    gate = landed.verdicts[0]
    assert gate.criterion.startswith("no new test failures") and gate.passed
    assert "already failing on the base: 1" in gate.evidence
    assert "test_mul_known_bug" in gate.evidence

    breaker = await r.task(run.id, "breaker", {TaskState.WAITING_HUMAN})
    [failed] = await r.store.list_attempts(breaker.id)
    assert failed.outcome is AttemptOutcome.QA_FAILED
    assert "tests.test_core::test_add" in (failed.error or "")
    assert "assert -1 == 5" in (failed.error or "")  # the assertion, for Phoenix
    assert "test_mul_known_bug" not in (failed.verdicts[0].evidence.split("already")[0])

    director = await r.store.get_task_by_key(run.id, "director")
    [designed] = await r.store.list_attempts(director.id)
    assert designed.outcome is AttemptOutcome.QA_PASSED
    assert [v.criterion for v in designed.verdicts] == DIRECTOR_CRITERIA  # no test gate

    # The base was tested once, and its results are kept by tree for the next run.
    events = [ev for ev in (await r.store.events_since(0, 10_000))[0] if ev.kind == BASE_EVENT]
    assert len(events) == 1 and events[0].data["failing"] == 1
    assert len(await r.store.journal_list(BASELINES)) == 1


async def test_tests_that_cannot_run_ask_once_at_the_start_and_burn_no_retry(
    rig: Callable[[str, str], Awaitable[Rig]],
) -> None:
    r = await rig(scenario([_task("unrelated", "neg() negates")]), "no-such-runner-xyz -q")
    run = await r.store.create_run("add neg()", RunOptions())
    await r.engine.start_run(run.id)

    unrelated = await r.task(run.id, "unrelated", {TaskState.WAITING_HUMAN})
    prompts = r.engine.humans.queue(run.id)
    kinds = sorted((p.task_id is None, p.kind) for p in prompts)
    assert kinds == [(False, PromptKind.TESTS_CANNOT_RUN), (True, PromptKind.TESTS_CANNOT_RUN)]
    base_prompt = next(p for p in prompts if p.task_id is None)
    assert "cannot run on the run's base commit" in base_prompt.reason
    assert "no-such-runner-xyz" in base_prompt.reason  # with the output
    [attempt] = await r.store.list_attempts(unrelated.id)
    assert attempt.outcome is AttemptOutcome.FINISHED  # not counted: max_retries is 0
    director = await r.store.get_task_by_key(run.id, "director")
    assert director.state is TaskState.COMPLETE  # its design document is not gated

    # Dismissed, the base's prompt goes; the base is not cached as "cannot run".
    await r.engine.humans.resolve(
        ResolveTaskParams(prompt_id=base_prompt.prompt_id, action=ResolveAction.ABANDON)
    )
    assert [p.task_id for p in r.engine.humans.queue(run.id)] == [unrelated.id]
    assert await r.store.journal_list(BASELINES) == []
