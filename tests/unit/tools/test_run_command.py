"""run_command: limits, process cleanup, environment, and the sandbox holding."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bosun.secrets import clear_for_tests, register_secret
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.project_env import cache_variables
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode

LIMIT = 0.5
SLACK = 2.0


def _survivors(mark: str) -> list[int]:
    """Live processes whose environment carries the test's marker."""
    needle = f"T_MARK={mark}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{name}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            continue
        if state not in (b"Z", b"X") and needle in env:
            found.append(int(name))
    return found


def _sandbox(mode: SandboxMode) -> Sandbox:
    try:
        return Sandbox.detect(mode, allow_weak=True)  # the mechanism, Landlock as root too
    except SandboxUnavailableError as exc:
        pytest.skip(f"{mode.value} cannot run on this machine: {exc.message}")


MODES = [SandboxMode.NONE, SandboxMode.BWRAP, SandboxMode.LANDLOCK]

HOSTILE = {
    "hang": "sleep 1000",
    "grandchild_holds_stdout": "( (sleep 1000; echo late) & ) ; sleep 1000",
    "background_child": "sleep 1000 & echo started; sleep 1000",
    "fork_loop": "while true; do sleep 1000 & done",
    "setsid_escape": "setsid sleep 1000 & sleep 1000",
    "ignores_sigterm": "trap '' TERM; sleep 1000",
}


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
@pytest.mark.parametrize("script", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_hostile_command_ends_within_limit_and_leaves_no_process(
    script: str,
    mode: SandboxMode,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    mark = uuid.uuid4().hex
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    started = time.monotonic()
    result = await executor.call(
        ctx, "run_command", {"command": f"export T_MARK={mark}; {script}", "timeout_s": LIMIT}
    )
    took = time.monotonic() - started
    assert result.outcome == "timeout", result.content
    assert took < LIMIT + SLACK, f"took {took:.2f} s"
    assert _survivors(mark) == []
    assert "server or a watcher" in result.content


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_background_children_of_a_finished_command_are_reaped(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    mark = uuid.uuid4().hex
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    cmd = f"export T_MARK={mark}; sleep 1000 & (sleep 1000 &) ; setsid sleep 1000 & echo done"
    started = time.monotonic()
    result = await executor.call(ctx, "run_command", {"command": cmd, "timeout_s": 30})
    assert time.monotonic() - started < SLACK + 1
    assert result.outcome == "ok", result.content
    assert "done" in result.content
    assert _survivors(mark) == []


def _argv_survivors(token: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                if token.encode() in fh.read():
                    found.append(int(name))
        except (OSError, ValueError):
            continue
    return found


async def test_bwrap_also_kills_an_escapee_that_cleared_its_environment(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    """setsid + env -i defeats session and marker reaping; bwrap's PID namespace does not."""
    token = f"1000.{uuid.uuid4().int % 10**9:09d}"
    ctx = make_ctx(tmp_path, sandbox=_sandbox(SandboxMode.BWRAP))
    cmd = f"setsid env -i sleep {token} & echo launched"
    result = await executor.call(ctx, "run_command", {"command": cmd})
    assert "launched" in result.content
    assert _argv_survivors(token) == []


async def test_cancelling_the_call_kills_the_command(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    mark = uuid.uuid4().hex
    os.mkfifo(tmp_path / "ready")
    ctx = make_ctx(tmp_path)
    cmd = f"export T_MARK={mark}; sleep 1000 & echo up > ready; sleep 1000"
    call = asyncio.create_task(
        executor.call(ctx, "run_command", {"command": cmd, "timeout_s": 600})
    )

    def wait_ready() -> str:
        with open(tmp_path / "ready") as fh:  # blocks until the command opens it
            return fh.read()

    assert (await asyncio.to_thread(wait_ready)).strip() == "up"
    assert _survivors(mark) != []
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert _survivors(mark) == []


async def test_environment_carries_no_daemon_secret(
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-test-" + uuid.uuid4().hex
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    result = await executor.call(
        make_ctx(tmp_path), "run_command", {"command": "env; cat /proc/self/environ"}
    )
    assert not result.is_error, result.content
    assert secret not in result.content
    assert "OPENAI_API_KEY" not in result.content
    assert "GITHUB_TOKEN" not in result.content
    names = {line.split("=", 1)[0] for line in result.content.splitlines()[2:] if "=" in line}
    assert names <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TERM", "NO_COLOR", "PAGER",
                     "GIT_PAGER", "GIT_TERMINAL_PROMPT", "PYTHONDONTWRITEBYTECODE",
                     "BOSUN_COMMAND_ID", "PWD", "SHLVL", "_", "OLDPWD",
                     *cache_variables(tmp_path)}  # fmt: skip


async def test_known_secrets_printed_by_a_command_are_redacted(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    secret = "tok-" + uuid.uuid4().hex
    (tmp_path / "leak.txt").write_text(f"key={secret}\n")
    register_secret(secret)
    try:
        result = await executor.call(
            make_ctx(tmp_path), "run_command", {"command": "cat leak.txt; base64 leak.txt"}
        )
    finally:
        clear_for_tests()
    assert secret not in result.content
    assert "[REDACTED]" in result.content


async def test_huge_output_keeps_head_and_tail_and_states_sizes(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    cmd = "echo FIRST; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo LAST"
    result = await executor.call(make_ctx(tmp_path), "run_command", {"command": cmd})
    assert "FIRST" in result.content
    assert "LAST" in result.content
    assert "omitted" in result.content
    assert len(result.content) < 40_000


async def test_exit_code_and_failure_are_reported(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    result = await executor.call(
        make_ctx(tmp_path), "run_command", {"command": "echo oops >&2; exit 3"}
    )
    assert result.is_error
    assert "exit code: 3" in result.content
    assert "oops" in result.content


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_workdir_is_where_the_command_starts(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    result = await executor.call(ctx, "run_command", {"command": "pwd", "workdir": "pkg/sub"})
    assert result.content.rstrip().endswith(str(ctx.worktree.root / "pkg" / "sub"))


async def test_requested_timeout_is_capped_at_the_configured_maximum(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(tmp_path)
    ctx.settings = ctx.settings.model_copy(
        update={"command_max_timeout_s": 0.5, "command_timeout_s": 0.5}
    )
    started = time.monotonic()
    result = await executor.call(ctx, "run_command", {"command": "sleep 1000", "timeout_s": 10_000})
    assert result.outcome == "timeout"
    assert time.monotonic() - started < 0.5 + SLACK


# -- the sandbox holds ---------------------------------------------------------


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside the worktree that the sandbox does show (bwrap mounts its own /tmp)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="bosun-outside-") as path:
        (Path(path) / "sentinel").write_text("visible-sentinel")
        yield Path(path)


SANDBOXED = [SandboxMode.BWRAP, SandboxMode.LANDLOCK]


async def _listener() -> tuple[asyncio.Server, int, list[int]]:
    accepted: list[int] = []

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writer.close()

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


CONNECT = (
    "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); "
    "print('CONNECTED')\""
)


@pytest.mark.parametrize("mode", SANDBOXED, ids=[m.value for m in SANDBOXED])
async def test_sandbox_refuses_network(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    sandbox = _sandbox(mode)
    if not sandbox.report.network_isolated:
        pytest.skip(f"{mode.value} here cannot restrict the network: {sandbox.report.reason}")
    server, port, accepted = await _listener()
    try:
        result = await executor.call(
            make_ctx(tmp_path, sandbox=sandbox),
            "run_command",
            {"command": CONNECT.format(port=port)},
        )
    finally:
        server.close()
        await server.wait_closed()
    assert "CONNECTED" not in result.content
    assert result.is_error
    assert accepted == []


async def test_without_sandbox_the_same_connection_succeeds(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    """The control for the test above: the probe does reach the listener when unconfined."""
    server, port, _ = await _listener()
    try:
        result = await executor.call(
            make_ctx(tmp_path), "run_command", {"command": CONNECT.format(port=port)}
        )
    finally:
        server.close()
        await server.wait_closed()
    assert "CONNECTED" in result.content


ATTACKS = {
    "write_outside": "echo out > {outside}/pwned.txt; mkdir {outside}/dir; ln -s /etc {outside}/lnk",
    "write_via_home": "echo home > ~/../../pwned-home.txt",
    "remount_then_write": "mount -o remount,rw /; echo x > {outside}/x",
    "signal_the_daemon": "kill -0 {pid} && echo CAN_SIGNAL",
}


@pytest.mark.parametrize("mode", SANDBOXED, ids=[m.value for m in SANDBOXED])
@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
async def test_sandbox_confines_writes_to_worktree_and_tmp(
    attack: str,
    mode: SandboxMode,
    tmp_path: Path,
    outside: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    wt = tmp_path / "wt"
    wt.mkdir()
    hostile = attack.format(outside=outside, pid=os.getpid())
    cmd = (
        f"cat {outside}/sentinel; ({hostile}) 2>/dev/null; "
        "echo in > inside.txt && echo tmp-ok > $TMPDIR/t && cat $TMPDIR/t; true"
    )
    ctx = make_ctx(wt, sandbox=_sandbox(mode))
    result = await executor.call(ctx, "run_command", {"command": cmd})
    assert "visible-sentinel" in result.content  # the command did see the directory
    assert "tmp-ok" in result.content
    assert (wt / "inside.txt").read_text() == "in\n"
    assert os.listdir(outside) == ["sentinel"]
    assert "pwned-home.txt" not in os.listdir("/")
    assert "CAN_SIGNAL" not in result.content


async def test_bwrap_hides_daemon_state_but_keeps_the_worktree_inside_it(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    sandbox = _sandbox(SandboxMode.BWRAP)
    state = tmp_path / ".bosun"
    wt = state / "worktrees" / "task-7"
    wt.mkdir(parents=True)
    (state / "token").write_text("daemon-token-value")
    (wt / "file.txt").write_text("visible")
    ctx = make_ctx(wt, sandbox=sandbox, hidden_paths=[state])
    result = await executor.call(
        ctx, "run_command", {"command": f"cat {state}/token; cat file.txt"}
    )
    assert "daemon-token-value" not in result.content
    assert "visible" in result.content


def test_a_required_sandbox_that_cannot_run_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bosun.tools.sandbox.shutil.which", lambda name: None)
    with pytest.raises(SandboxUnavailableError, match="bwrap"):
        Sandbox.detect(SandboxMode.BWRAP)


def test_auto_reports_why_it_fell_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bosun.tools.sandbox.shutil.which", lambda name: None)
    report = Sandbox.detect(SandboxMode.AUTO, allow_weak=True).report
    assert report.mode in (SandboxMode.LANDLOCK, SandboxMode.NONE)
    assert "not installed" in report.probes["bwrap"]
    assert report.as_dict()["requested"] == "auto"
