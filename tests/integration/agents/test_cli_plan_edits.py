"""`bosun task deps|edit|drop` and `bosun replan` on a live run, as a person uses them:
subprocesses against a real daemon, the first worker held on a tool approval so the
rest of the plan has not started."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bosun.client import Client
from bosun.workspace import find_workspace

from tests.integration.agents.test_run_commands import bosun

pytest.importorskip("bosun.engine.service")

PLAN = """
[[reply]]
role = "director"
turn = 1
[[reply.tool_calls]]
name = "create_subtasks"
[[reply.tool_calls.arguments.tasks]]
key = "a"
title = "first"
profile = "coder"
acceptance_criteria = ["a.txt exists"]
[[reply.tool_calls.arguments.tasks]]
key = "b"
title = "second"
profile = "coder"
depends_on = ["a"]
acceptance_criteria = ["b.txt exists"]
[[reply.tool_calls.arguments.tasks]]
key = "c"
title = "third"
profile = "writer"
depends_on = ["b"]
acceptance_criteria = ["c.txt exists"]
[[reply.tool_calls.arguments.tasks]]
key = "d"
title = "fourth"
profile = "coder"
depends_on = ["c"]
acceptance_criteria = ["d.txt exists"]

[[reply]]
role = "director"
turn = 2
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "planned a, b, c, d" }

[[reply]]
role = "coder"
task = "a"
turn = 1
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "a.txt", content = "a\\n" }

[[reply]]
role = "strategist"
text = '{"verdicts": [{"criterion": "1", "passed": true}, {"criterion": "2", "passed": true}]}'
"""


def _repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["add", "."]):
        if args[0] == "add":
            (repo / "README.md").write_text("# r\n")
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "i"],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip
    state = repo / ".bosun"
    state.mkdir(mode=0o700)
    (state / "scenario.toml").write_text(PLAN)
    (state / "config.toml").write_text(
        f'[llm]\ndefault_model = "scripted:{state / "scenario.toml"}"\n'
        '[engine]\ntest_command = "true"\n'
        '[[tools.policy]]\naction = "ask"\ntool = "write_file"\n'
    )
    return repo


async def _held(client: Client) -> dict[str, Any]:
    """The approval task `a` waits on."""
    while True:
        for prompt in (await client.request("bosun/humanQueue", {}))["prompts"]:
            if prompt["kind"] == "tool_approval":
                return dict(prompt)
        await client.notifications.get()


def _tasks(repo: Path, run: int) -> dict[str, dict[str, Any]]:
    detail = json.loads(bosun(repo, "status", str(run), "--json").stdout)
    return {t["key"]: t for t in detail["tasks"]}


async def test_a_person_rewires_edits_drops_and_replans_a_live_run(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert bosun(repo, "daemon", "start").returncode == 0
    try:
        async with await Client.connect(find_workspace(repo).socket_path) as client:
            started = await asyncio.to_thread(bosun, repo, "run", "plan", "--detach", "--json")
            run = json.loads(started.stdout)["id"]
            await asyncio.wait_for(_held(client), 90)
        ids = {k: t["id"] for k, t in _tasks(repo, run).items()}

        added = bosun(repo, "task", "deps", "d", "+a")
        assert added.returncode == 0, added.stderr
        # Tasks the director made depend on it too; dependencies are listed by id.
        assert added.stdout == f"task {ids['d']} (d) waits for: director, a, c\n"
        swapped = bosun(repo, "task", "deps", f"{run}/d", "-a", "+b", "--json")
        assert sorted(json.loads(swapped.stdout)["task"]["dependencies"]) == [
            ids[k] for k in ("director", "b", "c")
        ]
        cycle = bosun(repo, "task", "deps", "b", "+d")
        assert cycle.returncode == 1
        assert "cycle" in cycle.stderr
        assert _tasks(repo, run)["b"]["dependencies"] == [ids["director"], ids["a"]]  # unchanged

        edited = bosun(
            repo, "task", "edit", "c", "--title", "write the docs", "--profile", "coder",
            "--criterion", "docs exist", "--criterion", "docs are short",
        )  # fmt: skip
        assert edited.returncode == 0, edited.stderr
        assert edited.stdout == (
            f"task {ids['c']} (c) [planned] write the docs\n  profile coder, 2 criteria\n"
        )
        late = bosun(repo, "task", "edit", "a", "--profile", "writer")
        assert late.returncode == 1
        assert "can change only before it starts" in late.stderr

        dropped = bosun(repo, "task", "drop", "b")
        assert dropped.returncode == 0, dropped.stderr
        assert dropped.stdout == (
            f"dropped task {ids['b']} (b)\n"
            f"  rewired: task {ids['c']} (c) waits for: director, a\n"
            f"  rewired: task {ids['d']} (d) waits for: director, a, c\n"
        )
        refused = bosun(repo, "task", "drop", "a")
        assert refused.returncode == 1
        assert "only a task that has not started can be dropped" in refused.stderr
        chain = bosun(repo, "task", "drop", "c", "--dependents", "drop")
        assert chain.stdout == (
            f"dropped task {ids['c']} (c)\n  also dropped its dependent {ids['d']} (d)\n"
        )
        tasks = _tasks(repo, run)
        assert {k: tasks[k]["state"] for k in "bcd"} == dict.fromkeys("bcd", "abandoned")
        assert tasks["d"]["reason"] == f"dropped with task #{ids['c']} (c), which it depended on"

        replanned = bosun(repo, "replan", str(run), "add a changelog")
        assert replanned.returncode == 0, replanned.stderr
        assert replanned.stdout.startswith(f"run {run}: planner task ")
        assert "(replan-1) added" in replanned.stdout
        bosun(repo, "cancel", str(run))
    finally:
        bosun(repo, "daemon", "stop")


async def test_a_cancelled_run_restarts_with_its_unfinished_work_reopened(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert bosun(repo, "daemon", "start").returncode == 0
    try:
        async with await Client.connect(find_workspace(repo).socket_path) as client:
            started = await asyncio.to_thread(bosun, repo, "run", "plan", "--detach", "--json")
            run = json.loads(started.stdout)["id"]
            await asyncio.wait_for(_held(client), 90)
        live = bosun(repo, "restart", str(run))
        assert live.returncode == 1
        assert f"run {run} is running; only a cancelled or failed run restarts" in live.stderr
        assert bosun(repo, "cancel", str(run), "--reason", "stop for now").returncode == 0
        before = _tasks(repo, run)
        assert {k: before[k]["state"] for k in "abcd"} == dict.fromkeys("abcd", "abandoned")

        # Only b and what waited on it: a stays abandoned, so b-r2 no longer waits for it.
        again = bosun(repo, "restart", str(run), "--from", "b", "--json")
        assert again.returncode == 0, again.stderr
        result = json.loads(again.stdout)
        assert result["run"]["state"] == "running"
        assert [t["key"] for t in result["reopened"]] == ["b-r2", "c-r2", "d-r2"]
        ids = {k: t["id"] for k, t in _tasks(repo, run).items()}
        deps = {t["key"]: sorted(t["dependencies"]) for t in result["reopened"]}
        assert deps == {
            "b-r2": [ids["director"]],
            "c-r2": [ids["director"], ids["b-r2"]],
            "d-r2": [ids["director"], ids["c-r2"]],
        }
        assert result["run"]["cost"]["calls"] > 0  # the spend so far stays on the run
        assert bosun(repo, "cancel", str(run), "--reason", "again").returncode == 0
        # By default: whatever the run's end abandoned, the previous replacements too.
        shown = bosun(repo, "restart", str(run))
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert lines[0].startswith(f"run {run} restarted [running]; spent so far ")
        assert [line.split()[3] for line in lines[1:]] == ["(b-r3):", "(c-r3):", "(d-r3):"]
        bosun(repo, "cancel", str(run))
    finally:
        bosun(repo, "daemon", "stop")


async def test_restart_reopens_by_recorded_cause_and_recreates_the_branch_gc_removed(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    scenario = repo / ".bosun" / "scenario.toml"
    scenario.write_text(
        scenario.read_text()
        + '\n[[reply]]\nrole = "coder"\ntask = "a-r2"\nturn = 1\n[[reply.tool_calls]]\n'
        'name = "write_file"\narguments = { path = "a.txt", content = "again\\n" }\n'
    )
    assert bosun(repo, "daemon", "start").returncode == 0
    try:
        async with await Client.connect(find_workspace(repo).socket_path) as client:
            started = await asyncio.to_thread(bosun, repo, "run", "plan", "--detach", "--json")
            run = json.loads(started.stdout)["id"]
            await asyncio.wait_for(_held(client), 90)
        # Dropped with the very words the cancel uses: a reason's text decides nothing.
        assert bosun(repo, "task", "drop", "d", "--reason", "stop for now").returncode == 0
        assert bosun(repo, "cancel", str(run), "--reason", "stop for now").returncode == 0
        ids = {k: t["id"] for k, t in _tasks(repo, run).items()}
        branch = f"refs/heads/bosun/run-{run}"
        head = _git(repo, "rev-parse", branch)
        # Nothing merged yet, so main holds the run branch's tip: gc takes both branches.
        swept = json.loads(bosun(repo, "gc", "--json").stdout)
        assert {f"bosun/task-{ids['a']}", f"bosun/run-{run}"} <= set(swept["removedBranches"])
        assert _git(repo, "rev-parse", "--verify", "-q", branch, check=False) == ""

        async with await Client.connect(find_workspace(repo).socket_path) as client:
            shown = await asyncio.to_thread(bosun, repo, "restart", str(run), "--json")
            assert shown.returncode == 0, shown.stderr
            reopened = json.loads(shown.stdout)["reopened"]
            assert [t["key"] for t in reopened] == ["a-r2", "b-r2", "c-r2"]  # not the dropped d
            assert _git(repo, "rev-parse", branch) == head  # recreated where it stood
            # The replacement of a got a worktree from it and works: held on its write.
            held = await asyncio.wait_for(_held(client), 90)
        assert held["taskId"] == reopened[0]["id"]
        bosun(repo, "cancel", str(run))
    finally:
        bosun(repo, "daemon", "stop")


def _git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check)
    return done.stdout.strip()
