"""QA's deterministic checks: the project's test command, found and run in the worktree.

The command comes from config, or is detected from the files the project has
(bosun.agents.detect: make test, npm test, the worktree's pytest, go test, cargo test).
It runs as a worker's `run_command` does: in the sandbox, in its own session, with an
environment free of the daemon's secrets, bounded in time and output, and nothing it
starts survives it.
"""

from __future__ import annotations

import re
import time

from bosun.agents.api import CheckResult
from bosun.agents.detect import detect_test_command
from bosun.errors import BosunError
from bosun.tools.commands import RunCommandArgs, run_command
from bosun.tools.context import ToolContext

_EXIT = re.compile(r"exit code: (-?\d+)")
_TAIL_CHARS = 4000

__all__ = ["detect_test_command", "run_check"]


async def run_check(
    command: str, ctx: ToolContext, *, timeout_s: float | None = None
) -> CheckResult:
    """Run `command` in the worktree of `ctx`; exit code None when it timed out or failed to start.

    It runs through `run_command` itself (sandbox, clean environment, process-tree
    cleanup) but not through the policy: the test command is the owner's, not a model's.
    """
    limit = timeout_s or ctx.settings.command_max_timeout_s
    started = time.monotonic()
    try:
        result = await run_command(ctx, RunCommandArgs(command=command, timeout_s=limit))
    except BosunError as exc:
        return CheckResult(command, None, f"could not run: {exc.message}")
    took = round(time.monotonic() - started, 3)
    found = _EXIT.match(result.content)
    code = int(found.group(1)) if found and result.outcome != "timeout" else None
    return CheckResult(command, code, result.content[-_TAIL_CHARS:], took)
