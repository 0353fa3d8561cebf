"""Hypothesis throws arbitrary frames and params at a live daemon: it never dies and
keeps answering a well-behaved client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bosun.workspace import Workspace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.server.conftest import init_repo, start_daemon
from tests.integration.server.rawclient import Raw

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
methods = st.sampled_from(
    [
        "bosun/status",
        "bosun/createRun",
        "bosun/getRun",
        "bosun/getTask",
        "bosun/updateTask",
        "bosun/eventsSince",
        "bosun/listRuns",
        "bosun/transcript",
        "initialize",
        "workspace/executeCommand",
        "$/cancelRequest",
        "nonsense",
    ]
)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "2.0", "1.0"]), "method": methods},
    optional={"id": st.integers() | st.text(max_size=5) | st.none(), "params": json_values},
)
raw_frames = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda b: b"Content-Length: %d\r\n\r\n" % len(b) + b, st.binary(max_size=200)),
    st.builds(
        lambda n, b: b"Content-Length: %d\r\n\r\n" % n + b,
        st.integers(0, 300),
        st.binary(max_size=100),
    ),
)


class _Daemon:
    ws: Workspace | None = None
    pid: int = 0


def _ensure_daemon(repo_factory: Any) -> Workspace:
    if _Daemon.ws is None:
        repo = repo_factory()
        d = start_daemon(repo)
        _Daemon.ws, _Daemon.pid = d.workspace, d.proc.pid
    return _Daemon.ws


async def _healthy(ws: Workspace) -> None:
    good = await Raw.unix(ws.socket_path)
    assert "result" in await good.initialize()
    await good.send({"jsonrpc": "2.0", "id": "ok", "method": "bosun/status"})
    assert "result" in await good.recv_response("ok")
    good.close()


async def _throw(ws: Workspace, payloads: list[bytes], initialize: bool) -> None:
    bad = await Raw.unix(ws.socket_path)
    if initialize:
        await bad.initialize()
    for p in payloads:
        try:
            await bad.send_bytes(p)
        except (ConnectionError, OSError):
            break
    bad.writer.transport.abort()


def test_daemon_survives_random_messages_and_frames(tmp_path_factory: Any) -> None:
    import os
    import signal

    def make_repo() -> Any:
        repo = tmp_path_factory.mktemp("fuzz") / "repo"
        init_repo(repo)
        return repo

    ws = _ensure_daemon(make_repo)

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        msgs=st.lists(messages, max_size=6),
        frames=st.lists(raw_frames, max_size=3),
        initialize=st.booleans(),
    )
    def check(msgs: list[dict[str, Any]], frames: list[bytes], initialize: bool) -> None:
        payloads = [
            b"Content-Length: %d\r\n\r\n%s" % (len(json.dumps(m).encode()), json.dumps(m).encode())
            for m in msgs
        ] + frames
        asyncio.run(_throw(ws, payloads, initialize))
        asyncio.run(_healthy(ws))

    try:
        check()
    finally:
        os.kill(_Daemon.pid, signal.SIGTERM)
        _Daemon.ws = None
