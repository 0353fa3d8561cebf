"""Attempts on a real Ray cluster (a head and two worker nodes on 127.0.0.1, started by
this module): coder tasks run on the worker nodes and land through the daemon; a node
killed under an attempt costs no retry and the attempt runs again on the other node;
the daemon SIGKILLed with remote attempts in flight recovers them."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.client import Client

from tests.integration.engine.crash_support import kill
from tests.integration.engine.daemon_process import RUN_TIMEOUT, Daemon, client, git, run_to_end
from tests.integration.executors.ray_cluster import Cluster
from tests.integration.executors.scripted_runs import events, make_repo, task_ids

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the module (starting one takes ~20 s on two cores)."""
    made = Cluster(tmp_path_factory.mktemp("ray"))
    try:
        made.start()
        yield made
    finally:
        made.stop()


async def _placed(c: Client, run_id: int, key: str, attempt: int) -> str:
    """Where attempt `attempt` of task `key` runs, once its first tool call was made there."""
    while True:
        ids = await task_ids(c, run_id)
        if key in ids:
            called = [d for t, d in await events(c, "tool_call") if t == ids[key]]
            where = [d["where"] for t, d in await events(c, "attempt.placed")
                     if t == ids[key] and d["attempt"] == attempt]  # fmt: skip
            if where and any(d["attempt"] == attempt for d in called):
                return str(where[0])
        await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)  # something moved


def _node_of(cluster: Cluster, where: str) -> str:
    """Which of the test's nodes a placement names (its working directory)."""
    return next(n for n, node in cluster.nodes.items() if str(node.dir) in where)


def _approve(prompt: dict[str, Any]) -> dict[str, Any]:
    # No prompt is expected: retries spent or a question mean the run went off its script.
    raise AssertionError(f"unexpected prompt: {prompt}")


async def test_coder_tasks_run_on_worker_nodes_and_land_through_the_daemon(
    tmp_path: Path, cluster: Cluster
) -> None:
    repo = make_repo(tmp_path, cluster.address, ["a", "b"], {})
    daemon = Daemon(repo)
    daemon.start()
    try:
        async with client(daemon) as c:
            run = (await c.request("bosun/createRun", {"objective": "record where"}))["run"]
            ended = await run_to_end(c, run["id"], _approve)
            placed = [d["where"] for _, d in await events(c, "attempt.placed")]
        assert ended["state"] == "completed", ended
    finally:
        daemon.stop()
    for key in ("a", "b"):
        # Landed on main by the daemon; the path is the worktree on a worker node.
        where = git(repo, "show", f"main:where-{key}.txt")
        node = _node_of(cluster, where)
        assert node in ("w1", "w2"), where
        assert where.startswith(str(cluster.nodes[node].dir / "attempts")), where
        # The node's worktree was removed after the attempt.
        assert not await asyncio.to_thread(os.path.exists, where)
    assert placed and all(w.startswith("ray:") for w in placed)
    assert not any(str(repo) in w for w in placed)  # no daemon path on the nodes


async def test_a_worker_node_killed_mid_attempt_is_rerun_on_the_other_without_a_retry(
    tmp_path: Path, cluster: Cluster
) -> None:
    # No retries at all: a lost node that counted would send the task to a human.
    repo = make_repo(tmp_path, cluster.address, ["slow"], {"slow": 5.0}, retries=0)
    daemon = Daemon(repo)
    daemon.start()
    try:
        async with client(daemon) as c:
            run = (await c.request("bosun/createRun", {"objective": "survive a node"}))["run"]
            first = _node_of(cluster, await _placed(c, run["id"], "slow", 1))
            cluster.nodes[first].kill()
            await _crashed_then_landed(c, run["id"], "slow")
    finally:
        daemon.stop()
    where = git(repo, "show", "main:where-slow.txt")
    assert _node_of(cluster, where) != first  # the rerun ran on the surviving node
    cluster.start_node(first, f"--address={cluster.address}", "--num-cpus=1",
                       f'--resources={json.dumps({"bosun": 1, first: 1})}')  # fmt: skip


async def test_the_daemon_killed_with_remote_attempts_in_flight_recovers_them(
    tmp_path: Path, cluster: Cluster
) -> None:
    repo = make_repo(tmp_path, cluster.address, ["held"], {"held": 30.0})
    daemon = Daemon(repo)
    daemon.start()
    try:
        async with client(daemon) as c:
            run = (await c.request("bosun/createRun", {"objective": "survive a crash"}))["run"]
            where = await _placed(c, run["id"], "held", 1)
        await kill(daemon)
        # The actor belonged to the dead daemon's Ray job: Ray ends it with the job.
        pid = int(where.split(":pid", 1)[1].split(":", 1)[0])
        await _gone(pid)
        daemon.start()
        async with client(daemon) as c:
            await _crashed_then_landed(c, run["id"], "held")
    finally:
        daemon.stop()
    assert _node_of(cluster, git(repo, "show", "main:where-held.txt")) in ("w1", "w2")


async def _crashed_then_landed(c: Client, run_id: int, key: str) -> None:
    """The run completes, and task `key`'s first attempt crashed and its last passed QA."""
    ended = await run_to_end(c, run_id, _approve)
    assert ended["state"] == "completed", ended
    task_id = (await task_ids(c, run_id))[key]
    task = await c.request("bosun/getTask", {"taskId": task_id})
    attempts = {a["number"]: a["outcome"] for a in task["attempts"]}
    assert attempts[1] == "crashed", attempts
    assert list(attempts.values())[-1] == "qa_passed", attempts


async def _gone(pid: int) -> None:
    """Wait (bounded) until process `pid` has exited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RUN_TIMEOUT
    while loop.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.2)  # a process of Ray's: no event to wait on
    raise AssertionError(f"the dead daemon's actor (pid {pid}) is still running")
