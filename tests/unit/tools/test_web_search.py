"""web_search against a local fake of the Tavily API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from bosun.secrets import clear_for_tests
from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.settings import ToolSettings, WebSearchSettings
from bosun_protocol.entities import Profile

KEY = "tvly-test-key-0123456789"


class FakeTavily:
    """Records requests and answers with what the test set."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.status = 200
        self.body: Any = {
            "answer": "short answer",
            "results": [
                {
                    "title": "Bosun docs",
                    "url": "https://example.invalid/a",
                    "content": "about " + KEY,
                },
                {"title": "Second", "url": "https://example.invalid/b", "content": "more"},
            ],
        }


@pytest.fixture
def fake() -> Iterator[tuple[FakeTavily, str]]:
    """A running fake on 127.0.0.1 and its base URL; stopped after the test."""
    state = FakeTavily()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                (self.path, dict(self.headers), json.loads(self.rfile.read(length)))
            )
            payload = json.dumps(state.body).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        clear_for_tests()


def _setup(
    base_url: str, tmp_path: Path, make_ctx: Callable[..., ToolContext]
) -> tuple[ToolExecutor, ToolContext]:
    settings = ToolSettings(
        web_search=WebSearchSettings(api_key=KEY, base_url=base_url, timeout_s=5)
    )
    executor = ToolExecutor(build_registry(settings), Policy.from_settings(settings))
    return executor, make_ctx(tmp_path, profile=Profile.RESEARCHER, settings=settings)


async def test_search_sends_query_and_key_and_formats_results(
    fake: tuple[FakeTavily, str], tmp_path: Path, make_ctx: Callable[..., ToolContext]
) -> None:
    state, url = fake
    executor, ctx = _setup(url, tmp_path, make_ctx)
    result = await executor.call(ctx, "web_search", {"query": "bosun daemon", "max_results": 2})
    assert not result.is_error, result.content
    path, headers, body = state.requests[0]
    assert path == "/search"
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body == {"query": "bosun daemon", "max_results": 2}
    assert "1. Bosun docs — https://example.invalid/a" in result.content
    assert KEY not in result.content  # the key is a registered secret, even when echoed back


async def test_http_errors_and_garbage_become_tool_errors(
    fake: tuple[FakeTavily, str], tmp_path: Path, make_ctx: Callable[..., ToolContext]
) -> None:
    state, url = fake
    executor, ctx = _setup(url, tmp_path, make_ctx)
    state.status = 500
    failed = await executor.call(ctx, "web_search", {"query": "x"})
    assert failed.is_error
    assert "HTTP 500" in failed.content
    state.status, state.body = 200, ["not", "an", "object"]
    odd = await executor.call(ctx, "web_search", {"query": "x"})
    assert odd.is_error
    assert "unexpected shape" in odd.content


async def test_unreachable_service_is_a_tool_error(
    tmp_path: Path, make_ctx: Callable[..., ToolContext]
) -> None:
    executor, ctx = _setup("http://127.0.0.1:9", tmp_path, make_ctx)
    result = await executor.call(ctx, "web_search", {"query": "x"})
    clear_for_tests()
    assert result.is_error
    assert "unreachable" in result.content
