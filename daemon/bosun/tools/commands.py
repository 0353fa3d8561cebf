"""`run_command`: a shell command in the task's worktree, sandboxed, bounded, and reaped."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from bosun.own_files import make_scratch
from bosun.tools.context import ToolContext
from bosun.tools.errors import ToolError
from bosun.tools.ns_leftovers import read_count
from bosun.tools.process import ProcessOutcome, run_process
from bosun.tools.project_env import project_env
from bosun.tools.registry import Tool
from bosun.tools.results import ToolResult
from bosun.tools.sandbox import Sandbox, current_sandbox
from bosun.tools.sandbox_session import SandboxBroken, SandboxSession
from bosun.tools.settings import ToolSettings

log = logging.getLogger(__name__)

MARKER_VAR = "BOSUN_COMMAND_ID"
_SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


class RunCommandArgs(BaseModel):
    """Arguments of run_command."""

    command: str = Field(min_length=1, max_length=20_000, description="a bash command line")
    timeout_s: float | None = Field(
        default=None, gt=0, description="time limit in seconds (default and maximum from settings)"
    )
    workdir: str = Field(default="", description="directory relative to the worktree root")


def command_env(
    settings: ToolSettings, tmp: Path, marker: str, *, worktree: Path | None = None,
    cache: Path | None = None,
) -> dict[str, str]:  # fmt: skip
    """The whole environment a command gets: an allowlist, never the daemon's secrets.

    With `worktree`, PATH starts with the project's own tools (project_env) and tools'
    caches go to `cache` (default: inside `tmp`), a directory private to the sandbox.
    """
    project = None
    if worktree is not None:
        cache = cache or tmp / ".cache"
        # Made here: a tool that creates only its own directory needs the parent to exist.
        with contextlib.suppress(OSError):
            cache.mkdir(parents=True, exist_ok=True)
        project = project_env(worktree, settings.command_path, cache)
    env = {
        "PATH": project.path if project is not None else settings.command_path,
        "HOME": str(tmp),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "PAGER": "cat",
        "GIT_PAGER": "cat",
        "GIT_TERMINAL_PROMPT": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        MARKER_VAR: marker,
    }
    if project is not None:
        env.update(project.variables)
    for name in settings.env_passthrough:
        value = os.environ.get(name)
        if value is not None:
            env[name] = value
    return env


def sandbox_of(ctx: ToolContext) -> Sandbox:
    """The sandbox a context's commands run in."""
    if ctx.sandbox is not None:
        return ctx.sandbox
    return current_sandbox(ctx.settings.sandbox, ctx.settings.allow_weak_sandbox)


def hidden_paths(ctx: ToolContext) -> list[Path]:
    """What commands must not see: the daemon's state, the socket, `sandbox_hide`."""
    extra = [Path(os.path.expanduser(p)) for p in ctx.settings.sandbox_hide]
    return [*ctx.hidden_paths, *extra]


def _describe(out: ProcessOutcome, limit: float, max_limit: float) -> str:
    text = out.output.decode("utf-8", errors="replace")
    shown = f"{out.total_bytes} bytes" if out.total_bytes else "no output"
    if out.timed_out:
        head = (
            f"TIMED OUT after {limit:g} s: the command and every process it started were stopped.\n"
            "Commands cannot keep running after they return. If this was a server or a watcher, "
            "do not run it on its own: start it and its check in one command and stop it there "
            "(e.g. `srv & pid=$!; sleep 1; curl ...; kill $pid`), or bound it with `timeout 10 ...`. "
            f"If it is only slow, pass a larger timeout_s (at most {max_limit:g})."
        )
    else:
        head = f"exit code: {out.exit_code}"
        if out.leftovers_killed:
            head += f" ({out.leftovers_killed} background process(es) it left were stopped)"
    return f"{head}\n--- output ({shown}, {out.duration_s:.2f} s) ---\n{text}"


async def run_command(ctx: ToolContext, args: RunCommandArgs) -> ToolResult:
    """Run the command; the result states exit code, duration and (bounded) output."""
    settings = ctx.settings
    max_limit = settings.command_max_timeout_s
    limit = min(args.timeout_s or settings.command_timeout_s, max_limit)
    parts = ctx.worktree.split(args.workdir, allow_root=True)
    with ctx.worktree.directory(parts):
        pass  # refuses a workdir reached through a link, or missing
    cwd = ctx.worktree.root.joinpath(*parts)
    marker = secrets.token_hex(12)
    session = ctx.session
    if session is not None:
        out = await _in_session(session, ctx, args.command, cwd, limit, marker)
    else:
        out = await _alone(ctx, args.command, cwd, limit, marker)
    result = ToolResult(_describe(out, limit, max_limit))
    if out.timed_out:
        result.is_error, result.outcome = True, "timeout"
    elif out.exit_code != 0:
        result.is_error = True
    return result


async def _in_session(
    session: SandboxSession, ctx: ToolContext, command: str, cwd: Path, limit: float, marker: str
) -> ProcessOutcome:
    """In the attempt's sandbox, with a private TMPDIR inside its temp root."""
    settings = ctx.settings
    tmp: Path | None = None
    try:
        await session.ensure_started()
        assert session.tmp_root is not None
        tmp = Path(tempfile.mkdtemp(prefix="cmd-", dir=session.tmp_root))
        return await session.run(
            [_SHELL, "-c", command], cwd=cwd,
            env=command_env(
                settings, tmp, marker, worktree=ctx.worktree.root,
                cache=session.tmp_root / "cache",  # kept for the attempt's later commands
            ),
            limit_s=limit, grace=settings.kill_grace_s, output_limit=settings.output_limit_chars,
            marker=f"{MARKER_VAR}={marker}".encode(),
        )  # fmt: skip
    except SandboxBroken as exc:
        # Not run again (it may have side effects); the next command gets a new sandbox.
        log.warning("task %s: the attempt's sandbox broke: %s", ctx.task_id, exc)
        raise ToolError(
            f"the command's sandbox ended while it ran ({exc}); everything it started was "
            "stopped. The next command runs in a new sandbox."
        ) from None
    except OSError as exc:
        raise ToolError(f"could not start the command: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            await asyncio.to_thread(shutil.rmtree, tmp, True)


async def _alone(
    ctx: ToolContext, command: str, cwd: Path, limit: float, marker: str
) -> ProcessOutcome:
    """A sandbox built for this one command (callers without an attempt)."""
    settings = ctx.settings
    tmp = make_scratch()
    try:
        prepared = sandbox_of(ctx).prepare(
            [_SHELL, "-c", command], worktree=ctx.worktree.root, tmp=tmp,
            hidden=hidden_paths(ctx), cwd=cwd, read_only=ctx.mounts.read_only,
            writable=ctx.mounts.writable, network=ctx.network, count_leftovers=True,
        )  # fmt: skip
        try:
            out = await run_process(
                prepared.argv, cwd=cwd,
                env=command_env(
                    settings, tmp, marker, worktree=ctx.worktree.root, cache=ctx.cache
                ),
                limit_s=limit,
                grace=settings.kill_grace_s, output_limit=settings.output_limit_chars,
                marker=f"{MARKER_VAR}={marker}".encode(), restrict=prepared.restrict,
            )  # fmt: skip
        except OSError as exc:
            raise ToolError(f"could not start the command: {exc.strerror or exc}") from None
        finally:
            prepared.cleanup()
        if prepared.count_file is not None:
            out = dataclasses.replace(out, leftovers_killed=read_count(prepared.count_file))
        return out
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)


RUN_COMMAND = Tool(
    name="run_command",
    description=(
        "Run a bash command in the task's worktree and return its exit code and output "
        "(stdout and stderr together; long output keeps its head and tail). stdin is empty; "
        "the network is off and only the worktree and $TMPDIR are writable where the "
        "sandbox allows. Every process the command starts is stopped when it returns or "
        "hits its time limit, so do not start servers or watchers on their own."
    ),
    args=RunCommandArgs,
    run=run_command,
    timed=False,
    summary_field="command",
)
