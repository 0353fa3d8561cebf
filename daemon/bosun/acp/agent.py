"""Bosun as an ACP agent on the official SDK: the requests an editor sends, answered by
relaying to the workspace daemon of the session's `cwd` (sessions in session.py, the
vocabulary in mapping.py).

Honest capabilities: text prompts only (no images, audio or embedded context); sessions
can be listed, loaded (replaying the run's history) and resumed; no MCP servers from the
editor (Bosun's agents use the MCP servers configured for the workspace).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from acp import PROTOCOL_VERSION, RequestError
from acp import schema as acp
from bosun_protocol.entities import Run

from bosun import __version__
from bosun.acp import mapping as m
from bosun.acp.daemons import DaemonLink, Daemons
from bosun.acp.session import Session
from bosun.client import DaemonNotRunning, RpcError
from bosun.errors import BosunError

log = logging.getLogger(__name__)

COMMANDS = [
    ("status", "What the session's run is doing"),
    ("abandon", "Give up the task that waits for you (text after it: why)"),
    ("approve", "Approve the task that awaits your review (it is merged)"),
    ("reject", "Reject the task that awaits your review (text after it: why)"),
]


def _text_of(blocks: list[Any]) -> str:
    parts = []
    for block in blocks:
        text = getattr(block, "text", None)
        if isinstance(text, str):
            parts.append(text)
        elif getattr(block, "type", "") == "resource_link":
            parts.append(str(getattr(block, "uri", "")))
    return "\n".join(parts).strip()


class BosunAgent:
    """The agent side of one editor connection."""

    def __init__(self, daemons: Daemons | None = None) -> None:
        self.daemons = daemons or Daemons()
        self.sessions: dict[str, Session] = {}
        self.editor: Any = None

    def on_connect(self, conn: Any) -> None:
        """The SDK hands over the editor's side of the connection."""
        self.editor = conn

    async def initialize(
        self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None,
        **_: Any,
    ) -> acp.InitializeResponse:  # fmt: skip
        """ACP v1 (the version this agent speaks, whatever newer one is offered)."""
        return acp.InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=acp.AgentCapabilities(
                load_session=True,
                prompt_capabilities=acp.PromptCapabilities(
                    image=False, audio=False, embedded_context=False
                ),
                session_capabilities=acp.SessionCapabilities(
                    list=acp.SessionListCapabilities(), resume=acp.SessionResumeCapabilities()
                ),
            ),
            agent_info=acp.Implementation(name="bosun", title="Bosun", version=__version__),
            auth_methods=[],
        )

    async def authenticate(self, method_id: str, **_: Any) -> acp.AuthenticateResponse | None:
        """Nothing to authenticate: provider keys are the daemon's (docs/models.md)."""
        return acp.AuthenticateResponse()

    async def _link(self, cwd: str) -> DaemonLink:
        try:
            return await self.daemons.for_cwd(cwd)
        except BosunError as exc:
            raise RequestError.invalid_params({"cwd": cwd, "reason": exc.message}) from exc

    def _open(self, session_id: str, link: DaemonLink) -> Session:
        old = self.sessions.pop(session_id, None)
        if old is not None:
            old.close()
        session = Session(session_id, link, self.editor)
        self.sessions[session_id] = session
        return session

    async def _advertise(self, session: Session) -> None:
        await session.send(
            acp.AvailableCommandsUpdate(
                session_update="available_commands_update",
                available_commands=[
                    acp.AvailableCommand(name=name, description=text) for name, text in COMMANDS
                ],
            )
        )

    async def new_session(
        self, cwd: str, mcp_servers: list[Any] | None = None, **_: Any
    ) -> acp.NewSessionResponse:
        """A session in the repository containing `cwd` (its daemon started if need be)."""
        link = await self._link(cwd)
        session = self._open(f"new-{uuid.uuid4().hex[:12]}", link)
        await self._advertise(session)
        return acp.NewSessionResponse(session_id=session.id)

    async def _run_session(self, cwd: str, session_id: str, *, replay: bool) -> Session:
        run_id = m.run_of_session(session_id)
        if run_id is None:
            raise RequestError.invalid_params(
                {"sessionId": session_id, "reason": "Bosun sessions are listed as run-<id>"}
            )
        link = await self._link(cwd)
        session = self._open(session_id, link)
        try:
            await session.attach(run_id, replay=replay)
        except RpcError as exc:
            session.close()
            self.sessions.pop(session_id, None)
            raise RequestError.invalid_params(
                {"sessionId": session_id, "reason": exc.message}
            ) from exc
        await self._advertise(session)
        return session

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None, **_: Any
    ) -> acp.LoadSessionResponse:
        """A run as a session, its history replayed as updates."""
        await self._run_session(cwd, session_id, replay=True)
        return acp.LoadSessionResponse()

    async def resume_session(
        self, session_id: str, cwd: str, mcp_servers: list[Any] | None = None, **_: Any
    ) -> acp.ResumeSessionResponse:
        """A run as a session, without replaying it."""
        await self._run_session(cwd, session_id, replay=False)
        return acp.ResumeSessionResponse()

    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **_: Any
    ) -> acp.ListSessionsResponse:
        """The workspace's runs, newest first, 50 a page (the cursor is the last run id)."""
        if cwd is None:
            return acp.ListSessionsResponse(sessions=[])
        link = await self._link(cwd)
        params: dict[str, Any] = {"limit": 50}
        if cursor is not None:
            if not cursor.isdigit():
                raise RequestError.invalid_params({"cursor": cursor})
            params["beforeId"] = int(cursor)
        runs = [
            Run.model_validate(r) for r in (await link.request("bosun/listRuns", params))["runs"]
        ]
        root = str(link.ws.root)
        more = str(runs[-1].id) if len(runs) == 50 else None
        return acp.ListSessionsResponse(
            sessions=[m.session_info(run, root) for run in runs], next_cursor=more
        )

    async def prompt(self, prompt: list[Any], session_id: str, **_: Any) -> acp.PromptResponse:
        """Start an objective or answer the waiting question; ends when the run does."""
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params(
                {"sessionId": session_id, "reason": "unknown session"}
            )
        if session.in_turn:
            raise RequestError.invalid_request({"reason": "a turn of this session is running"})
        text = _text_of(prompt)
        if not text:
            raise RequestError.invalid_params({"reason": "the prompt has no text"})
        try:
            if not session.link.alive:  # the daemon restarted since: reconnect (or start it)
                session.rebind(await self._link(str(session.link.ws.root)))
            if text.strip() == "/status":
                await session.send(m.agent_text(await self._status(session)))
                return acp.PromptResponse(stop_reason="end_turn")
            reason = await session.prompt(text)
        except RpcError as exc:
            await session.send(m.agent_text(f"Bosun refused: {exc.message}\n"))
            return acp.PromptResponse(stop_reason="end_turn")
        except DaemonNotRunning as exc:
            note = f"Bosun's daemon went away ({exc.message}); send your message again.\n"
            await session.send(m.agent_text(note))
            return acp.PromptResponse(stop_reason="end_turn")
        return acp.PromptResponse(stop_reason=reason)

    async def _status(self, session: Session) -> str:
        if session.run_id is None:
            return "No run yet: your next message is the objective.\n"
        found = await session.link.request("bosun/getRun", {"runId": session.run_id})
        run = Run.model_validate(found["run"])
        lines = [f"Run {run.id} ({run.state.value}): {run.objective}"]
        for raw in found["tasks"]:
            lines.append(f"- #{raw['id']} {raw['title']}: {raw['state']}")
        return "\n".join(lines) + "\n"

    async def cancel(self, session_id: str, **_: Any) -> None:
        """session/cancel: the running turn's run is cancelled."""
        session = self.sessions.get(session_id)
        if session is not None:
            session.cancel()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """No extension methods."""
        raise RequestError.method_not_found(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        """Extension notifications are ignored."""

    async def close(self) -> None:
        """The editor left: sessions stop listening; runs go on in the daemons."""
        for session in self.sessions.values():
            session.close()
        await self.daemons.close()
