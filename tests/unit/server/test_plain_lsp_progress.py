"""Plain-LSP progress words and the first view of a run (issue 15, items 5, 6 and 8)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from bosun.server.plain_text import end_message, live_message, progress_title
from bosun.server.presenter import HubNotifier
from bosun_protocol.entities import Run, RunState
from lsprotocol import types


def run(state: RunState, **fields: Any) -> Run:
    now = datetime.now(UTC)
    return Run(
        id=7,
        objective="Add a --verbose flag to the CLI and document it",
        state=state,
        created_at=now,
        updated_at=now,
        **fields,
    )


def test_the_end_message_says_where_the_work_went() -> None:
    landed = run(RunState.COMPLETED, base_branch="main", run_branch="bosun/run-7")
    assert end_message(landed, {"complete": 3}) == (
        "run completed: 3/3 tasks done — landed on main"
    )
    kept = run(RunState.COMPLETED, reason="not landed (alice declined); the work is on b")
    assert end_message(kept, {"complete": 1}).endswith("the work is on b")
    cancelled = run(RunState.CANCELLED, reason="cancelled by a client")
    text = end_message(cancelled, {"complete": 2, "abandoned": 3})
    assert text == "run cancelled: 2/5 tasks done, 3 abandoned — cancelled by a client"


def test_progress_speaks_of_the_objective_and_in_words_not_state_names() -> None:
    live = run(RunState.RUNNING)
    assert progress_title(live) == "Bosun run 7: Add a --verbose flag to the CLI and document it"
    message, percent = live_message(live, {"awaiting_qa": 1, "waiting_human": 1, "complete": 2})
    assert message == "2/4 tasks done, 1 being checked, 1 waiting for you" and percent == 50
    assert "awaiting" not in message and "_" not in message
    assert live_message(run(RunState.PLANNING), {"active": 1})[0].startswith("planning: ")


class FakeConnection:
    """What the notifier uses of a connection, recording what it sends."""

    def __init__(self) -> None:
        self.id = 1
        self.initialized = True
        self.takes_requests = True
        self.client_options: dict[str, Any] = {}
        self.closed = asyncio.Event()
        self.sent: list[tuple[str, Any]] = []
        window = SimpleNamespace(work_done_progress=True)
        self.protocol = SimpleNamespace(
            client_capabilities=SimpleNamespace(window=window),
            send_request_async=self._request,
            notify=lambda method, params: self.sent.append((method, params.value)),
        )

    async def _request(self, method: str, params: Any, **_: Any) -> None:
        self.sent.append((method, params))


async def test_a_client_whose_first_view_of_a_run_is_its_end_gets_begin_then_end() -> None:
    conn = FakeConnection()
    notifier = HubNotifier(SimpleNamespace(connections={conn}), resolve=None)  # type: ignore[arg-type]
    finished = run(RunState.COMPLETED, base_branch="main")
    await notifier._progress(conn, finished, {"complete": 2})  # type: ignore[arg-type]
    kinds = [m for m, _ in conn.sent]
    assert kinds == [types.WINDOW_WORK_DONE_PROGRESS_CREATE, types.PROGRESS, types.PROGRESS]
    begin, end = conn.sent[1][1], conn.sent[2][1]
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert end.message == "run completed: 2/2 tasks done — landed on main"


async def test_a_report_never_overtakes_the_begin_while_the_token_request_is_answered() -> None:
    conn = FakeConnection()
    answered = asyncio.Event()

    async def slow_create(method: str, params: Any, **_: Any) -> None:
        conn.sent.append((method, params))
        await answered.wait()  # the client takes its time with the token request

    conn.protocol.send_request_async = slow_create
    notifier = HubNotifier(SimpleNamespace(connections={conn}), resolve=None)  # type: ignore[arg-type]
    live = run(RunState.RUNNING)
    first = asyncio.ensure_future(notifier._progress(conn, live, {"active": 1}))  # type: ignore[arg-type]
    second = asyncio.ensure_future(notifier._progress(conn, live, {"complete": 1}))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    answered.set()
    await asyncio.gather(first, second)
    values = [v for m, v in conn.sent if m == types.PROGRESS]
    assert [type(v) for v in values] == [types.WorkDoneProgressBegin, types.WorkDoneProgressReport]
