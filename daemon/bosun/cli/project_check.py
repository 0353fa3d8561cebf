"""`bosun doctor`'s project checks: the set-up and test command, run once on the base.

A scratch worktree of the base commit (outside the state directory, so a running
daemon never mistakes it for one of its own) gets the set-up a task's worktree would
get, then the test command QA would run, both in the sandbox. What was found is said
plainly: the command, where it came from, exit code, time and the output's last lines.
Tests that fail on the base are reported but do not fail the doctor (a red base is
information); a set-up that fails, or a test command that cannot run, does.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bosun_protocol.entities import Profile

from bosun.agents.checks import run_check
from bosun.agents.detect import detect_test_command, setup_and_source
from bosun.agents.prepare import Preparer
from bosun.config import Settings
from bosun.tools.context import ToolContext
from bosun.tools.project_env import project_env
from bosun.tools.sandbox import Sandbox
from bosun.workspace import Workspace

_CANNOT_RUN = (126, 127)


def _check(name: str, ok: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail, **extra}


def _last_lines(output: str, n: int = 3) -> str:
    body = output.split("---\n", 1)[-1]
    lines = [line for line in body.splitlines() if line.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=300, check=False
    )


async def project_checks(
    ws: Workspace, settings: Settings, sandbox: Sandbox, base: str = "HEAD"
) -> list[dict[str, Any]]:
    """The set-up and test checks on `base` in a scratch worktree (removed after)."""
    commit = _git(ws.root, "rev-parse", "--verify", "-q", f"{base}^{{commit}}").stdout.strip()
    if not commit:
        return [_check("project", False, f"{base} is not a commit of {ws.root}")]
    scratch = Path(tempfile.mkdtemp(prefix="bosun-doctor-"))
    tree = scratch / "worktree"
    added = await asyncio.to_thread(
        _git, ws.root, "worktree", "add", "-q", "--detach", str(tree), commit
    )
    if added.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        return [_check("project", False, f"cannot check out {base}: {added.stderr.strip()}")]
    try:
        return await _run_checks(ws, settings, sandbox, tree, commit[:12])
    finally:
        await asyncio.to_thread(
            _git, ws.root, "worktree", "remove", "--force", "--force", str(tree)
        )
        await asyncio.to_thread(_git, ws.root, "worktree", "prune")
        shutil.rmtree(scratch, ignore_errors=True)


async def _run_checks(
    ws: Workspace, settings: Settings, sandbox: Sandbox, tree: Path, short: str
) -> list[dict[str, Any]]:
    hidden = ws.private_paths()
    preparer = Preparer(settings, ws.root, ws.state_dir, sandbox=sandbox, hidden=hidden)
    checks: list[dict[str, Any]] = []
    command = preparer.setup_command(tree)
    if settings.worktree.setup is not None:
        source = "[worktree] setup"
    else:
        source = "detected from " + setup_and_source(tree, ws.root)[1]
    if command is None:
        checks.append(_check("set-up", True, f"none ({source})"))
    else:
        ws.ensure_state_dir()  # the shared caches live there
        done = await preparer.run(command, tree)
        network = "network on" if settings.worktree.setup_network else "network off"
        detail = (
            f"`{command}` ({source}; {network}) on {short}: exit {done.exit_code} in "
            f"{done.duration_s:.1f} s; {_last_lines(done.output)}"
        )
        checks.append(_check("set-up", done.ok, detail, durationS=done.duration_s))
        if not done.ok:
            return checks
    env = project_env(tree, settings.tools.command_path, tree / ".cache")
    checks.append(_check("environment", True, "; ".join(env.describe())))
    test = settings.engine.test_command
    origin = "engine.test_command"
    if test is None:
        test, origin = detect_test_command(tree, settings.tools), "detected"
    if test is None:
        checks.append(_check("tests", True, "no test command configured or detected"))
        return checks
    ctx = ToolContext(
        run_id=0, task_id=0, attempt=0, worktree_path=tree, branch="",
        profile=Profile.STRATEGIST, settings=settings.tools, sandbox=sandbox,
        hidden_paths=hidden,
    )  # fmt: skip
    ran = await run_check(test, ctx)
    verdict = (
        "pass"
        if ran.exit_code == 0
        else "timed out"
        if ran.exit_code is None
        else "CANNOT RUN"
        if ran.exit_code in _CANNOT_RUN
        else "FAIL on the base"
    )
    detail = (
        f"`{test}` ({origin}) on {short}: {verdict} (exit {ran.exit_code}) in "
        f"{ran.duration_s:.1f} s; {_last_lines(ran.output_tail)}"
    )
    ok = ran.exit_code is not None and ran.exit_code not in _CANNOT_RUN
    checks.append(_check("tests", ok, detail, exitCode=ran.exit_code, durationS=ran.duration_s))
    return checks
