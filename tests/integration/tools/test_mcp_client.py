"""MCP servers' tools behind Bosun's pipeline: real reference servers, the real sandbox, the SDK over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.secrets import clear_for_tests
from bosun.tools import (
    ApprovalChoice,
    ApprovalDecision,
    ApprovalRequest,
    Policy,
    ToolContext,
    ToolExecutor,
    build_registry,
)
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.mcp.attempt import AttemptMcp, attempt_mcp, links_for
from bosun.tools.mcp.link import LinkState
from bosun.tools.mcp.settings import McpSettings
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode, ToolSettings
from bosun_protocol.entities import Profile

FIXTURE = Path(__file__).parents[2] / "fixtures" / "mcp" / "sdk_server.py"
SDK = {"command": sys.executable, "args": [str(FIXTURE), "stdio"]}
TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
MODES = [SandboxMode.BWRAP, SandboxMode.LANDLOCK]


class Recorder:
    """An event sink and an approver that answers every request with `choice`."""

    def __init__(self, choice: ApprovalChoice = ApprovalChoice.ALLOW_ONCE) -> None:
        self.choice = choice
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[ApprovalRequest] = []

    async def append_event(self, kind: str, *, run_id: int | None = None,
                           task_id: int | None = None, data: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.events.append((kind, dict(data or {})))

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        return ApprovalDecision(choice=self.choice, note="not today")


def _sandbox(mode: SandboxMode) -> Sandbox:
    try:
        return Sandbox.detect(mode, allow_weak=True)
    except SandboxUnavailableError as exc:
        pytest.skip(f"{mode.value} cannot run on this machine: {exc.message}")


def _ctx(
    wt: Path, mode: SandboxMode, rec: Recorder | None = None, approve: bool = False
) -> ToolContext:
    return ToolContext(
        run_id=1, task_id=7, attempt=1, worktree_path=wt, branch="bosun/task-7",
        profile=Profile.CODER, settings=ToolSettings(), sandbox=_sandbox(mode),
        events=rec, approver=rec if approve else None,
    )  # fmt: skip


def _executor() -> ToolExecutor:
    settings = ToolSettings()
    return ToolExecutor(build_registry(settings), Policy.from_settings(settings))


def _servers(**servers: dict[str, Any]) -> McpSettings:
    return McpSettings.model_validate({"servers": servers})


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    clear_for_tests()


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_the_reference_time_server_runs_in_the_sandbox_with_namespaced_tools_and_schemas(
    mode: SandboxMode, tmp_path: Path
) -> None:
    rec = Recorder()
    ctx = _ctx(tmp_path, mode, rec)
    executor = _executor()
    async with attempt_mcp(ctx, _servers(time=TIME)) as mcp:
        assert ctx.mcp is mcp
        assert mcp.names() == ["time__get_current_time", "time__convert_time"]
        spec = {s.name: s for s in mcp.specs()}["time__get_current_time"]
        assert spec.parameters["required"] == ["timezone"]
        assert spec.description.startswith("[MCP server time]")
        # Annotated read-only: allowed with no human in reach.
        ok = await executor.call(ctx, "time__get_current_time", {"timezone": "Europe/Paris"})
        assert ok.outcome == "ok", ok.content
        assert '"timezone": "Europe/Paris"' in ok.content
        # Checked against the server's own schema before the server sees it.
        bad = await executor.call(ctx, "time__get_current_time", '{"timezone": 5}')
        assert bad.outcome == "invalid"
        assert "timezone: 5 is not of type 'string'" in bad.content
        process = mcp.links[0].process
        assert process is not None
        pid = process.pid
    assert _gone(pid)  # stopped with the attempt
    assert ctx.mcp is None
    calls = [d for k, d in rec.events if k == "tool_call"]
    assert [c["outcome"] for c in calls] == ["ok", "invalid"]
    assert calls[0]["mcpServer"] == "time" and calls[0]["args"] == {"timezone": "Europe/Paris"}
    started = [d for k, d in rec.events if k == "mcp_servers"]
    assert started[0]["servers"][0]["state"] == "ready"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one untracked file."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("hello\n")
    return tmp_path


async def test_the_reference_git_server_asks_before_writing_and_its_sandbox_keeps_git_read_only(
    repo: Path,
) -> None:
    tmp_path = repo
    git = {
        "command": sys.executable,
        "args": ["-m", "mcp_server_git", "--repository", str(tmp_path)],
    }
    settings = _servers(git={**git, "tools": {"git_reset": "deny"}})
    executor = _executor()
    refused = _ctx(tmp_path, SandboxMode.BWRAP)
    async with attempt_mcp(refused, settings):
        status = await executor.call(refused, "git__git_status", {"repo_path": str(tmp_path)})
        assert status.outcome == "ok" and "a.txt" in status.content  # read-only: no question
        add = await executor.call(
            refused, "git__git_add", {"repo_path": str(tmp_path), "files": ["a.txt"]}
        )
        assert add.outcome == "denied" and "approval" in add.content  # no human in reach
        reset = await executor.call(refused, "git__git_reset", {"repo_path": str(tmp_path)})
        assert reset.outcome == "denied" and "denied by policy" in reset.content
    rec = Recorder()
    asked = _ctx(tmp_path, SandboxMode.BWRAP, rec, approve=True)
    async with attempt_mcp(asked, settings):
        add = await executor.call(
            asked, "git__git_add", {"repo_path": str(tmp_path), "files": ["a.txt"]}
        )
        # Approved, so it reached the server; the sandbox keeps .git read-only, as for
        # commands: only the daemon commits a task's work.
        assert add.is_error and "Read-only file system" in add.content, add.content
    assert [r.tool for r in rec.requests] == ["git__git_add"]
    assert "not annotated read-only" in rec.requests[0].reason
    assert not (tmp_path / ".git" / "index").exists()


@contextlib.asynccontextmanager
async def _listener() -> AsyncIterator[int]:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_a_stdio_server_has_the_network_only_when_configured(
    mode: SandboxMode, tmp_path: Path
) -> None:
    executor = _executor()
    async with _listener() as port:
        for network, expected in ((False, "failed"), (True, "connected")):
            ctx = _ctx(tmp_path, mode)
            async with attempt_mcp(ctx, _servers(sdk={**SDK, "network": network})):
                out = await executor.call(ctx, "sdk__probe_tcp", {"port": port})
            assert out.content.startswith(expected), (network, out.content)


async def test_a_stdio_server_works_in_the_worktree_with_only_its_configured_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOSUN_DAEMON_ONLY", "daemon-private-value")
    secret = "s3cr3t-token-for-the-server"
    conf = _servers(sdk={**SDK, "env": {"PLAIN": "plain-value"},
                         "secret_env": {"TOKEN": "MY_MCP_TOKEN"}})  # fmt: skip
    rec = Recorder()
    ctx = _ctx(tmp_path, SandboxMode.BWRAP, rec, approve=True)
    executor = _executor()
    mcp = AttemptMcp(links_for(conf, ctx, environ={"MY_MCP_TOKEN": secret}))
    ctx.mcp = mcp
    try:
        await mcp.start()
        plain = await executor.call(ctx, "sdk__whoami_env", {"name": "PLAIN"})
        assert plain.content == f"plain-value in {tmp_path}"
        leaked = await executor.call(ctx, "sdk__whoami_env", {"name": "BOSUN_DAEMON_ONLY"})
        assert leaked.content.startswith("<unset>")
        token = await executor.call(ctx, "sdk__whoami_env", {"name": "TOKEN"})
        assert secret not in token.content and "[REDACTED]" in token.content
        note = await executor.call(ctx, "sdk__write_note", {"name": "note.txt", "text": "hi"})
        assert note.outcome == "ok", note.content
    finally:
        await mcp.close()
    assert (tmp_path / "note.txt").read_text() == "hi"
    assert all(secret not in repr(d) for _, d in rec.events)


async def test_a_server_that_cannot_start_is_reported_to_the_agent_not_raised(
    tmp_path: Path,
) -> None:
    ctx = _ctx(tmp_path, SandboxMode.BWRAP)
    conf = _servers(time=TIME, broken={"command": str(tmp_path / "no-such-server")},
                    slow={**SDK, "command": "/bin/sleep", "args": ["60"], "start_timeout_s": 1})  # fmt: skip
    async with attempt_mcp(ctx, conf) as mcp:
        states = {s["server"]: s["state"] for s in mcp.status()}
        assert states == {"time": "ready", "broken": "failed", "slow": "failed"}
        notice = mcp.notice()
        assert "broken: failed" in notice and "no-such-server" in notice
        assert "slow: failed: did not start within 1 s" in notice
        assert mcp.names() == ["time__get_current_time", "time__convert_time"]
        unknown = await _executor().call(ctx, "broken__anything", {})
        assert unknown.outcome == "invalid" and "time__convert_time" in unknown.content


async def test_a_server_that_dies_mid_attempt_is_reported_on_the_next_call(tmp_path: Path) -> None:
    rec = Recorder()
    ctx = _ctx(tmp_path, SandboxMode.BWRAP, rec, approve=True)
    executor = _executor()
    async with attempt_mcp(ctx, _servers(sdk=SDK)) as mcp:
        died = await executor.call(ctx, "sdk__die", {})
        assert died.is_error
        link = mcp.links[0]
        assert link.process is not None
        await asyncio.wait_for(asyncio.shield(link.process.exited), 10)
        after = await executor.call(ctx, "sdk__echo", {"text": "x"})
        assert after.is_error and "not running" in after.content, after.content
        assert link.state is LinkState.DIED
        assert "dying on request" in link.reason  # the server's stderr, for the human


@contextlib.contextmanager
def _http_server() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, str(FIXTURE), "http"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(10)


async def test_a_streamable_http_server_built_with_the_sdk_gets_its_headers_and_secrets(
    tmp_path: Path,
) -> None:
    secret = "Bearer http-secret-value-123"
    with _http_server() as port:
        conf = _servers(web={"url": f"http://127.0.0.1:{port}/mcp", "headers": {"X-Plain": "p1"},
                             "secret_headers": {"Authorization": "WEB_TOKEN"}})  # fmt: skip
        ctx = _ctx(tmp_path, SandboxMode.BWRAP)
        mcp = AttemptMcp(links_for(conf, ctx, environ={"WEB_TOKEN": secret}))
        ctx.mcp = mcp
        try:
            await mcp.start()
            assert mcp.links[0].state is LinkState.READY, mcp.links[0].reason
            executor = _executor()
            echo = await executor.call(ctx, "web__echo", {"text": "ab", "times": 2})
            assert echo.content == "abab"
            plain = await executor.call(ctx, "web__header", {"name": "x-plain"})
            assert plain.content == "p1"
            auth = await executor.call(ctx, "web__header", {"name": "authorization"})
            assert auth.content == "[REDACTED]"
            write = await executor.call(ctx, "web__write_note", {"name": "n", "text": "t"})
            assert write.outcome == "denied"  # not read-only and nobody to ask
        finally:
            await mcp.close()
    # The HTTP server is gone: a new attempt reports it, never raises.
    ctx = _ctx(tmp_path, SandboxMode.BWRAP)
    async with attempt_mcp(ctx, conf) as mcp:
        assert mcp.links[0].state is LinkState.FAILED
        assert "web: failed" in mcp.notice()


async def test_doctor_starts_each_configured_server_and_reports_its_tools_or_why_not(
    tmp_path: Path,
) -> None:
    from bosun.config import parse_settings
    from bosun.tools.mcp.doctor import check_mcp_servers

    settings = parse_settings({
        "tools": {"sandbox": "bwrap"},
        "mcp": {"servers": {"time": TIME, "broken": {"command": str(tmp_path / "nope")},
                            "off": {**TIME, "enabled": False}}},
    })  # fmt: skip
    checks = {c["check"]: c for c in await check_mcp_servers(settings)}
    assert (
        checks["mcp time"]["ok"]
        and "get_current_time, convert_time" in checks["mcp time"]["detail"]
    )
    assert not checks["mcp broken"]["ok"] and "nope" in checks["mcp broken"]["detail"]
    assert checks["mcp off"] == {"check": "mcp off", "ok": True, "detail": "disabled"}
