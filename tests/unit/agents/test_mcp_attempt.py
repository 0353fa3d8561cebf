"""An attempt with MCP servers configured: the model gets their tools, the agent hears of a broken one."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun.tools.mcp.settings import McpSettings
from bosun_protocol.entities import AttemptOutcome

SCENARIO = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "time__get_current_time"
arguments = { timezone = "Asia/Tokyo" }

[[reply]]
role = "coder"
turn = 2
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "asked the time server", files_changed = [] }
"""


async def test_an_attempt_offers_mcp_tools_to_the_model_and_names_a_server_that_failed(
    harness_factory: Callable[..., Any], tmp_path: Path
) -> None:
    h = await harness_factory(SCENARIO)
    task = await h.task()
    agents = h.agents()
    servers = {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]},
        "gone": {"command": str(tmp_path / "missing-server")},
    }
    mcp = McpSettings.model_validate({"servers": servers})
    agents.settings = agents.settings.model_copy(update={"mcp": mcp})
    report = await agents.run_attempt(h.request(task))
    assert report.outcome is AttemptOutcome.FINISHED, report.error
    messages, _ = await h.store.transcript(task.id, 1)
    assert "gone: failed" in messages[1].content  # the brief says which server is missing
    tool_outputs = [m.content for m in messages if m.role == "tool"]
    assert any('"timezone": "Asia/Tokyo"' in out for out in tool_outputs), tool_outputs
    events, _ = await h.store.events_since(0)
    calls = [e.data for e in events if e.kind == "tool_call"]
    assert calls[0]["tool"] == "time__get_current_time" and calls[0]["mcpServer"] == "time"
