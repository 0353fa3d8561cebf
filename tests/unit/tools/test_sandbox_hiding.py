"""What a sandboxed command can read and change of the daemon's and git's own files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox import Sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import SandboxMode

SANDBOXED = [SandboxMode.BWRAP, SandboxMode.LANDLOCK]


def _sandbox(mode: SandboxMode) -> Sandbox:
    try:
        return Sandbox.detect(mode, allow_weak=True)  # Landlock's mechanism, as root too
    except SandboxUnavailableError as exc:
        pytest.skip(f"{mode.value} cannot run on this machine: {exc.message}")


@pytest.mark.parametrize("mode", SANDBOXED, ids=[m.value for m in SANDBOXED])
async def test_state_dir_contents_are_unreadable_but_the_worktree_inside_it_works(
    mode: SandboxMode,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    state = tmp_path / "repo" / ".bosun"
    wt = state / "worktrees" / "task-7"
    wt.mkdir(parents=True)
    (state / "token").write_text("daemon-token-value")
    (state / "config.toml").write_text('api_key = "sk-config-secret"')
    (wt / "file.txt").write_text("visible")
    (tmp_path / "repo" / "README").write_text("main checkout readable")
    ctx = make_ctx(wt, sandbox=_sandbox(mode), hidden_paths=[state])
    cmd = (
        f"cat {state}/token {state}/config.toml; cat file.txt; cat {tmp_path}/repo/README; "
        "echo new > made.txt && cat made.txt; python3 -c 'print(1+1)'"
    )
    result = await executor.call(ctx, "run_command", {"command": cmd})
    assert "daemon-token-value" not in result.content
    assert "sk-config-secret" not in result.content
    assert "visible" in result.content
    if mode is SandboxMode.LANDLOCK:  # bwrap's private /tmp hides this test's checkout
        assert "main checkout readable" in result.content
    assert "new" in result.content and "\n2\n" in result.content  # programs still run


@pytest.mark.parametrize("mode", SANDBOXED, ids=[m.value for m in SANDBOXED])
async def test_a_link_into_a_hidden_directory_does_not_open_it(
    mode: SandboxMode,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    hidden = tmp_path / "secret-home" / ".ssh"
    hidden.mkdir(parents=True)
    (hidden / "id_key").write_text("PRIVATE KEY BYTES")
    wt = tmp_path / "wt"
    wt.mkdir()
    (tmp_path / "alias").symlink_to(hidden)
    ctx = make_ctx(wt, sandbox=_sandbox(mode), hidden_paths=[hidden])
    result = await executor.call(
        ctx, "run_command", {"command": f"cat {tmp_path}/alias/id_key {hidden}/id_key; true"}
    )
    assert "PRIVATE KEY BYTES" not in result.content


async def test_under_bwrap_the_worktrees_git_file_and_gitdir_are_read_only(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    gitdir = tmp_path / "wt" / "inner-gitdir"  # even a gitdir inside the worktree
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/b\n")
    wt = tmp_path / "wt"
    (wt / ".git").write_text(f"gitdir: {gitdir}\n")
    ctx = make_ctx(wt, sandbox=_sandbox(SandboxMode.BWRAP))
    cmd = (
        "echo 'gitdir: .evil' > .git; rm -f .git; mv .git moved; "
        f"echo '[core] worktree=/' >> {gitdir}/config; echo x > {gitdir}/HEAD; "
        "echo other > other.txt; true"
    )
    result = await executor.call(ctx, "run_command", {"command": cmd})
    assert (wt / ".git").read_text() == f"gitdir: {gitdir}\n", result.content
    assert not (gitdir / "config").exists()
    assert (gitdir / "HEAD").read_text() == "ref: refs/heads/b\n"
    assert (wt / "other.txt").read_text() == "other\n"  # the rest stays writable


def _first_variable(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")[0].decode(errors="replace")


@pytest.mark.parametrize("per", ["command", "attempt"])
async def test_under_bwrap_the_daemon_process_cannot_be_seen_read_or_traced(
    per: str,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # This process stands in for the daemon, with a key in its (initial) environment
    # as a daemon started the old way would have; as root too, bwrap's own PID
    # namespace leaves a command no path to it.
    pid = os.getpid()
    ctx = make_ctx(tmp_path, sandbox=_sandbox(SandboxMode.BWRAP))
    cmd = (
        f"cat /proc/{pid}/environ; head -c 64 /proc/{pid}/mem; ls /proc/{pid}; "
        f"python3 -c 'import ctypes; print(\"PTRACE\", ctypes.CDLL(None).ptrace(16, {pid}, 0, 0))'"
    )
    async with contextlib.AsyncExitStack() as stack:
        if per == "attempt":
            await stack.enter_async_context(attempt_sandbox(ctx))
        result = await executor.call(ctx, "run_command", {"command": cmd})
    environ = _first_variable(pid)
    assert environ and environ not in result.content
    assert "PTRACE -1" in result.content
    assert result.content.count("No such file or directory") >= 3, result.content
