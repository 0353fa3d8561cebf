"""End to end: an agent's command, run by the real daemon in the real sandbox, gets
nothing from the daemon's socket (directly, or from an orphan the daemon adopts), for
the socket in `.bosun/` and under `$XDG_RUNTIME_DIR` (a long repository path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import make_sample_repo

from tests.integration.engine.daemon_process import Daemon, client, next_notification
from tests.unit.tools.test_daemon_unreachable import PROBE

# The director's own acceptance criteria, which QA judges before its tasks may start.
DIRECTOR_CRITERIA = [
    "A design document states the objective, assumptions, constraints, expected outputs "
    "and the plan, and is written in the repository",
    "Planner tasks covering the plan are created with create_subtasks",
]


def _scenario(path: Path, socket: Path) -> Path:
    line = f"python3 -I -S probe.py {socket}"
    command = (
        f"{line} child > child.txt 2>&1; "
        f"( setsid {line} orphan > orphan.txt 2>&1 & ) ; until grep -qE 'GOT|CONNECT' orphan.txt; "
        "do sleep 0.05; done; cat child.txt orphan.txt"
    )
    replies: list[dict[str, Any]] = [
        {"role": "director", "task": "director", "turn": 1, "tool_calls": [{
            "name": "create_subtasks",
            "arguments": {"tasks": [{"key": "probe", "title": "Probe", "profile": "coder"}]},
        }]},
        {"role": "director", "task": "director", "turn": 2, "tool_calls": [
            {"name": "finish", "arguments": {"summary": "one task", "files_changed": []}},
        ]},
        {"role": "strategist", "task": "director", "text": json.dumps({"verdicts": [
            {"criterion": c, "passed": True, "evidence": "scripted"} for c in DIRECTOR_CRITERIA
        ], "summary": "ok"})},
        {"role": "coder", "task": "probe", "turn": 1, "tool_calls": [
            {"name": "write_file", "arguments": {"path": "probe.py", "content": PROBE}},
            {"name": "run_command", "arguments": {"command": command, "timeout_s": 30}},
        ]},
        {"role": "coder", "task": "probe", "turn": 2, "tool_calls": [
            {"name": "ask_human", "arguments": {"question": "probe-done", "options": ["abandon"]}},
        ]},
    ]  # fmt: skip
    path.write_text(json.dumps({"name": "probe", "reply": replies}))
    return path


# auto is bwrap where CI runs (the socket is hidden); landlock and none reach the socket
# by path, so the daemon's peer check and its adoption of orphans are what refuse them.
SANDBOXES = {
    "auto": "",
    "landlock": 'sandbox = "landlock"\nallow_weak_sandbox = true\n',
    "none": 'sandbox = "none"\nallow_weak_sandbox = true\n',
}


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", list(SANDBOXES))
@pytest.mark.parametrize("where", ["short", "long"])
async def test_an_agents_command_gets_nothing_from_the_real_daemon(
    where: str, sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run_dir))
    repo = tmp_path / "r" if where == "short" else tmp_path / ("d" * 60) / ("e" * 60)
    repo.mkdir(parents=True)
    make_sample_repo(repo)
    daemon = Daemon(repo)
    assert (daemon.ws.socket_dir == run_dir / daemon.ws.socket_dir.name) is (where == "long")
    scenario = _scenario(tmp_path / "probe.json", daemon.ws.socket_path)
    daemon.ws.config_path.write_text(
        f'[llm]\ndefault_model = "scripted:{scenario}"\n[engine]\ntest_command = "true"\n'
        f"[tools]\n{SANDBOXES[sandbox]}"
    )
    daemon.start()
    try:
        async with client(daemon) as c:
            run = (await c.request("bosun/createRun", {"objective": "probe the socket"}))["run"]
            await next_notification(
                c, lambda m, p: m == "bosun/humanPrompt" and "probe-done" in json.dumps(p)
            )
            tasks = (await c.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
            [task] = [t for t in tasks if t["key"] == "probe"]
            page = await c.request("bosun/transcript", {"taskId": task["id"], "attempt": 1})
            said = "\n".join(m["content"] for m in page["messages"] if m["role"] == "tool")
    finally:
        daemon.stop()
    assert said.count("GOT 0 b''") + said.count("CONNECT-FAILED") == 2, said
    assert "ADOPTED BY" in said and "jsonrpc" not in said, said
