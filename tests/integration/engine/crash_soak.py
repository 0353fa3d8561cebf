"""The crash soak: a real daemon SIGKILLed at random moments of the demo run, restarted
each time, with the invariants checked after every kill and once the run completed.

Random moments come from the run itself: each round kills the daemon after a random
number of board notifications (1..`max_notes`), so no round waits on a clock. Used by
`test_crash_soak.py` (a short form in the suite) and `bench/engine_crash_soak.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bosun.cli.demo_command import OBJECTIVE, make_sample_repo
from bosun.own_files import is_temp_file, scratch_base
from bosun.workspace import STATE_DIR_NAME

from tests.integration.engine.crash_support import (
    BoardView,
    exit_status,
    git_run,
    kill,
    read_board,
    tolerate_attempt_shifts,
)
from tests.integration.engine.daemon_process import Daemon, client, run_to_end

_ENDED = ("completed", "failed", "cancelled")


@dataclass
class SoakReport:
    """What one episode (one run, killed `kills` times) did."""

    kills: int = 0
    mid_run_kills: int = 0  # kills that came before the run had ended
    failpoint_kills: int = 0
    notes_before_kill: list[int] = field(default_factory=list)
    final_state: str = ""
    attempts: int = 0


def soak_answer(prompt: dict[str, Any]) -> dict[str, Any]:
    """Approvals approved; the demo's README question and anything a crash loop raises
    (retries spent, QA that could not run) answered with a retry."""
    if prompt["kind"] == "tool_approval":
        return {"action": "approve"}
    return {"action": "retry", "guidance": "plain code"}


def new_repo(root: Path) -> Path:
    """The demo's sample repository, its scenario tolerating spent attempt numbers."""
    root.mkdir(parents=True)
    make_sample_repo(root)
    tolerate_attempt_shifts(root)
    return root


def check_after_kill(repo: Path, board: BoardView) -> None:
    """What must hold whenever the daemon died, whatever it was doing."""
    for tid, task in board.tasks.items():
        numbers = sorted(board.attempts_of(tid))
        # Numbered exactly: 1..n, n the task's attempt (or n-1: leased, not yet opened).
        assert numbers == list(range(1, len(numbers) + 1)), (task["key"], numbers)
        assert len(numbers) in (task["attempt"], task["attempt"] - 1), (task["key"], numbers)
    check_commits(repo)
    merge_head = git_run(repo, "rev-parse", "-q", "--verify", "MERGE_HEAD", check=False)
    assert merge_head.returncode != 0, "a half-done merge in the user's checkout"


def check_commits(repo: Path) -> None:
    """No file Bosun made for itself is in any commit of any ref."""
    names = git_run(repo, "log", "--all", "--format=", "--name-only").stdout.split("\n")
    own = [
        n
        for n in names
        if n and (n.split("/")[0] == STATE_DIR_NAME or is_temp_file(n.rsplit("/", 1)[-1]))
    ]
    assert own == [], own


def check_completed(repo: Path, board: BoardView) -> None:
    """What the completed run leaves: finished work, closed attempts, nothing of ours."""
    assert {t["state"] for t in board.tasks.values()} == {"complete"}
    for tid, task in board.tasks.items():
        outcomes = board.attempts_of(tid)
        assert sorted(outcomes) == list(range(1, task["attempt"] + 1)), task["key"]
        assert "running" not in outcomes.values(), task["key"]
    check_commits(repo)
    listing = git_run(repo, "worktree", "list", "--porcelain").stdout
    assert "prunable" not in listing and "/.bosun/worktrees/task-" not in listing, listing
    status = git_run(repo, "status", "--porcelain", "--untracked-files=all").stdout
    assert not [line for line in status.splitlines() if ".bosun-" in line], status


def check_scratch(repo: Path) -> None:
    """Only the last boot's scratch directory may remain, and empty of commands."""
    base = scratch_base(repo)
    boots = sorted(p for p in base.iterdir()) if base.exists() else []
    assert len(boots) <= 1, boots
    for boot in boots:
        assert [c.name for c in boot.iterdir()] == [], list(boot.iterdir())


async def _kill_after(daemon: Daemon, notes: int) -> tuple[int, bool]:
    """Drive the run and SIGKILL the daemon after `notes` notifications; how many came,
    and whether the run was still going at the kill."""
    seen = 0
    going = True
    async with client(daemon) as driver, client(daemon) as watcher:
        run = (await driver.request("bosun/listRuns", {}))["runs"]
        if not run:
            await driver.request("bosun/createRun", {"objective": OBJECTIVE})
        driving = asyncio.ensure_future(run_to_end(driver, 1, soak_answer))
        try:
            while seen < notes and not driving.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.notifications.get(), 5)
                    seen += 1
                    continue
                state = (await watcher.request("bosun/getRun", {"runId": 1}))["run"]["state"]
                if state in _ENDED:
                    going = False
                    break
            going = going and not driving.done()
        finally:
            await kill(daemon)
            driving.cancel()
            with contextlib.suppress(BaseException):
                await driving
    return seen, going


async def _kill_at_failpoint(daemon: Daemon, name: str) -> bool:
    """Run with failpoint `name` armed until the daemon dies there or the run ends."""
    async with client(daemon) as driver:
        if not (await driver.request("bosun/listRuns", {}))["runs"]:
            await driver.request("bosun/createRun", {"objective": OBJECTIVE})
        driving = asyncio.ensure_future(run_to_end(driver, 1, soak_answer))
        dying = asyncio.ensure_future(exit_status(daemon))
        await asyncio.wait({driving, dying}, return_when=asyncio.FIRST_COMPLETED)
        if driving.done() and driving.exception() is None:
            killed = False  # the run ended without reaching the failpoint
        else:
            # The driver sees the connection drop as the daemon dies: wait for its status.
            killed = await dying == -signal.SIGKILL
        for t in (driving, dying):
            t.cancel()
            with contextlib.suppress(BaseException):
                await t
    if daemon.proc is not None and daemon.proc.poll() is None:
        await kill(daemon)
    return killed


async def episode(
    repo: Path,
    kills: int,
    rng: random.Random,
    *,
    max_notes: int = 40,
    failpoint: str | None = None,
    set_env: Callable[[str, str | None], None],
) -> SoakReport:
    """One demo run on `repo`, killed `kills` times at random (and once at `failpoint`
    first, when given), then driven to its end; every invariant checked on the way."""
    report = SoakReport()
    daemon = Daemon(repo)
    try:
        if failpoint is not None:
            set_env("BOSUN_FAILPOINTS", failpoint)
            daemon.start()
            if await _kill_at_failpoint(daemon, failpoint):
                report.failpoint_kills += 1
            set_env("BOSUN_FAILPOINTS", None)
            check_after_kill(repo, await read_board(daemon.ws))
        for _ in range(kills):
            daemon.start()
            seen, going = await _kill_after(daemon, rng.randint(1, max_notes))
            report.notes_before_kill.append(seen)
            report.kills += 1
            report.mid_run_kills += going
            check_after_kill(repo, await read_board(daemon.ws))
        daemon.start()
        async with client(daemon) as c:
            final = await run_to_end(c, 1, soak_answer)
        report.final_state = final["state"]
    finally:
        await asyncio.to_thread(daemon.stop)
    board = await read_board(daemon.ws)
    report.attempts = len(board.attempts)
    assert report.final_state == "completed", report
    check_completed(repo, board)
    check_scratch(repo)
    return report
