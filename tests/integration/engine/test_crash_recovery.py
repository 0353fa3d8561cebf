"""Crash safety of the engine in a real daemon running the demo scenario (scripted model).

Every engine failpoint in turn: the daemon SIGKILLs itself there, the board is read as
the crash left it, the daemon is restarted and the run driven to its end over the
protocol. Then nothing may be lost or half-done: attempts, retry counts, merges,
worktrees, journal entries, commits. Also: prompts open at crash time, and the Phoenix
worktree reset keeping the earlier attempt's commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.cli.demo_command import OBJECTIVE, make_sample_repo
from bosun.client import Client
from bosun.engine import points
from bosun.engine.phoenix import COUNTED
from bosun.engine.recovery import EXPIRED
from bosun.git.repository import ATTEMPTS_PREFIX
from bosun_protocol.entities import AttemptOutcome, RunState, TaskState

from tests.integration.engine.crash_support import (
    BoardView,
    crash_answer,
    exit_status,
    git_run,
    kill,
    read_board,
    tolerate_attempt_shifts,
)
from tests.integration.engine.daemon_process import Daemon, client, run_to_end
from tests.unit.engine.scripted import Harness, ScriptedRunner

pytestmark = pytest.mark.timeout(300)  # two daemon lifetimes on two shared cores

# Board journal kinds that must be empty once a run is over: open prompts, reports
# awaiting QA or review, merge conflicts in progress, the git plane's merge intents.
TRANSIENT_JOURNALS = {"prompt", "report", "merger", "merge"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The demo's sample repository, its scenario tolerating a crash's spent attempt."""
    path = tmp_path / "sample"
    path.mkdir()
    make_sample_repo(path)
    tolerate_attempt_shifts(path)
    return path


async def _create_and_answer(c: Client) -> None:
    await c.request("bosun/createRun", {"objective": OBJECTIVE})
    # The run is the board's first; its id is read from the board after the crash, as
    # createRun itself does not answer when the kill comes inside it (run.started).
    await run_to_end(c, 1, crash_answer)


async def _until_killed(daemon: Daemon, drive: Callable[[Client], Awaitable[Any]]) -> int:
    """Drive the daemon until it dies; its exit status."""
    async with client(daemon) as c:
        driving = asyncio.ensure_future(drive(c))
        try:
            status = await exit_status(daemon)
        finally:
            driving.cancel()
            with contextlib.suppress(BaseException):
                await driving
    return status


def _expected_crashes(before: BoardView) -> set[tuple[int, int]]:
    """Attempts the crash interrupted: a leased task's attempt not closed yet."""
    return {
        (tid, t["attempt"])
        for tid, t in before.tasks.items()
        if t["state"] == TaskState.ACTIVE.value
        and t["attempt"] > 0
        and before.attempts.get((tid, t["attempt"]), "running") == "running"
    }


def _check_attempts(before: BoardView, after: BoardView) -> None:
    for (tid, n), outcome in before.attempts.items():
        # no lost attempt; a closed one keeps its outcome
        assert (tid, n) in after.attempts, (tid, n)
        if outcome != "running":
            assert after.attempts[(tid, n)] == outcome, (tid, n)
    for tid, task in after.tasks.items():
        numbers = sorted(after.attempts_of(tid))
        assert numbers == list(range(1, task["attempt"] + 1)), (task["key"], numbers)
        assert "running" not in after.attempts_of(tid).values(), task["key"]
        counted = [o for o in after.attempts_of(tid).values() if o in {c.value for c in COUNTED}]
        assert len(counted) <= task["max_retries"], (task["key"], counted)
    # The crash counts once per interrupted attempt: that attempt (no other number) is
    # closed as crashed, and the task went on as the next attempt.
    crashed = {k for k, o in after.attempts.items() if o == AttemptOutcome.CRASHED.value}
    assert crashed == _expected_crashes(before)
    for tid, n in crashed:
        assert after.tasks[tid]["attempt"] >= n + 1, after.tasks[tid]["key"]


def _check_git(repo: Path, before: BoardView, after: BoardView, run_id: int) -> None:
    run = after.runs[run_id]
    tip = run["head_commit"]  # the run branch itself goes once landed (gc, at a restart)
    branch = run["run_branch"]
    if git_run(repo, "rev-parse", "-q", "--verify", branch, check=False).returncode == 0:
        assert git_run(repo, "rev-parse", branch).stdout.strip() == tip
    assert git_run(repo, "merge-base", "--is-ancestor", run["base_commit"], tip).returncode == 0
    assert git_run(repo, "merge-base", "--is-ancestor", tip, "main").returncode == 0  # landed
    assert git_run(repo, "rev-parse", "-q", "--verify", "MERGE_HEAD", check=False).returncode != 0
    listing = git_run(repo, "worktree", "list", "--porcelain").stdout
    assert "prunable" not in listing, listing
    task_trees = [line for line in listing.splitlines() if "/.bosun/worktrees/task-" in line]
    assert task_trees == [], listing  # every task is finished: none keeps a worktree
    assert all(t["worktree"] is None for t in after.tasks.values())
    assert [j for j in after.journal if j[0] in TRANSIENT_JOURNALS] == []
    kept = git_run(repo, "for-each-ref", "--format=%(refname)", ATTEMPTS_PREFIX).stdout.split()
    for sha in before.commits | after.commits:  # no lost commit
        assert any(
            git_run(repo, "merge-base", "--is-ancestor", sha, ref, check=False).returncode == 0
            for ref in [tip, *kept]
        ), sha


@pytest.mark.parametrize("failpoint", points.FAILPOINTS)
async def test_sigkill_at_every_engine_failpoint_then_restart_loses_nothing_and_completes(
    daemon: Daemon, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failpoint: str
) -> None:
    hit = tmp_path / "hit"
    monkeypatch.setenv("BOSUN_FAILPOINTS", failpoint)
    monkeypatch.setenv("BOSUN_FAILPOINTS_HIT", str(hit))
    daemon.start()
    assert await _until_killed(daemon, _create_and_answer) == -signal.SIGKILL
    assert hit.read_text().split() == [failpoint]
    before = await read_board(daemon.ws)
    [run_id] = before.runs
    monkeypatch.delenv("BOSUN_FAILPOINTS")
    daemon.start()
    async with client(daemon) as c:
        final = await run_to_end(c, run_id, crash_answer)
    assert final["state"] == RunState.COMPLETED.value, final
    after = await _left_behind(daemon, repo, before, run_id)
    if failpoint == points.TASK_LEASED:
        assert _expected_crashes(before)  # the kill came with an attempt leased
    if failpoint == points.HUMAN_ASKED:
        # the question asked just before the crash survived: answered, not retried blind
        readme = next(t for t in after.tasks.values() if t["key"] == "readme")
        outcomes = after.attempts_of(readme["id"])
        assert [outcomes[n] for n in sorted(outcomes)] == ["interrupted", "qa_passed"]


async def _left_behind(daemon: Daemon, repo: Path, before: BoardView, run_id: int) -> BoardView:
    """The board after the run completed, checked: every task complete, attempts closed
    as they should be, git clean. The daemon is stopped first: its start-up
    reconciliation may still be tidying git in the background, and what is checked is
    what the daemon leaves behind."""
    await asyncio.to_thread(daemon.stop)
    after = await read_board(daemon.ws)
    assert {t["state"] for t in after.tasks.values()} == {TaskState.COMPLETE.value}
    _check_attempts(before, after)
    await asyncio.to_thread(_check_git, repo, before, after, run_id)
    return after


async def test_sigkill_after_an_agents_question_closed_its_attempt_keeps_the_question_for_a_human(
    daemon: Daemon, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Armed for the interrupted outcome only: the readme worker's ask_human, not the
    # director's attempt that reaches engine.attempt.finished first.
    hit = tmp_path / "hit"
    monkeypatch.setenv("BOSUN_FAILPOINTS", f"{points.ATTEMPT_FINISHED}@interrupted")
    monkeypatch.setenv("BOSUN_FAILPOINTS_HIT", str(hit))
    daemon.start()
    assert await _until_killed(daemon, _create_and_answer) == -signal.SIGKILL
    assert hit.read_text().split() == [points.ATTEMPT_FINISHED]
    before = await read_board(daemon.ws)
    [run_id] = before.runs
    readme = next(t for t in before.tasks.values() if t["key"] == "readme")
    assert readme["state"] == TaskState.ACTIVE.value and readme["profile"] != "director"
    assert before.attempts_of(readme["id"]) == {1: AttemptOutcome.INTERRUPTED.value}
    assert [kind for kind, _ in before.journal].count("prompt") == 1  # journaled, unlisted
    monkeypatch.delenv("BOSUN_FAILPOINTS")
    daemon.start()
    async with client(daemon) as c:
        question = await _open_prompt(c, "ask_human", readme["id"])
        assert "README" in question["reason"]
        task = (await c.request("bosun/getTask", {"taskId": readme["id"]}))["task"]
        assert task["state"] == TaskState.WAITING_HUMAN.value
        final = await run_to_end(c, run_id, crash_answer)
        events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
    assert final["state"] == RunState.COMPLETED.value, final
    after = await _left_behind(daemon, repo, before, run_id)
    outcomes = after.attempts_of(readme["id"])
    # answered, not retried blind: no crashed attempt, the answer reached attempt 2
    assert [outcomes[n] for n in sorted(outcomes)] == ["interrupted", "qa_passed"]
    asked = [e for e in events if e["kind"] == "human.prompt" and e["taskId"] == readme["id"]]
    assert [e["data"]["promptId"] for e in asked] == [question["promptId"]]  # asked once


# -- prompts open when the daemon dies ---------------------------------------------------


async def _open_prompt(c: Client, kind: str, task_id: int | None = None) -> Any:
    """The first open prompt of `kind` (about `task_id`), waiting for one if need be."""
    while True:
        for prompt in (await c.request("bosun/humanQueue", {}))["prompts"]:
            if prompt["kind"] == kind and task_id in (None, prompt["taskId"]):
                return prompt
        await asyncio.wait_for(c.notifications.get(), 120)


def _ask_before_running_tests(repo: Path) -> None:
    config = repo / ".bosun" / "config.toml"
    rule = '\n[[tools.policy]]\naction = "ask"\ntool = "run_command"\ncommand = "*unittest*"\n'
    config.write_text(config.read_text() + rule)


async def test_tool_approval_open_at_a_crash_expires_with_a_notice_and_the_next_attempt_asks_again(
    daemon: Daemon, repo: Path
) -> None:
    _ask_before_running_tests(repo)
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        first = await _open_prompt(c, "tool_approval")
    await kill(daemon)
    daemon.start()
    async with client(daemon) as c:
        queue = (await c.request("bosun/humanQueue", {}))["prompts"]
        assert first["promptId"] not in [p["promptId"] for p in queue]
        events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
        [closed] = [
            e["data"]
            for e in events
            if e["kind"] == "human.answered" and e["data"]["promptId"] == first["promptId"]
        ]
        assert closed["by"] == EXPIRED and closed["action"] == "deny"
        again = await _open_prompt(c, "tool_approval", first["taskId"])
        assert again["promptId"] != first["promptId"]
        # the attempt that waited died with the daemon: the call is asked by the next one
        assert again["approval"]["attempt"] == first["approval"]["attempt"] + 1
        assert again["approval"]["tool"] == first["approval"]["tool"]
        final = await run_to_end(c, run["id"], crash_answer)
    assert final["state"] == RunState.COMPLETED.value, final
    after = await read_board(daemon.ws)
    outcomes = after.attempts_of(first["taskId"])
    assert outcomes[first["approval"]["attempt"]] == AttemptOutcome.CRASHED.value


async def test_question_open_at_a_crash_survives_the_restart_and_is_answerable(
    daemon: Daemon,
) -> None:
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        question = await _open_prompt(c, "ask_human")
        task = (await c.request("bosun/getTask", {"taskId": question["taskId"]}))["task"]
        assert task["state"] == TaskState.WAITING_HUMAN.value
    await kill(daemon)
    daemon.start()
    async with client(daemon) as c:
        queue = (await c.request("bosun/humanQueue", {"runId": run["id"]}))["prompts"]
        assert [p["promptId"] for p in queue if p["kind"] == "ask_human"] == [question["promptId"]]
        task = (await c.request("bosun/getTask", {"taskId": question["taskId"]}))["task"]
        assert task["state"] == TaskState.WAITING_HUMAN.value
        answered = await c.request(
            "bosun/resolveTask",
            {"promptId": question["promptId"], "action": "retry", "guidance": "plain code"},
        )
        assert answered["task"]["state"] in ("ready", "active")
        final = await run_to_end(c, run["id"], crash_answer)
    assert final["state"] == RunState.COMPLETED.value, final
    after = await read_board(daemon.ws)
    outcomes = after.attempts_of(question["taskId"])
    # the waiting task had no attempt running: nothing of it counts as crashed
    assert AttemptOutcome.CRASHED.value not in outcomes.values()
    assert outcomes[max(outcomes)] == AttemptOutcome.QA_PASSED.value


# -- Phoenix's worktree reset keeps the earlier attempt's commits --------------------------


async def test_worktree_reset_between_attempts_keeps_the_first_attempts_commit_reachable(
    git_engine: Callable[..., Awaitable[Harness]], git_repo: Path
) -> None:
    async def broken(req: AttemptRequest) -> AttemptReport:
        (req.worktree / "first.txt").write_text("attempt 1\n")
        return AttemptReport(outcome=AttemptOutcome.ERROR, error="it broke")

    async def fresh(req: AttemptRequest) -> AttemptReport:
        assert not (req.worktree / "first.txt").exists()  # started over on the run's head
        (req.worktree / "second.txt").write_text("attempt 2\n")
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary="second try")

    runner = ScriptedRunner(steps={"director": [broken, fresh]})
    h = await git_engine(runner, worktree_between_attempts="reset")
    run = await h.run("reset between attempts")
    await h.wait_run(run.id, {RunState.COMPLETED}, timeout=60)
    director = await h.store.get_task_by_key(run.id, "director")
    events, _ = await h.store.events_since(0, 10_000)
    [first] = [
        ev.data["commit"]
        for ev in events
        if ev.kind == "task.committed" and ev.task_id == director.id and ev.data["attempt"] == 1
    ]
    refs = git_run(git_repo, "for-each-ref", "--format=%(refname) %(objectname)", ATTEMPTS_PREFIX)
    # kept under the attempt whose work it was, not the one that reset it
    assert refs.stdout.split("\n")[0] == f"{ATTEMPTS_PREFIX}task-{director.id}/1 {first}"
    assert (git_repo / "second.txt").exists() and not (git_repo / "first.txt").exists()
