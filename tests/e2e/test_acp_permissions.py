"""Questions, tool approvals and reviews through `bosun acp`, answered by the official ACP
client library: as permission requests, put off and answered by the next message, or
answered from another client while the editor's request is still open."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import HUMAN_ANSWER, OBJECTIVE
from bosun.client import Client

from tests.e2e.test_acp_editor import HARNESS, diffs_in, of_kind, repo, sdk
from tests.integration.engine.daemon_process import Daemon

__all__ = ["repo", "sdk"]  # the fixtures, shared with the editor test
WAIT = 240.0


async def start_harness(sdk: Path, repo: Path, **script: Any) -> tuple[Any, Path]:
    out = repo.parent / "seen.json"
    plan = {"cwd": str(repo), "out": str(out), "objective": OBJECTIVE, **script}
    proc = await asyncio.create_subprocess_exec(
        "node", str(HARNESS), str(sdk), json.dumps(plan), "--",
        sys.executable, "-m", "bosun", "acp", "--no-start",
        cwd=repo, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return proc, out


async def finish(proc: Any, out: Path) -> dict[str, Any]:
    _, err = await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen: dict[str, Any] = json.loads(await asyncio.to_thread(out.read_text))
    assert seen["errors"] == [], seen["errors"]
    return seen


async def events_of(daemon: Daemon, kind: str) -> list[dict[str, Any]]:
    async with await Client.connect(daemon.ws.socket_path) as c:
        found = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
    return [e["data"] for e in found if e["kind"] == kind]


@pytest.fixture
def daemon(repo: Path) -> Any:
    d = Daemon(repo)
    yield d
    d.stop()


async def test_tool_approvals_and_reviews_arrive_as_permission_requests(
    sdk: Path, repo: Path, daemon: Daemon
) -> None:
    config = repo / ".bosun" / "config.toml"
    text = config.read_text().replace("[engine]\n", "[engine]\nreview_gate = true\n")
    rule = '\n[[tools.policy]]\naction = "ask"\ntool = "run_command"\ncommand = "*unittest*"\n'
    config.write_text(text + rule)
    daemon.start()
    seen = await finish(*await start_harness(sdk, repo, pick="approve-always"))
    assert seen["turns"] == ["end_turn"]
    asked = {tuple(o["optionId"] for o in p["options"]) for p in seen["permissions"]}
    assert ("approve", "approve-always", "deny") in asked
    assert ("review-approve", "review-changes", "review-reject") in asked
    reviews = [p for p in seen["permissions"] if p["options"][0]["optionId"] == "review-approve"]
    assert all(p["toolCall"]["toolCallId"].startswith("task-") for p in reviews)
    assert diffs_in(seen["updates"])  # what was reviewed was on the tool call first
    said = "".join(u["content"]["text"] for u in of_kind(seen["updates"], "agent_message_chunk"))
    assert "landed on main" in said
    approvals = await events_of(daemon, "task.approval_answered")
    assert approvals and approvals[0]["choice"] == "allow_always"
    assert approvals[0]["by"].startswith("ACP session")


async def test_a_question_put_off_is_answered_by_the_next_message(
    sdk: Path, repo: Path, daemon: Daemon
) -> None:
    daemon.start()
    seen = await finish(*await start_harness(sdk, repo, pick="later", followUp=HUMAN_ANSWER))
    assert seen["turns"] == ["end_turn", "end_turn"]
    said = [u["content"]["text"] for u in of_kind(seen["updates"], "agent_message_chunk")]
    assert any("waits for your answer" in text for text in said)
    assert "landed on main" in said[-1]
    [answer] = await events_of(daemon, "human.answered")
    assert answer["action"] == "retry" and HUMAN_ANSWER in (answer.get("guidance") or "")


async def test_a_question_answered_from_another_client_is_withdrawn_in_the_editor(
    sdk: Path, repo: Path, daemon: Daemon
) -> None:
    daemon.start()
    async with await Client.connect(daemon.ws.socket_path, options={"richPrompts": True}) as alice:
        proc, out = await start_harness(sdk, repo, pick="hold")  # the editor never answers
        while True:
            method, params = await asyncio.wait_for(alice.notifications.get(), WAIT)
            if method == "bosun/humanPrompt" and params["prompt"]["kind"] == "ask_human":
                prompt = params["prompt"]
                break
        await alice.request(
            "bosun/resolveTask",
            {"promptId": prompt["promptId"], "action": "retry", "guidance": HUMAN_ANSWER,
             "by": "alice"},
        )  # fmt: skip
        seen = await finish(proc, out)
    assert seen["turns"] == ["end_turn"]
    [held] = seen["permissions"]
    call = held["toolCall"]["toolCallId"]
    notes = [
        c["content"]["text"]
        for u in of_kind(seen["updates"], "tool_call_update")
        if u["toolCallId"] == call
        for c in (u.get("content") or [])
        if c["type"] == "content"
    ]
    assert "Answered by alice (retry)." in notes
