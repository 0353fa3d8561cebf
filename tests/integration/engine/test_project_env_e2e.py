"""Real projects out of the box, through a real daemon with the default sandbox.

The repositories live under /tmp (bwrap's private /tmp must still show them), and
nothing is configured but the scripted model: the set-up and the test command are
detected. A coder adds a module that exists only in its worktree, with a test that
imports it; QA passes only if the worktree's code is what gets tested (an editable
install pointing at the owner's checkout would fail the import: the wrong-tree verdict
cannot happen).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode

from tests.integration.engine.daemon_process import (
    Daemon,
    bosun_cli,
    client,
    git,
    run_to_end,
)
from tests.integration.engine.project_repos import node_project, python_project, wheelhouse

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def one_task_run(key: str, title: str, coder_turns: str) -> str:
    """A scenario: the director creates one coder task `key`, which takes `coder_turns`
    (TOML replies for turns 1…n, role and task filled in); QA's model approves both."""
    director = f"""
[[reply]]
role = "director"
turn = 1
[[reply.tool_calls]]
name = "create_subtasks"
[[reply.tool_calls.arguments.tasks]]
key = "{key}"
title = "{title}"
profile = "coder"
acceptance_criteria = ["{key} works"]

[[reply]]
role = "director"
turn = 2
[[reply.tool_calls]]
name = "finish"
arguments = {{ summary = "one coder task" }}

[[reply]]
role = "strategist"
task = "director"
text = '{{"verdicts": [{{"criterion": "1", "passed": true}}, {{"criterion": "2", "passed": true}}]}}'

[[reply]]
role = "strategist"
task = "{key}"
text = '{{"verdicts": [{{"criterion": "{key} works", "passed": true, "evidence": "tests pass"}}]}}'
"""
    coder = coder_turns.replace("[[reply]]\n", f'[[reply]]\nrole = "coder"\ntask = "{key}"\n')
    return director + coder


PY_SCENARIO = one_task_run(
    "greet",
    "Add envpkg.greet",
    """
[[reply]]
turn = 1
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "src/envpkg/greet.py", content = "def greet(name):\\n    return 'hello ' + name\\n" }
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "tests/test_greet.py", content = "from envpkg.greet import greet\\n\\n\\ndef test_greet():\\n    assert greet('x') == 'hello x'\\n" }

[[reply]]
turn = 2
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "python -c 'import envpkg.greet as g; print(g.__file__)' && pytest -q" }

[[reply]]
turn = 3
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "greet added", files_changed = ["src/envpkg/greet.py", "tests/test_greet.py"] }
""",
)


def _bwrap_or_skip() -> None:
    try:
        Sandbox.detect(SandboxMode.BWRAP)
    except Exception as exc:
        pytest.skip(f"the default sandbox (bwrap) cannot run here: {exc}")


def _configure(repo: Path, scenario: str, extra: str = "") -> None:
    state = repo / ".bosun"
    state.mkdir(mode=0o700)
    (state / "scenario.toml").write_text(scenario)
    (state / "config.toml").write_text(
        f'[llm]\ndefault_model = "scripted:{state / "scenario.toml"}"\n{extra}'
    )


def _no_prompt(prompt: dict[str, Any]) -> dict[str, Any]:
    pytest.fail(f"the run asked a human: {prompt.get('kind')}: {prompt.get('reason')}")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Python project; pip finds its wheels through PIP_FIND_LINKS (passed through)."""
    _bwrap_or_skip()
    wheels = wheelhouse()
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    project = python_project(tmp_path / "envpkg", wheels)
    _configure(project, PY_SCENARIO, '[tools]\nenv_passthrough = ["PIP_FIND_LINKS"]\n')
    return project


async def _events(c: Any, kind: str) -> list[dict[str, Any]]:
    events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
    return [e for e in events if e["kind"] == kind]


async def test_a_python_project_under_tmp_lands_with_its_worktrees_own_venv(
    daemon: Daemon, repo: Path
) -> None:
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": "add greet"}))["run"]
        final = await run_to_end(c, run["id"], _no_prompt)
        assert final["state"] == "completed", final
        prepared = await _events(c, "worktree.prepared")
        tasks = (await c.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
    assert {t["state"] for t in tasks} == {"complete"}
    greet = next(t for t in tasks if t["key"] == "greet")
    # Each task's worktree got its own venv, made by the detected set-up, offline.
    assert {e["taskId"] for e in prepared} == {t["id"] for t in tasks}
    for event in prepared:
        data = event["data"]
        assert data["exitCode"] == 0, data["output"]
        assert "-m venv --without-pip .venv" in data["command"]
        assert "--no-index" in data["command"]  # offline: pip reads PIP_FIND_LINKS
        assert data["made"] == [".venv"]
    # The coder's commands ran the worktree's python, importing the worktree's module.
    log = bosun_cli(repo, "log", str(greet["id"])).stdout
    assert f".bosun/worktrees/task-{greet['id']}/src/envpkg/greet.py" in log, log
    assert "2 passed" in log
    # The work reached the repository's history.
    assert git(repo, "log", "--all", "--format=%H", "--", "src/envpkg/greet.py")


async def test_a_test_already_failing_on_the_base_does_not_block_the_run(
    daemon: Daemon, repo: Path
) -> None:
    (repo / "tests" / "test_known_bad.py").write_text("def test_known_bad():\n    assert 1 == 2\n")
    git(repo, "add", "tests/test_known_bad.py")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a red base")
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": "add greet"}))["run"]
        final = await run_to_end(c, run["id"], _no_prompt)
        tasks = (await c.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
        base = await _events(c, "qa.baseline")
    assert final["state"] == "completed", final
    assert {t["state"] for t in tasks} == {"complete"}
    # The base was tested with its own prepared environment: it ran, and failed once.
    assert [e["data"]["cannotRun"] for e in base] == [None], base
    assert base[0]["data"]["failing"] == 1 and "test_known_bad" in base[0]["data"]["names"]
    assert git(repo, "log", "--all", "--format=%H", "--", "src/envpkg/greet.py")


def test_doctor_runs_the_detected_setup_and_tests_on_the_base(repo: Path) -> None:
    out = bosun_cli(repo, "doctor", "--json")
    checks = {c["check"]: c for c in json.loads(out.stdout)["checks"]}
    setup, tests = checks["set-up"], checks["tests"]
    assert setup["ok"], setup
    assert "-m venv --without-pip .venv" in setup["detail"]
    assert "detected from pyproject.toml and the venv" in setup["detail"]
    assert tests["ok"] and tests["exitCode"] == 0, tests
    assert "`.venv/bin/python -m pytest -q` (detected)" in tests["detail"]
    assert "1 passed" in tests["detail"]
    assert ".venv/bin" in checks["environment"]["detail"]


NODE_SCENARIO = one_task_run(
    "triple",
    "Add triple",
    """
[[reply]]
turn = 1
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "lib/triple.js", content = "exports.triple = (x) => 3 * x;\\n" }
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "test.js", content = "const assert = require('assert');\\nassert.strictEqual(require('./index').double(2), 4);\\nassert.strictEqual(require('./lib/triple').triple(2), 6);\\n" }

[[reply]]
turn = 2
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "triple added", files_changed = ["lib/triple.js", "test.js"] }
""",
)


@pytest.fixture
def node_repo(tmp_path: Path) -> Path:
    _bwrap_or_skip()
    project = node_project(tmp_path / "envnode")
    if project is None:
        pytest.skip("npm and node are not installed (scripts/ do not install them)")
    _configure(project, NODE_SCENARIO)
    return project


async def test_a_node_project_gets_npm_ci_in_each_worktree_and_its_bin_on_path(
    node_repo: Path,
) -> None:
    d = Daemon(node_repo)
    d.start()
    try:
        async with client(d) as c:
            run = (await c.request("bosun/createRun", {"objective": "add triple"}))["run"]
            final = await run_to_end(c, run["id"], _no_prompt)
            assert final["state"] == "completed", final
            prepared = await _events(c, "worktree.prepared")
    finally:
        d.stop()
    assert prepared and all(e["data"]["exitCode"] == 0 for e in prepared), prepared
    assert all(e["data"]["command"].startswith("npm ci") for e in prepared)
    assert all(e["data"]["made"] == ["node_modules"] for e in prepared)


async def test_a_failing_setup_waits_for_a_human_once_and_spends_no_retry(
    git_repo: Path,
) -> None:
    _bwrap_or_skip()
    _configure(
        git_repo, PY_SCENARIO,
        '[worktree]\nsetup = "echo fetching deps; echo \'no such package: frobnicate\' >&2; exit 7"\n',
    )  # fmt: skip
    d = Daemon(git_repo)
    d.start()
    try:
        async with client(d) as c:
            run = (await c.request("bosun/createRun", {"objective": "anything"}))["run"]
            prompt = None
            while prompt is None:
                queue = (await c.request("bosun/humanQueue", {"runId": run["id"]}))["prompts"]
                prompt = queue[0] if queue else None
                if prompt is None:
                    await asyncio.wait_for(c.notifications.get(), 120)
            task = await c.request("bosun/getTask", {"taskId": prompt["taskId"]})
            prepared = await _events(c, "worktree.prepared")
            await c.request("bosun/cancelRun", {"runId": run["id"]})
    finally:
        d.stop()
    assert task["task"]["state"] == "waiting_human", task["task"]
    assert "set-up" in prompt["reason"] and "exited 7" in prompt["reason"]
    assert "no such package: frobnicate" in prompt["reason"]  # the output, for the human
    assert len(task["attempts"]) == 1  # one attempt, closed; no retry spent on it
    assert [e["data"]["exitCode"] for e in prepared] == [7]
