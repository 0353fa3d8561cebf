"""`bosun replay RUN` on a whole recorded run in a real daemon: the demo run, then its
replay from the recorded base commit with the recorded model answers and human answers
(faithful: no divergence, the same tree, although the branch moved on), and a replay on
the branch as it is now, whose suite fails (it diverges, and the report names the first
divergent call)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE

from .daemon_process import Daemon, bosun_cli, client, git, run_to_end

# Committed on the base branch after the run: the suite gains a test that fails.
FAILING_TEST = """import unittest


class ExtraTest(unittest.TestCase):
    def test_a_later_requirement(self):
        self.assertEqual(1 + 1, 3)
"""


async def recorded_demo_run(d: Daemon) -> dict[str, Any]:
    """The demo run to its end, then a commit on the base branch that breaks the suite."""
    d.start()
    async with client(d) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        final = await run_to_end(c, run["id"])
    assert final["state"] == "completed", final
    (d.repo / "tests" / "test_later.py").write_text(FAILING_TEST)
    git(d.repo, "add", "tests/test_later.py")
    git(d.repo, "commit", "-q", "-m", "a later requirement")
    return final


async def replay(d: Daemon, run_id: int, *args: str) -> tuple[int, dict[str, Any]]:
    out = await asyncio.to_thread(bosun_cli, d.repo, "replay", str(run_id), "--json", *args)
    try:
        return out.returncode, json.loads(out.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"replay printed no report (exit {out.returncode}): {out.stderr[-3000:]}")


async def test_replay_of_the_demo_run_is_faithful_from_its_recorded_base(
    daemon: Daemon,
) -> None:
    original = await recorded_demo_run(daemon)
    head_before = git(daemon.repo, "rev-parse", "HEAD")
    code, report = await replay(daemon, original["id"])
    assert report["divergences"] == []
    assert report["state"] == "completed"
    assert report["baseCommit"] == original["baseCommit"]  # not the moved branch head
    assert report["calls"]["replayed"] == report["calls"]["recorded"] > 0
    tree = git(daemon.repo, "rev-parse", original["headCommit"] + "^{tree}")
    assert report["tree"] == {"original": tree, "replay": tree, "same": True}
    assert code == 0
    async with client(daemon) as c:
        run = (await c.request("bosun/getRun", {"runId": report["replay"]}))["run"]
    assert run["options"]["model"] == f"replay:{original['id']}"
    replayed_tree = git(daemon.repo, "rev-parse", run["headCommit"] + "^{tree}")
    assert replayed_tree == tree
    assert git(daemon.repo, "rev-parse", "HEAD") == head_before  # a replay never lands
    assert "a replay is not landed" in run["reason"]


async def test_replay_on_a_changed_repository_names_the_first_divergent_call(
    daemon: Daemon,
) -> None:
    original = await recorded_demo_run(daemon)
    code, report = await replay(daemon, original["id"], "--base", "head")
    assert code == 1
    assert report["state"] == "cancelled"
    assert report["baseCommit"] != original["baseCommit"]
    [first] = report["divergences"]
    # On head the original run's design document is already there, so the director's
    # write changes nothing: QA's request to its strategist lists no changed file where
    # the recording had one, and the replay says so at that call, naming the field.
    assert first["task"] == "director"
    assert first["call"] == "role=strategist task=director attempt=1 turn=1"
    assert "the request differs at messages[1].content" in first["difference"]
    assert "Files changed: (none listed)" in first["difference"]
    assert report["tree"]["same"] is False
