"""Under bwrap a command reaches no runtime socket: not in /run, not in $XDG_RUNTIME_DIR.

A Unix socket stays connectable through a read-only bind, and the sockets that live
there start programs outside any sandbox (systemd over D-Bus, docker) or act with the
user's keys (gpg and ssh agents). A real listener stands in for them; the command tries
to connect from inside the real sandbox, for a single command and for the attempt's
sandbox. Landlock cannot restrict connecting to a path socket (docs/security.md).
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox import Sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import SandboxMode

PROBE = (
    "python3 -c 'import socket,sys\n"
    "for p in sys.argv[1:]:\n"
    "    s = socket.socket(socket.AF_UNIX)\n"
    "    try:\n"
    '        s.connect(p); print("CONNECTED", p)\n'
    "    except OSError as e:\n"
    '        print("REFUSED", p, e.errno)\' '
)


def _bwrap() -> Sandbox:
    try:
        return Sandbox.detect(SandboxMode.BWRAP)
    except SandboxUnavailableError as exc:
        pytest.skip(f"bwrap cannot run on this machine: {exc.message}")


@contextlib.contextmanager
def _listening(path: Path) -> Iterator[Path]:
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(4)
    try:
        yield path
    finally:
        srv.close()
        path.unlink(missing_ok=True)


@pytest.fixture
def run_socket() -> Iterator[Path]:
    """A listening socket in a fresh directory under /run, as the system's are."""
    try:
        where = Path("/run") / f"bosun-test-{uuid.uuid4().hex[:8]}"
        where.mkdir(mode=0o755)
    except OSError as exc:
        pytest.skip(f"cannot make a directory under /run here: {exc}")
    try:
        with _listening(where / "bus") as path:
            yield path
    finally:
        where.rmdir()


@pytest.fixture
def xdg_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A session socket in a $XDG_RUNTIME_DIR outside /run and /tmp."""
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="bosun-xdg-") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        with _listening(Path(runtime) / "bus") as path:
            yield path


@pytest.mark.parametrize("per", ["command", "attempt"])
async def test_a_command_connects_to_no_runtime_socket(
    per: str,
    run_socket: Path,
    xdg_socket: Path,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    # The listeners work: this process, outside the sandbox, connects to both.
    for path in (run_socket, xdg_socket):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
    wt = tmp_path / "wt"
    wt.mkdir()
    ctx = make_ctx(wt, sandbox=_bwrap())
    command = PROBE + f"{run_socket} {xdg_socket}"
    async with contextlib.AsyncExitStack() as stack:
        if per == "attempt":
            await stack.enter_async_context(attempt_sandbox(ctx))
        result = await executor.call(ctx, "run_command", {"command": command})
    assert "CONNECTED" not in result.content, result.content
    assert result.content.count("REFUSED") == 2, result.content
