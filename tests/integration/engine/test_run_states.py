"""The run states a client sees over the protocol: `planning` while the director and
planners decompose the objective, `running` once a worker task is dispatched; pause,
resume and cancel from planning; a daemon killed while a run plans."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE
from bosun.client import DaemonNotRunning
from bosun.engine import points

from .daemon_process import RUN_TIMEOUT, Daemon, bosun_cli, client, next_notification, run_to_end

PLANNERS = ("director", "planner")


def run_states(seen: list[tuple[str, dict[str, Any]]], run_id: int) -> list[str]:
    """The run's states in the order runChanged told them, repeats folded."""
    states: list[str] = []
    for method, params in seen:
        if method == "bosun/runChanged" and params["run"]["id"] == run_id:
            state = params["run"]["state"]
            if not states or states[-1] != state:
                states.append(state)
    return states


async def test_run_is_planning_until_a_worker_task_is_dispatched_then_running(
    daemon: Daemon,
) -> None:
    daemon.start()
    async with client(daemon) as c:
        seen: list[tuple[str, dict[str, Any]]] = []
        c.on_notification(lambda method, params: seen.append((method, params)))
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        assert run["state"] == "planning"
        final = await run_to_end(c, run["id"])
        assert final["state"] == "completed", final
        assert run_states(seen, run["id"]) == [
            "pending",
            "planning",
            "running",
            "landing",
            "completed",
        ]
        events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
        mine = [e for e in events if e.get("runId") == run["id"]]
        detail = await c.request("bosun/getRun", {"runId": run["id"]})
        profiles = {t["id"]: t["profile"] for t in detail["tasks"]}
        leases = [e for e in mine if e["kind"] == "task.transition" and e["data"]["to"] == "active"]
        first_worker = next(e for e in leases if profiles[e["taskId"]] not in PLANNERS)
        flip = next(e for e in mine if e["kind"] == "run.running")
        # planning lasted while only planners were leased; the first worker's lease ended it
        assert all(
            profiles[e["taskId"]] in PLANNERS
            for e in leases
            if e is not first_worker and e["seq"] < first_worker["seq"]
        )
        assert first_worker["seq"] < flip["seq"]
        keys = {t["key"]: t["profile"] for t in detail["tasks"]}
        assert keys[flip["data"]["firstWorker"]] not in PLANNERS


async def test_a_planning_run_pauses_resumes_to_planning_and_cancels(daemon: Daemon) -> None:
    # The director's first write waits for an approval: the run stays planning meanwhile.
    config = daemon.repo / ".bosun" / "config.toml"
    config.write_text(
        config.read_text() + '\n[[tools.policy]]\naction = "ask"\ntool = "write_file"\n'
    )
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        rid = run["id"]
        await next_notification(
            c, lambda m, p: m == "bosun/humanPrompt" and p["prompt"]["kind"] == "tool_approval"
        )
        status = await asyncio.to_thread(bosun_cli, daemon.repo, "status")
        assert f"run {rid} [planning]" in status.stdout, status.stdout + status.stderr
        paused = (await c.request("bosun/pauseRun", {"runId": rid}))["run"]
        assert paused["state"] == "paused"
        resumed = (await c.request("bosun/resumeRun", {"runId": rid}))["run"]
        assert resumed["state"] == "planning"  # no worker task was dispatched yet
        replan = (await c.request("bosun/replan", {"runId": rid, "guidance": "also X"}))["task"]
        assert replan["profile"] == "planner"
        cancelled = (await c.request("bosun/cancelRun", {"runId": rid}))["run"]
        assert cancelled["state"] == "cancelled"
        assert (await c.request("bosun/humanQueue", {"runId": rid}))["prompts"] == []
        tasks = (await c.request("bosun/getRun", {"runId": rid}))["tasks"]
        assert {t["state"] for t in tasks} == {"abandoned"}


async def test_a_daemon_killed_while_its_run_plans_recovers_and_the_run_completes(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hit = tmp_path / "hit"
    monkeypatch.setenv("BOSUN_FAILPOINTS", points.RUN_STARTED)
    monkeypatch.setenv("BOSUN_FAILPOINTS_HIT", str(hit))
    daemon.start()
    async with client(daemon) as c:
        with pytest.raises(DaemonNotRunning):  # the daemon dies before it answers
            await c.request("bosun/createRun", {"objective": OBJECTIVE})
    assert daemon.proc is not None
    assert await asyncio.to_thread(daemon.proc.wait, RUN_TIMEOUT) == -signal.SIGKILL
    assert hit.read_text().split() == [points.RUN_STARTED]
    monkeypatch.delenv("BOSUN_FAILPOINTS")
    daemon.start()
    async with client(daemon) as c:
        seen: list[tuple[str, dict[str, Any]]] = []
        c.on_notification(lambda method, params: seen.append((method, params)))
        [run] = (await c.request("bosun/listRuns", {}))["runs"]
        assert run["state"] in ("planning", "running")  # recovered as it was, and going on
        final = await run_to_end(c, run["id"])
        assert final["state"] == "completed", final
        # Running already when listed, or told so after: either way it got there.
        assert "running" in [run["state"], *run_states(seen, run["id"])]
        tasks = (await c.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
        assert [t["key"] for t in tasks].count("director") == 1
        assert {t["state"] for t in tasks} == {"complete"}
