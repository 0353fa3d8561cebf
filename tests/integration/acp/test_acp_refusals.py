"""`bosun acp` answers bad requests with errors an editor can show, and goes on serving
(driven by the ACP Python SDK's client side): a folder that is no repository, an unknown
session, a session id that names no run, an empty prompt, an unknown extension method."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from acp import Client, RequestError, spawn_agent_process, text_block

from tests.integration.engine.daemon_process import Daemon


class Editor:
    """An ACP client that records updates and refuses every permission request."""

    def __init__(self) -> None:
        self.updates: list[Any] = []

    def said(self) -> list[str]:
        """The text of Bosun's messages so far."""
        return [
            u.content.text
            for u in self.updates
            if getattr(u, "session_update", "") == "agent_message_chunk"
        ]

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append(update)

    async def request_permission(self, *args: Any, **kwargs: Any) -> Any:
        raise RequestError.method_not_found("session/request_permission")


def as_client(editor: Editor) -> Client:
    # The SDK calls the methods a test editor has; its protocol class lists every one.
    return cast(Client, editor)


@pytest.fixture
async def agent(git_repo: Path) -> AsyncIterator[Any]:
    daemon = Daemon(git_repo)
    daemon.start()
    try:
        command = [sys.executable, "-m", "bosun", "acp", "--no-start"]
        async with spawn_agent_process(as_client(Editor()), *command, cwd=git_repo) as (conn, _):
            await conn.initialize(protocol_version=1)
            yield conn
    finally:
        daemon.stop()


async def test_a_folder_that_is_no_repository_is_refused_with_the_reason(
    agent: Any, tmp_path: Path
) -> None:
    plain = tmp_path / "notes"
    plain.mkdir()
    with pytest.raises(RequestError) as refused:
        await agent.new_session(cwd=str(plain), mcp_servers=[])
    assert refused.value.code == -32602
    assert "not inside a git repository" in str(refused.value.data)


async def test_unknown_sessions_and_empty_prompts_are_refused_and_the_agent_goes_on(
    agent: Any, git_repo: Path
) -> None:
    with pytest.raises(RequestError) as unknown:
        await agent.prompt(session_id="nope", prompt=[text_block("hello")])
    assert "unknown session" in str(unknown.value.data)
    with pytest.raises(RequestError) as no_run:
        await agent.load_session(cwd=str(git_repo), session_id="run-999", mcp_servers=[])
    assert "999" in str(no_run.value.data)
    with pytest.raises(RequestError) as not_a_run:
        await agent.load_session(cwd=str(git_repo), session_id="elsewhere", mcp_servers=[])
    assert "run-<id>" in str(not_a_run.value.data)
    session = await agent.new_session(cwd=str(git_repo), mcp_servers=[])
    with pytest.raises(RequestError) as empty:
        await agent.prompt(session_id=session.session_id, prompt=[text_block("   ")])
    assert "no text" in str(empty.value.data)
    status = await agent.prompt(session_id=session.session_id, prompt=[text_block("/status")])
    assert status.stop_reason == "end_turn"  # still serving
    stray = await agent.prompt(session_id=session.session_id, prompt=[text_block("/approve")])
    assert stray.stop_reason == "end_turn"  # an answer with nothing to answer starts no run
    listed = await agent.list_sessions(cwd=str(git_repo))
    assert listed.sessions == []


class HoldingEditor(Editor):
    """Leaves every permission request open, noting that one came."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()

    async def request_permission(self, *args: Any, **kwargs: Any) -> Any:
        self.asked.set()
        await asyncio.Event().wait()  # never answered


async def test_a_daemon_that_goes_away_mid_turn_ends_the_turn_and_is_reconnected(
    git_repo: Path,
) -> None:
    from tests.integration.server.conftest import start_daemon

    daemon = start_daemon(git_repo)  # the director asks a human at once
    editor = HoldingEditor()
    command = [sys.executable, "-m", "bosun", "acp", "--no-start"]
    try:
        async with spawn_agent_process(as_client(editor), *command, cwd=git_repo) as (conn, _):
            await conn.initialize(protocol_version=1)
            session = await conn.new_session(cwd=str(git_repo), mcp_servers=[])
            turn = asyncio.create_task(
                conn.prompt(session_id=session.session_id, prompt=[text_block("tidy up")])
            )
            await asyncio.wait_for(editor.asked.wait(), 60)
            daemon.kill(signal.SIGTERM)
            ended = await asyncio.wait_for(turn, 60)
            assert ended.stop_reason == "end_turn"
            assert any("daemon went away" in text for text in editor.said())
            daemon = start_daemon(git_repo)
            status = await conn.prompt(
                session_id=session.session_id, prompt=[text_block("/status")]
            )
            assert status.stop_reason == "end_turn"
            assert editor.said()[-1].startswith("Run 1 (")
    finally:
        daemon.kill(signal.SIGTERM)
