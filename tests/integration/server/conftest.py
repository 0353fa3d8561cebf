"""A real daemon process per test, and pytest-lsp clients over each transport."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bosun.server.launcher import start_daemon_process
from bosun.workspace import Workspace
from lsprotocol import types
from pygls.io_ import run_async
from pytest_lsp.client import LanguageClient

TRANSPORTS = ["lsp", "unix", "tcp", "ws"]


def plain(value: Any) -> Any:
    """pygls's client hands untyped results over as namedtuples; make them JSON again."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass
class RunningDaemon:
    """A daemon subprocess owned by the test."""

    workspace: Workspace
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]

    def port(self, kind: str) -> int:
        for item in self.info["listeners"]:
            if item.startswith(kind + ":"):
                return int(item.rsplit(":", 1)[1])
        raise KeyError(kind)

    @property
    def token(self) -> str:
        return self.workspace.token_path.read_text().strip()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=30)


def init_repo(path: Path) -> Path:
    """A repository at `path` (created) with one empty commit on main."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    ident = ["-c", "user.email=t@e.invalid", "-c", "user.name=T"]
    subprocess.run(
        ["git", *ident, "commit", "-q", "--allow-empty", "-m", "init"], cwd=path, check=True
    )
    return path


IDLE_SCENARIO = Path(__file__).parents[2] / "fixtures" / "scenarios" / "idle.toml"


def start_daemon(repo: Path, *extra: str, config: str = "") -> RunningDaemon:
    """Start `bosun daemon serve` for `repo` with TCP and WebSocket on free ports.

    Runs created in these tests start for real, but the director asks a human at once
    (tests/fixtures/scenarios/idle.toml): the protocol is under test, not the engine.
    """
    ws = Workspace(repo)
    ws.ensure_state_dir()
    ws.config_path.write_text(f'[llm]\ndefault_model = "scripted:{IDLE_SCENARIO}"\n' + config)
    proc, info = start_daemon_process(ws, ["--tcp", "0", "--ws", "0", *extra], detach=True)
    return RunningDaemon(ws, proc, info)


@pytest.fixture
def daemon(git_repo: Path) -> Iterator[RunningDaemon]:
    d = start_daemon(git_repo)
    yield d
    d.kill(signal.SIGTERM)


class SessionClient(LanguageClient):
    """A pytest-lsp client that also keeps the daemon's answer to `initialize`."""

    initialize_result: types.InitializeResult

    async def stop(self) -> None:
        """pytest-lsp's stop(), with the annotation it lacks (callers stay strictly typed)."""
        await LanguageClient.stop(self)


async def _start_unix(client: LanguageClient, path: Path) -> None:
    reader, writer = await asyncio.open_unix_connection(str(path))
    client.protocol.set_writer(writer)
    task = asyncio.create_task(
        run_async(
            stop_event=client._stop_event,
            reader=reader,
            protocol=client.protocol,
        )
    )
    client._async_tasks.append(task)


async def connect(d: RunningDaemon, transport: str, *, token: str | None = None) -> SessionClient:
    """A pytest-lsp client connected over `transport`, not yet initialized."""
    client = SessionClient()
    if transport == "lsp":
        await client.start_io(
            sys.executable, "-m", "bosun", "--workspace", str(d.workspace.root), "lsp"
        )
    elif transport == "unix":
        await _start_unix(client, d.workspace.socket_path)
    elif transport == "tcp":
        await client.start_tcp("127.0.0.1", d.port("tcp"))
    elif transport == "ws":
        await client.start_ws("127.0.0.1", d.port("ws"))
    else:
        raise ValueError(transport)
    return client


def init_params(token: str | None) -> types.InitializeParams:
    options: dict[str, Any] = {"protocolVersion": "0.1.0", "bosunNotifications": True}
    if token is not None:
        options["token"] = token
    return types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options=options
    )


@contextlib.asynccontextmanager
async def session(d: RunningDaemon, transport: str) -> AsyncIterator[SessionClient]:
    """An initialized client; shut down politely at the end."""
    client = await connect(d, transport)
    needs_token = transport in ("tcp", "ws")
    result = await client.initialize_session(init_params(d.token if needs_token else None))
    client.initialize_result = result
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
