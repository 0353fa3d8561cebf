"""A command, in every sandbox mode, gets nothing from the daemon's Unix socket.

The real listener (`listeners.start_unix`, with its peer check) serves a real board in
this process, which stands in for the daemon: commands run through the real
`run_command` are its descendants, as the daemon's are. Each command connects to the
socket and sends `initialize` and a `bosun/resolveTask` for a prompt, framed as a real
client would; any byte that comes back is a failure. The socket is tried where it
normally lives (`.bosun/daemon.sock`) and where a long repository path moves it
(`$XDG_RUNTIME_DIR/bosun-<uid>/`).
"""

from __future__ import annotations

import contextlib
import ctypes
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.client import Client
from bosun.config import Settings
from bosun.server import listeners
from bosun.server.context import DaemonContext
from bosun.server.hub import Hub
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox import Sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import SandboxMode
from bosun.tools.spawn import reap_adopted
from bosun.workspace import Workspace

MODES = [SandboxMode.NONE, SandboxMode.BWRAP, SandboxMode.LANDLOCK]

# Runs inside the sandbox: connect, speak JSON-RPC, print what the daemon says.
PROBE = r"""
import json, os, socket, sys, time
def parent_name():
    try:
        return open(f"/proc/{os.getppid()}/comm").read().strip()
    except OSError:
        return ""
if sys.argv[2] == "orphan":  # wait until the subshell (and setsid) that started us are gone
    deadline = time.monotonic() + 10
    while parent_name() in ("bash", "sh", "setsid") and time.monotonic() < deadline:
        time.sleep(0.01)
    print("ADOPTED BY", parent_name())
def frame(obj):
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
except OSError as exc:
    print("CONNECT-FAILED", exc)
    sys.exit(0)
got = b""
try:
    s.sendall(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
    s.sendall(frame({"jsonrpc": "2.0", "id": 2, "method": "bosun/resolveTask",
                     "params": {"promptId": 1, "action": "approve"}}))
    while chunk := s.recv(65536):
        got += chunk
        s.settimeout(1)  # answers came: stop once they pause
except OSError as exc:
    print("IO-ENDED", exc)
print("GOT", len(got), got[:200])
"""


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    return path


@pytest.fixture(params=["short", "long"])
def workspace(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    """A workspace whose socket is in `.bosun/` (short) or under $XDG_RUNTIME_DIR (long)."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    root = tmp_path / "r" if request.param == "short" else tmp_path / ("d" * 60) / ("e" * 60)
    ws = Workspace(_repo(root))
    assert (ws.socket_dir == ws.state_dir) is (request.param == "short")
    ws.ensure_state_dir()
    return ws


@pytest.fixture
async def listening(workspace: Workspace) -> AsyncIterator[Workspace]:
    """The real Unix listener on the workspace's socket, with a real board behind it."""
    store = await Store.open(workspace.db_path, boot_id="t")
    ctx = DaemonContext(
        workspace=workspace, settings=Settings(), store=store, boot_id="t",
        started_at=datetime.now(UTC),
    )  # fmt: skip
    ctx.ready.set()
    server = await listeners.start_unix(ctx, Hub(), workspace.socket_path)
    try:
        yield workspace
    finally:
        server.close()
        await store.close()


def _sandbox(mode: SandboxMode) -> Sandbox:
    try:
        return Sandbox.detect(mode, allow_weak=True)
    except SandboxUnavailableError as exc:
        pytest.skip(f"{mode.value} cannot run on this machine: {exc.message}")


@pytest.fixture
def as_subreaper() -> Iterator[None]:
    """This process adopts orphans of its descendants while the test runs, as the daemon does."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        _prctl(_PR_SET_CHILD_SUBREAPER, 0)
        reap_adopted()


_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    assert ctypes.CDLL(None).prctl(option, value, 0, 0, 0) == 0


async def _probe(executor: ToolExecutor, ctx: ToolContext, ws: Workspace, *, orphan: bool) -> str:
    wt = ctx.worktree_path
    (wt / "probe.py").write_text(PROBE)
    (wt / "out.txt").unlink(missing_ok=True)
    line = f"{sys.executable} -I -S probe.py {ws.socket_path} {'orphan' if orphan else 'child'}"
    if orphan:  # double fork out of the command's session: re-parented once the subshell ends
        command = (
            f"( setsid {line} > out.txt 2>&1 & ) ; until grep -q . out.txt; do sleep 0.05; done"
        )
    else:
        command = f"{line} > out.txt 2>&1"
    result = await executor.call(ctx, "run_command", {"command": command, "timeout_s": 30})
    said = (wt / "out.txt").read_text()
    assert not result.is_error, (result.content, said)
    return said


def _worktree(ws: Workspace) -> Path:
    wt = ws.worktrees_dir / "task-7"
    wt.mkdir(parents=True)
    return wt


@pytest.mark.parametrize("per", ["command", "attempt"])
@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_a_command_gets_nothing_from_the_daemon_socket(
    mode: SandboxMode,
    per: str,
    listening: Workspace,
    as_subreaper: None,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    ws = listening
    # The honest client (this process, not a descendant) is served: the listener works.
    async with await Client.connect(ws.socket_path) as honest:
        assert (await honest.request("bosun/status"))["workspace"] == str(ws.root)
    ctx = make_ctx(_worktree(ws), sandbox=_sandbox(mode), hidden_paths=ws.private_paths())
    async with contextlib.AsyncExitStack() as stack:
        if per == "attempt":  # the attempt's long-lived sandbox, as the engine runs it
            await stack.enter_async_context(attempt_sandbox(ctx))
        for orphan in (False, True):
            said = await _probe(executor, ctx, ws, orphan=orphan)
            assert "GOT 0 b''" in said or "CONNECT-FAILED" in said, (orphan, said)


async def test_without_a_subreaper_an_orphan_would_be_answered(
    listening: Workspace, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    # Why the daemon adopts orphans: re-parented to init, a command's orphan is no
    # longer its descendant, and the peer check alone would let it in. (This also shows
    # the probe's JSON-RPC is good enough to be answered.)
    ws = listening
    ctx = make_ctx(_worktree(ws), hidden_paths=ws.private_paths())  # no sandbox: reachable
    said = await _probe(executor, ctx, ws, orphan=True)
    assert "jsonrpc" in said, said
