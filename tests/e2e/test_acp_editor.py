"""`bosun acp` driven by the official ACP client library (the TypeScript SDK, which
validates every message against the ACP schema) through whole scripted runs: the plan,
tool calls with diffs, a question answered as a permission request, cancel, list and
load of a finished run. The harness (tests/e2e/acp/harness.mjs) plays the editor."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE, make_sample_repo

from tests.integration.engine.daemon_process import Daemon

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "tests" / "e2e" / "acp" / "harness.mjs"


@pytest.fixture(scope="module")
def sdk() -> Path:
    """The ACP TypeScript SDK, installed into a cache by scripts/e2e/acp-setup.sh."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the ACP client library (apt-get install npm)")
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "e2e" / "acp-setup.sh")],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "sample"
    path.mkdir()
    make_sample_repo(path)
    return path


def drive(sdk: Path, repo: Path, *agent_args: str, **script: Any) -> dict[str, Any]:
    """Run the harness against `bosun acp` on `repo`; what the client saw."""
    out = repo.parent / "seen.json"
    plan = {"cwd": str(repo), "out": str(out), "objective": OBJECTIVE, "pick": "choice", **script}
    agent = [sys.executable, "-m", "bosun", "acp", *agent_args]
    done = subprocess.run(
        ["node", str(HARNESS), str(sdk), json.dumps(plan), "--", *agent],
        capture_output=True, text=True, timeout=300, cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(out.read_text())
    assert seen["errors"] == [], seen["errors"]
    return seen


def of_kind(updates: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [u for u in updates if u["sessionUpdate"] == kind]


def diffs_in(updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The diff content of every tool call and tool call update."""
    calls = of_kind(updates, "tool_call") + of_kind(updates, "tool_call_update")
    return [c for u in calls for c in (u.get("content") or []) if c["type"] == "diff"]


def test_a_whole_run_from_the_official_acp_client_plan_tools_diffs_question_and_load(
    sdk: Path, repo: Path
) -> None:
    daemon = Daemon(repo)
    daemon.start()
    try:
        seen = drive(sdk, repo, "--no-start", load=True)
    finally:
        daemon.stop()
    caps = seen["initialize"]["agentCapabilities"]
    assert seen["initialize"]["protocolVersion"] == 1 and caps["loadSession"] is True
    assert "list" in caps["sessionCapabilities"]
    assert seen["turns"] == ["end_turn"]
    updates = seen["updates"]
    # The plan: every task, ending all completed.
    plans = of_kind(updates, "plan")
    assert plans and {e["status"] for e in plans[-1]["entries"]} == {"completed"}
    assert len(plans[-1]["entries"]) == 5
    assert any(e["status"] == "in_progress" for p in plans for e in p["entries"])
    # Tool calls: one per task, and the agents' own (reads, writes) inside them.
    calls = {u["toolCallId"]: u for u in of_kind(updates, "tool_call")}
    assert {f"task-{n}" for n in range(1, 6)} <= set(calls)
    assert any(c["kind"] == "read" for c in calls.values())
    finished = [u for u in of_kind(updates, "tool_call_update") if u.get("status") == "completed"]
    assert {u["toolCallId"] for u in finished} >= {f"task-{n}" for n in range(1, 6)}
    assert any(d["path"] == "wordkit/slug.py" for d in diffs_in(updates))
    # The writer's question, as a permission request with the agent's suggested answers.
    [asked] = seen["permissions"]
    assert asked["toolCall"]["toolCallId"].startswith("task-")
    assert "README" in asked["toolCall"]["title"]
    ids = [o["optionId"] for o in asked["options"]]
    assert ids == ["choice-0", "choice-1", "retry", "abandon", "spawn"]
    said = "".join(u["content"]["text"] for u in of_kind(updates, "agent_message_chunk"))
    assert "landed on main" in said
    # Listed and loaded: the run's history comes back as updates.
    [listed] = seen["list"]["sessions"]
    assert listed["sessionId"] == seen["loaded"] == "run-1"
    assert listed["cwd"] == str(repo.resolve())
    loaded = seen["loadUpdates"]
    assert of_kind(loaded, "user_message_chunk")[0]["content"]["text"] == OBJECTIVE
    assert {e["status"] for e in of_kind(loaded, "plan")[-1]["entries"]} == {"completed"}
    assert diffs_in(loaded)


def test_cancel_from_the_editor_ends_the_turn_cancelled_and_the_run_with_it(
    sdk: Path, repo: Path
) -> None:
    try:
        # No daemon runs: `bosun acp` starts one for the session's folder.
        seen = drive(sdk, repo, cancelOn="tool_call")
    finally:
        subprocess.run(
            [sys.executable, "-m", "bosun", "-C", str(repo), "daemon", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
    assert seen["turns"] == ["cancelled"]
    [listed] = seen["list"]["sessions"]
    assert listed["title"].endswith("(cancelled)")
