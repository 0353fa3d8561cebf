"""`bosun run`, `resolve`, `log` and `doctor` as subprocesses against a real daemon."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE, make_sample_repo
from bosun.client import Client
from bosun.workspace import find_workspace

pytest.importorskip("bosun.engine.service")

BOSUN = [sys.executable, "-m", "bosun"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(name, None)
    return env


def bosun(repo: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the bosun command line on `repo`."""
    return subprocess.run(
        [*BOSUN, "-C", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[Path]:
    """The demo's sample repository with a daemon serving it."""
    repo = tmp_path / "wordkit"
    repo.mkdir()
    make_sample_repo(repo)
    started = bosun(repo, "daemon", "start")
    assert started.returncode == 0, started.stderr
    yield repo
    bosun(repo, "daemon", "stop")


def test_run_without_an_api_key_says_how_to_set_one(git_repo: Path) -> None:
    out = bosun(git_repo, "run", "anything", "--model", "openai:gpt-4.1")

    assert out.returncode == 1
    assert "OPENAI_API_KEY" in out.stderr
    assert "--model scripted:demo" in out.stderr
    assert not (git_repo / ".bosun" / "board.sqlite3").exists()  # nothing was started


async def _answer_first_prompt(repo: Path) -> dict[str, Any]:
    """Wait for the run's question as an editor would, then answer it with `bosun resolve`."""
    async with await Client.connect(find_workspace(repo).socket_path) as client:
        while True:
            queue = await client.request("bosun/humanQueue", {})
            if queue["prompts"]:
                prompt: dict[str, Any] = queue["prompts"][0]
                break
            await client.notifications.get()  # wait for the next change
    answered = await asyncio.to_thread(
        bosun, repo, "resolve", str(prompt["taskId"]), "retry", "-g", "plain code blocks", "--json"
    )
    assert answered.returncode == 0, answered.stderr
    return prompt


async def test_run_follows_to_the_end_while_another_client_answers_the_prompt(
    sample: Path,
) -> None:
    run = asyncio.create_task(asyncio.to_thread(bosun, sample, "run", OBJECTIVE, "--json"))
    prompt = await asyncio.wait_for(_answer_first_prompt(sample), 90)
    out = await asyncio.wait_for(run, 90)

    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert summary["run"]["state"] == "completed"
    assert prompt["kind"] == "ask_human"
    assert "HUMAN NEEDED" in out.stderr
    assert "answered by cli" in out.stderr
    assert (
        "budget: per attempt 2,000,000 tokens / $4.00, per task 5,000,000 tokens / $10.00, "
        "per run 50,000,000" in out.stderr
    )
    readme = next(t for t in summary["tasks"] if t["key"] == "readme")
    assert [a["outcome"] for a in readme["attempts"]] == ["interrupted", "qa_passed"]

    log = bosun(sample, "log", str(readme["id"]), "--attempt", "2")
    assert log.returncode == 0, log.stderr
    assert "plain code blocks" in log.stdout  # the human's answer reached the agent
    assert "→ write_file" in log.stdout


def test_doctor_reports_each_check_as_json(sample: Path) -> None:
    out = bosun(sample, "doctor", "--json")
    report = json.loads(out.stdout)
    checks = {c["check"]: c for c in report["checks"]}

    assert any(name.startswith("model scripted:") and c["ok"] for name, c in checks.items())
    assert checks["git"]["ok"]
    assert checks["workspace"]["ok"], checks["workspace"]
    assert "sandbox" in checks
    assert checks["budget"]["ok"]
    assert "per task 5,000,000 tokens" in checks["budget"]["detail"]
    assert out.returncode == (0 if report["ok"] else 1)


FOLLOWED = """
[[reply]]
role = "director"
turn = 1
text = "Writing the design now."
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "docs/bosun/run-1-design.md", content = "# Design\\n" }

[[reply]]
role = "director"
turn = 2
text = "Design written; finishing up."
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "design only" }

[[reply]]
role = "strategist"
text = '{"verdicts": [{"criterion": "1", "passed": true}, {"criterion": "2", "passed": true}]}'
"""


async def _line_with(stream: asyncio.StreamReader, text: str) -> list[str]:
    seen: list[str] = []
    while True:
        line = (await stream.readline()).decode()
        assert line, f"output ended before {text!r}: {''.join(seen)}"
        seen.append(line)
        if text in line:
            return seen


def _held_on_approval(repo: Path) -> None:
    """Configure `repo` so the director's first write waits for a human's approval."""
    state = repo / ".bosun"
    state.mkdir(mode=0o700)
    (state / "scenario.toml").write_text(FOLLOWED)
    (state / "config.toml").write_text(
        f'[llm]\ndefault_model = "scripted:{state / "scenario.toml"}"\n'
        '[engine]\ntest_command = "true"\n'
        '[[tools.policy]]\naction = "ask"\ntool = "write_file"\n'
    )


async def _next_prompt(client: Client) -> dict[str, Any]:
    while True:
        method, params = await client.notifications.get()
        if method == "bosun/humanPrompt":
            prompt: dict[str, Any] = params["prompt"]
            return prompt


async def test_log_follow_streams_a_live_attempt_until_the_task_completes(git_repo: Path) -> None:
    _held_on_approval(git_repo)
    assert bosun(git_repo, "daemon", "start").returncode == 0
    try:
        async with await Client.connect(find_workspace(git_repo).socket_path) as client:
            run = (await client.request("bosun/createRun", {"objective": "design"}))["run"]
            prompt = await _next_prompt(client)  # the director waits on the approval
            follow = await asyncio.create_subprocess_exec(
                *BOSUN, "-C", str(git_repo), "log", str(prompt["taskId"]), "--follow",
                stdout=asyncio.subprocess.PIPE, env=_env(),
            )  # fmt: skip
            assert follow.stdout is not None
            before = await _line_with(follow.stdout, "→ write_file")
            await client.request(
                "bosun/resolveTask",
                {"promptId": prompt["promptId"], "taskId": prompt["taskId"], "action": "approve"},
            )
            after = await asyncio.wait_for(_line_with(follow.stdout, "is complete"), 60)
            assert await asyncio.wait_for(follow.wait(), 30) == 0
        live = "".join(after)
        assert "Writing the design now." in "".join(before)
        assert "Design written; finishing up." in live  # streamed, not in the stored part
        assert "→ finish" in live
        assert run["id"] == 1
    finally:
        bosun(git_repo, "daemon", "stop")


async def test_interrupt_pause_resume_and_cancel_from_the_command_line(git_repo: Path) -> None:
    _held_on_approval(git_repo)
    assert bosun(git_repo, "daemon", "start").returncode == 0
    try:
        async with await Client.connect(find_workspace(git_repo).socket_path) as client:
            started = await asyncio.to_thread(
                bosun, git_repo, "run", "design", "--detach", "--json"
            )
            assert started.returncode == 0, started.stderr
            run = json.loads(started.stdout)
            prompt = await _next_prompt(client)
            task = str(prompt["taskId"])
            stopped = await asyncio.to_thread(bosun, git_repo, "interrupt", task, "--json")
            assert stopped.returncode == 0, stopped.stderr
            interrupt = await _next_prompt(client)  # the interrupted task asks what next
        assert interrupt["kind"] == "interrupted"
        # Only the director ever ran: resumed, the run is planning again.
        steps = [("pause", "paused"), ("resume", "planning"), ("cancel", "cancelled")]
        for command, state in steps:
            out = bosun(git_repo, command, str(run["id"]), "--json")
            assert out.returncode == 0, out.stderr
            assert json.loads(out.stdout)["run"]["state"] == state
        shown = bosun(git_repo, "cancel", str(run["id"]))
        assert shown.returncode == 1
        assert "already" in shown.stderr
    finally:
        bosun(git_repo, "daemon", "stop")
