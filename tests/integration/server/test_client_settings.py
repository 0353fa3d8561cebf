"""Settings and API keys sent by a client: applied, redacted, refused when invalid."""

from __future__ import annotations

import asyncio

from bosun.client import Client

from tests.integration.server.conftest import RunningDaemon

KEY = "sk-test-client-key-0123456789"


async def _log_line(d: RunningDaemon, needle: str) -> str:
    """The daemon log line containing `needle` (the log is written before the answer)."""
    for line in (d.workspace.log_dir / "daemon.log").read_text().splitlines():
        if needle in line:
            return line
    raise AssertionError(f"no log line with {needle!r}")


async def test_settings_and_keys_from_initialize_are_applied_and_keys_never_logged(
    daemon: RunningDaemon,
) -> None:
    options = {"settings": {"engine": {"workers": 2}}, "apiKeys": {"openai": KEY}}
    async with await Client.connect(daemon.workspace.socket_path, options=options) as c:
        await c.request("bosun/status")
    line = await _log_line(daemon, "settings from a client applied")
    assert "engine.workers" in line and "llm.providers.openai.api_key" in line
    text = (daemon.workspace.log_dir / "daemon.log").read_text()
    assert KEY not in text
    assert KEY not in (daemon.workspace.log_dir / "daemon.out").read_text()


async def test_invalid_settings_are_refused_with_a_message_and_the_session_goes_on(
    daemon: RunningDaemon,
) -> None:
    options = {"settings": {"engine": {"workers": "many"}}}
    async with await Client.connect(daemon.workspace.socket_path, options=options) as c:
        method, params = await asyncio.wait_for(c.notifications.get(), 20)
        while method != "window/showMessage":
            method, params = await asyncio.wait_for(c.notifications.get(), 20)
        assert "engine.workers" in params["message"]
        assert (await c.request("bosun/status"))["pid"] == daemon.info["pid"]


async def test_did_change_configuration_replaces_the_clients_settings(
    daemon: RunningDaemon,
) -> None:
    async with await Client.connect(daemon.workspace.socket_path) as c:
        c.notify("workspace/didChangeConfiguration", {"settings": {"engine": {"max_retries": 1}}})
        await c.request("bosun/status")  # answered after the notification was handled
    line = await _log_line(daemon, "settings from a client applied")
    assert "engine.max_retries" in line
