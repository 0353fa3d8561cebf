"""One MCP server of an attempt: connected by its own task, which also ends it.

The SDK's sessions and transports are context managers bound to the task that entered
them (anyio cancel scopes), so each server gets an owner task that connects,
initializes, lists the tools, and then holds the connection open until the attempt
closes it. Calls are made from the worker's task through the session. A server that
cannot start, or dies later, leaves the link `failed` or `died` with a reason the
agent is told; nothing of it is raised into the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import mcp_types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from bosun.secrets import redact, register_secret
from bosun.tools.mcp.settings import McpServerSettings
from bosun.tools.mcp.stdio import Launch, ServerProcess, sandboxed_stdio

log = logging.getLogger(__name__)

_MAX_TOOL_PAGES = 20  # a server that pages forever is cut here


class LinkState(StrEnum):
    """Where a server of the attempt stands."""

    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"  # never became ready
    DIED = "died"  # was ready, then its process or connection ended
    CLOSED = "closed"  # stopped with the attempt


@dataclass
class LinkSpec:
    """What the link needs besides the server's settings: where a stdio server runs."""

    launch: Launch | None  # None for HTTP servers
    environ: Mapping[str, str]  # where `secret_env` / `secret_headers` names are looked up


class McpError(Exception):
    """The server could not be reached, or answered with a protocol error."""


def secret_values(conf: McpServerSettings, environ: Mapping[str, str], kind: str) -> dict[str, str]:
    """`secret_env` or `secret_headers` resolved; each value is registered for redaction."""
    names = conf.secret_env if kind == "env" else conf.secret_headers
    out: dict[str, str] = {}
    for key, var in names.items():
        value = environ.get(var)
        if value is None:
            raise McpError(f"the secret variable {var} (for {key}) is not set")
        register_secret(value)
        out[key] = value
    return out


@dataclass
class McpLink:
    """A configured server for one attempt, and its tools once it is ready."""

    name: str
    conf: McpServerSettings
    spec: LinkSpec
    state: LinkState = LinkState.STARTING
    reason: str = ""
    tools: list[mcp_types.Tool] = field(default_factory=list)
    session: ClientSession | None = None
    process: ServerProcess | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect in the background (see `wait_ready`)."""
        self._task = asyncio.create_task(self._own(), name=f"mcp-{self.name}")

    async def wait_ready(self) -> None:
        """Until the server is ready or has failed (at most `start_timeout_s`)."""
        try:
            async with asyncio.timeout(self.conf.start_timeout_s):
                await self._ready.wait()
        except TimeoutError:
            self._fail(LinkState.FAILED, f"did not start within {self.conf.start_timeout_s:g} s")
            await self.close()

    def describe(self) -> str:
        """One line: the state, and why when it is not ready."""
        if self.state is LinkState.READY:
            return f"ready, {len(self.tools)} tool(s)"
        return f"{self.state.value}: {self.reason}" if self.reason else self.state.value

    def _fail(self, state: LinkState, reason: str) -> None:
        if self.state in (LinkState.STARTING, LinkState.READY):
            self.state = state
            tail = self.process.stderr_tail() if self.process is not None else ""
            self.reason = redact(
                reason + (f"; its stderr ended with: {tail[-600:]}" if tail else "")
            )
            log.warning("MCP server %s %s", self.name, self.reason)
        self.session = None
        self._ready.set()

    async def _own(self) -> None:
        try:
            async with self._connect() as session:
                await session.initialize()
                self.tools = await _list_tools(session)
                self.session = session
                self.state = LinkState.READY
                self._ready.set()
                await self._hold()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            was = self.state
            self._fail(
                LinkState.DIED if was is LinkState.READY else LinkState.FAILED, _explain(exc)
            )
        else:
            if self.state is LinkState.READY and not self._stop.is_set():
                self._fail(LinkState.DIED, "the connection ended")
        finally:
            self._ready.set()

    async def _hold(self) -> None:
        """Until the attempt closes the link or the server's process ends."""
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._stop.wait())]
        if self.process is not None:
            waits.append(self.process.exited)
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waits[0].cancel()
        if not self._stop.is_set():
            code = self.process.exit_code if self.process else None
            self._fail(LinkState.DIED, "its process exited" + (f" ({code})" if code else ""))

    @contextlib.asynccontextmanager
    async def _connect(self) -> AsyncIterator[ClientSession]:
        if self.spec.launch is not None:
            launch = self.spec.launch
            launch.env = {**launch.env, **secret_values(self.conf, self.spec.environ, "env")}
            async with sandboxed_stdio(launch) as (streams, process):
                self.process = process
                async with ClientSession(*streams) as session:
                    yield session
            return
        assert self.conf.url is not None
        headers = {**self.conf.headers, **secret_values(self.conf, self.spec.environ, "headers")}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(self.conf.url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            yield session

    async def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call one of the server's tools (McpError when the server is not there)."""
        session = self.session
        if session is None or self.state is not LinkState.READY:
            raise McpError(f"MCP server {self.name} is not running ({self.describe()})")
        try:
            return await session.call_tool(tool, arguments)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.process is not None and self.process.exited.done():
                self._fail(LinkState.DIED, "its process exited")
            raise McpError(f"MCP server {self.name}: {_explain(exc)}") from exc

    async def close(self) -> None:
        """Stop the server (stdio: stdin closed, then its process group killed)."""
        self._stop.set()
        if self.state in (LinkState.STARTING, LinkState.READY):
            self.state = LinkState.CLOSED
        self.session = None
        task = self._task
        if task is None or task.done():
            return
        try:
            async with asyncio.timeout(10):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def _list_tools(session: ClientSession) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(_MAX_TOOL_PAGES):
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _explain(exc: BaseException) -> str:
    """The innermost useful message of an exception (task groups wrap them in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return f"cannot start: {exc.strerror}: {exc.filename}"
    return f"{type(exc).__name__}: {text}"[:1000]
