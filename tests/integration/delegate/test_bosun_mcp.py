"""`bosun mcp` driven by the official SDK's client, against a real daemon on the demo repository."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE, make_sample_repo
from bosun.client import Client
from bosun.workspace import find_workspace
from mcp import ClientSession, StdioServerParameters, stdio_client

BOSUN = [sys.executable, "-m", "bosun"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[Path]:
    """The demo's sample repository (scripted model) with a daemon serving it."""
    repo = tmp_path / "wordkit"
    repo.mkdir()
    make_sample_repo(repo)
    started = subprocess.run([*BOSUN, "-C", str(repo), "daemon", "start"], capture_output=True,
                             text=True, timeout=60, env=_env(), stdin=subprocess.DEVNULL)  # fmt: skip
    assert started.returncode == 0, started.stderr
    yield repo
    subprocess.run([*BOSUN, "-C", str(repo), "daemon", "stop"], capture_output=True, timeout=60)


@contextlib.asynccontextmanager
async def bosun_mcp(sample: Path) -> AsyncIterator[ClientSession]:
    """An SDK client session with `bosun mcp` over stdio (entered and left in one task,
    as anyio's scopes require: not a fixture)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "bosun", "-C", str(sample), "mcp"],
                                   env=_env())  # fmt: skip
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _data(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content.get("result", result.structured_content)
    return result.content[0].text


async def _wait_for(client: Client, done: Any) -> Any:
    """Until `done()` returns something, re-checked on every board change (no polling sleeps)."""
    while True:
        found = await done()
        if found:
            return found
        await client.notifications.get()


async def test_another_agent_delegates_an_objective_answers_its_prompt_and_reads_the_result(
    sample: Path,
) -> None:
    async with bosun_mcp(sample) as session:
        await _delegate(sample, session)


async def _delegate(sample: Path, session: ClientSession) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert {"start_objective", "run_status", "list_prompts", "answer_prompt", "task_diff",
            "task_transcript", "review_task", "list_runs", "task_detail", "cancel_run"} <= set(tools)  # fmt: skip
    assert tools["run_status"].annotations is not None
    assert tools["run_status"].annotations.read_only_hint
    assert (
        not tools["start_objective"].annotations
        or not tools["start_objective"].annotations.read_only_hint
    )

    run = _data(await session.call_tool("start_objective", {"objective": OBJECTIVE}))
    run_id = run["id"]
    async with await Client.connect(find_workspace(sample).socket_path) as watcher:

        async def prompt() -> Any:
            queue = _data(await session.call_tool("list_prompts", {"run_id": run_id}))
            return queue["prompts"][0] if queue["prompts"] else None

        asked = await _wait_for(watcher, prompt)
        assert asked["kind"] == "ask_human"
        answered = _data(await session.call_tool(
            "answer_prompt", {"prompt_id": asked["promptId"], "action": "retry",
                              "guidance": "Plain code blocks, please."}))  # fmt: skip
        assert answered["answered"] == asked["promptId"]

        async def finished() -> Any:
            status = _data(await session.call_tool("run_status", {"run_id": run_id}))
            return status if status["state"] in ("completed", "failed", "cancelled") else None

        status = await _wait_for(watcher, finished)
    assert status["state"] == "completed", status
    assert status["taskCounts"].get("complete", 0) == len(status["tasks"])
    readme = next(t for t in status["tasks"] if t["key"] == "readme")

    diff = _data(await session.call_tool("task_diff", {"task_id": readme["id"]}))
    assert "--- README.md" in diff and "[hunk " in diff
    transcript = _data(
        await session.call_tool("task_transcript", {"task_id": readme["id"], "attempt": 2})
    )
    assert any("Plain code blocks, please." in m["content"] for m in transcript["messages"])
    detail = _data(await session.call_tool("task_detail", {"task_id": readme["id"]}))
    assert [a["outcome"] for a in detail["attempts"]] == ["interrupted", "qa_passed"]
    runs = _data(await session.call_tool("list_runs", {}))
    assert runs["runs"][0]["id"] == run_id

    resource = await session.read_resource(f"bosun://runs/{run_id}")
    body = json.loads(resource.contents[0].text)  # type: ignore[union-attr]
    assert body["state"] == "completed"


async def test_the_daemons_errors_come_back_as_tool_errors_not_a_broken_server(
    sample: Path,
) -> None:
    async with bosun_mcp(sample) as session:
        missing = await session.call_tool("run_status", {"run_id": 999})
        assert missing.is_error
        assert "999" in missing.content[0].text  # type: ignore[union-attr]
        wrong = await session.call_tool("answer_prompt", {"prompt_id": "nope", "action": "maybe"})
        assert wrong.is_error
        gone = await session.call_tool("answer_prompt", {"prompt_id": "nope", "action": "retry"})
        assert gone.is_error and "nope" in gone.content[0].text  # type: ignore[union-attr]
        still = await session.call_tool("list_runs", {})
        assert _data(still) == {"runs": []}


async def test_with_the_review_gate_the_other_agent_reviews_each_task_until_the_run_completes(
    sample: Path,
) -> None:
    async with bosun_mcp(sample) as session:
        run = _data(
            await session.call_tool(
                "start_objective", {"objective": OBJECTIVE, "review_gate": True}
            )
        )
        reviewed: list[str] = []
        async with await Client.connect(find_workspace(sample).socket_path) as watcher:

            async def step() -> Any:
                status = _data(await session.call_tool("run_status", {"run_id": run["id"]}))
                if status["state"] in ("completed", "failed", "cancelled"):
                    return status
                for task in status["tasks"]:
                    if task["state"] == "awaiting_review":
                        done = _data(await session.call_tool(
                            "review_task", {"task_id": task["id"], "decision": "approve"}))  # fmt: skip
                        reviewed.append(done["task"]["key"])
                prompts = _data(await session.call_tool("list_prompts", {"run_id": run["id"]}))
                for p in prompts["prompts"]:
                    if p["kind"] == "ask_human":
                        await session.call_tool(
                            "answer_prompt", {"prompt_id": p["promptId"], "action": "retry"}
                        )
                return None

            status = await _wait_for(watcher, step)
    assert status["state"] == "completed", status
    worked = {t["key"] for t in status["tasks"] if t["profile"] != "director"}
    assert worked and worked <= set(reviewed)
