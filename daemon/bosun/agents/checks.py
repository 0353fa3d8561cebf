"""QA's deterministic checks: the project's test command, found and run in the worktree.

The command comes from config, or is detected from the files the project has
(bosun.agents.detect: make test, npm test, the worktree's pytest, go test, cargo test).
It runs as a worker's `run_command` does: in the sandbox, in its own session, with an
environment free of the daemon's secrets, bounded in time and output, and nothing it
starts survives it.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bosun.agents.api import CheckResult
from bosun.agents.cannot_run import cannot_run_reason
from bosun.agents.detect import detect_test_command
from bosun.agents.suite_parsers import MAX_XML_BYTES, read_results
from bosun.errors import BosunError
from bosun.tools.commands import RunCommandArgs, run_command
from bosun.tools.context import Mounts, ToolContext

_EXIT = re.compile(r"exit code: (-?\d+)")
_TAIL_CHARS = 4000
# QA reads the whole output for per-test results; a worker's command shows less.
_QA_OUTPUT_CHARS = 400_000

__all__ = ["detect_test_command", "run_check"]


def _with_junit(command: str, junit: Path) -> str:
    """`command` with pytest (however deep it runs: make, tox, nox) told to write JUnit XML.

    Through PYTEST_ADDOPTS rather than an argument, so a wrapper needs no change; an
    explicit `--junitxml` in the command comes later and wins (then the output is read).
    """
    addopts = shlex.quote(f"--junitxml={shlex.quote(str(junit))} ")
    return f'export PYTEST_ADDOPTS={addopts}"${{PYTEST_ADDOPTS:-}}"\n{command}'


async def run_check(
    command: str, ctx: ToolContext, *, timeout_s: float | None = None, per_test: bool = True
) -> CheckResult:
    """Run `command` in the worktree of `ctx`; exit code None when it timed out or failed to start.

    It runs through `run_command` itself (sandbox, clean environment, process-tree
    cleanup) but not through the policy: the test command is the owner's, not a model's.
    The JUnit file goes to a directory outside the worktree (never in the diff), made
    writable in the sandbox for this one run.
    """
    limit = timeout_s or ctx.settings.command_max_timeout_s
    with tempfile.TemporaryDirectory(prefix="bosun-qa-") as scratch:
        junit = Path(scratch) / "junit.xml"
        settings = ctx.settings.model_copy(
            update={"output_limit_chars": max(ctx.settings.output_limit_chars, _QA_OUTPUT_CHARS)}
        )
        mounts = Mounts(ctx.mounts.read_only, [*ctx.mounts.writable, Path(scratch)])
        run_ctx = replace(ctx, settings=settings, mounts=mounts)
        line = _with_junit(command, junit) if per_test else command
        started = time.monotonic()
        try:
            result = await run_command(run_ctx, RunCommandArgs(command=line, timeout_s=limit))
        except BosunError as exc:
            why = f"could not run: {exc.message}"
            return CheckResult(command, None, why, cannot_run=why)
        took = round(time.monotonic() - started, 3)
        report = await asyncio.to_thread(_read_junit, junit) if per_test else None
    found = _EXIT.match(result.content)
    code = int(found.group(1)) if found and result.outcome != "timeout" else None
    output = result.content
    results = read_results(output, report)
    had_results = results is not None and (results.failed_count > 0 or bool(results.passed))
    return CheckResult(
        command,
        code,
        output[-_TAIL_CHARS:],
        took,
        results=results,
        cannot_run=cannot_run_reason(code, output, had_results=had_results),
    )


def _read_junit(path: Path) -> bytes | None:
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_XML_BYTES + 1)
    except OSError:
        return None
