"""One sandbox per attempt: every guarantee a command had alone, and nothing left after it."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.sandbox_session import SUPERVISOR, attempt_sandbox
from bosun.tools.settings import SandboxMode

from tests.unit.tools.test_run_command import (
    HOSTILE,
    LIMIT,
    MODES,
    SLACK,
    _argv_survivors,
    _sandbox,
    _survivors,
)


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")  # exited and reaped


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_commands_of_an_attempt_share_one_sandbox_and_each_is_bounded_and_reaped(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    async with attempt_sandbox(ctx) as session:
        tmpdirs = []
        for script in HOSTILE.values():
            mark = uuid.uuid4().hex
            started = time.monotonic()
            result = await executor.call(
                ctx, "run_command",
                {"command": f"export T_MARK={mark}; echo $TMPDIR > tmpdir.txt; {script}",
                 "timeout_s": LIMIT},
            )  # fmt: skip
            assert result.outcome == "timeout", result.content
            assert time.monotonic() - started < LIMIT + SLACK
            assert _survivors(mark) == []
            tmpdirs.append(Path((tmp_path / "tmpdir.txt").read_text().strip()))
        first = session._proc.pid
        done = await executor.call(ctx, "run_command", {"command": "echo still here; exit 4"})
        assert "exit code: 4" in done.content and "still here" in done.content
        assert session._proc.pid == first  # the same sandbox served every command
        assert len(set(tmpdirs)) == len(tmpdirs)  # each its own TMPDIR...
        assert not any(p.exists() for p in tmpdirs)  # ...removed after its call
        root = session.tmp_root
    assert root is not None and not root.exists()


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_an_escapee_that_cleared_its_environment_is_killed_in_every_mode(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    # The per-command path cannot find this one outside bwrap (no marker, own session);
    # the supervisor, a subreaper, kills its whole subtree.
    token = f"9{uuid.uuid4().int % 10**8}"
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    async with attempt_sandbox(ctx):
        result = await executor.call(
            ctx, "run_command", {"command": f"setsid env -i sleep {token} & echo gone"}
        )
        assert "gone" in result.content
        assert _argv_survivors(token) == []


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_closing_the_attempt_leaves_nothing_running(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    async with attempt_sandbox(ctx) as session:
        await executor.call(ctx, "run_command", {"command": "true"})
        supervisor = session._proc.pid
    assert _argv_survivors(str(SUPERVISOR)) == []  # the supervisor exited too
    assert _gone(supervisor)
    assert ctx.session is None


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_a_command_that_kills_its_supervisor_gets_an_error_and_the_next_works(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    async with attempt_sandbox(ctx):
        # The supervisor is the command's parent; under Landlock ABI ≥ 6 it is out of
        # reach of signals, and the kill fails (the command then ends normally).
        hit = await executor.call(ctx, "run_command", {"command": "kill -9 $PPID; sleep 2"})
        after = await executor.call(ctx, "run_command", {"command": "echo alive"})
        assert "alive" in after.content, (hit.content, after.content)


async def test_daemon_side_end_of_file_makes_the_supervisor_kill_everything(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    # What a daemon crash looks like to the supervisor: its control socket closes.
    token = f"8{uuid.uuid4().int % 10**8}"
    ctx = make_ctx(tmp_path, sandbox=_sandbox(SandboxMode.BWRAP))
    async with attempt_sandbox(ctx) as session:
        await session.ensure_started()
        assert session._sock is not None and session.tmp_root is not None
        os.mkfifo(tmp_path / "started")
        command = f"sleep {token} & echo up > started; wait"
        run = asyncio.ensure_future(
            executor.call(ctx, "run_command", {"command": command, "timeout_s": 60})
        )
        # Returns once the command has written: its sleep is running.
        await asyncio.to_thread((tmp_path / "started").read_text)
        assert _argv_survivors(token)
        session._sock.shutdown(2)  # as the kernel does when the daemon dies
        result = await asyncio.wait_for(run, 30)
        assert "sandbox ended" in result.content or result.is_error
        assert _argv_survivors(token) == []


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_a_pipeline_ends_by_sigpipe_as_in_a_plain_shell(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    async with attempt_sandbox(ctx):
        result = await executor.call(
            ctx, "run_command", {"command": "yes | head -n 2; echo ${PIPESTATUS[0]}"}
        )
    assert result.content.rstrip().endswith("141"), result.content  # 128 + SIGPIPE
    assert "Broken pipe" not in result.content
