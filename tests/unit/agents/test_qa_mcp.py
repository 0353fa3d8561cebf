"""QA's strategist with MCP servers configured: their tools are offered while it judges,
per profile, and every call goes through the tool pipeline (policy included), with the
reference `mcp-server-time` over stdio."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from bosun.agents.api import AttemptReport
from bosun.tools.context import ApprovalChoice, ApprovalDecision, ApprovalRequest
from bosun.tools.mcp.settings import McpSettings
from bosun_protocol.entities import AttemptOutcome

CRITERION = "the release notes give the time in Tokyo"
VERDICTS = json.dumps(
    {"verdicts": [{"criterion": CRITERION, "passed": True, "evidence": "checked with the tool"}],
     "summary": "met"}
)  # fmt: skip

SCENARIO = f"""
[[reply]]
role = "strategist"
turn = 1
[[reply.tool_calls]]
name = "time__get_current_time"
arguments = {{ timezone = "Asia/Tokyo" }}
[[reply.tool_calls]]
name = "time__convert_time"
arguments = {{ source_timezone = "UTC", time = "12:00", target_timezone = "Asia/Tokyo" }}
[[reply.tool_calls]]
name = "read_file"
arguments = {{ path = "README.md" }}

[[reply]]
role = "strategist"
turn = 2
text = {json.dumps(VERDICTS)}
"""

REPORT = AttemptReport(outcome=AttemptOutcome.FINISHED, summary="wrote notes", files_changed=[])

SERVERS: dict[str, dict[str, Any]] = {
    "time": {"command": sys.executable, "args": ["-m", "mcp_server_time"],
             "tools": {"convert_time": "deny"}},
    # Only coders get this one: the strategist must not see it (nor start it).
    "coders": {"command": sys.executable, "args": ["-m", "mcp_server_time"],
               "profiles": ["coder"]},
}  # fmt: skip


async def test_the_strategist_calls_its_profiles_mcp_tools_through_the_pipeline_then_judges(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(SCENARIO)
    task = await h.task(criteria=[CRITERION])
    agents = h.agents()
    mcp = McpSettings.model_validate({"servers": SERVERS})
    agents.settings = agents.settings.model_copy(update={"mcp": mcp})
    qa = await agents.run_qa(h.qa_request(task, REPORT, test_command="true"))

    assert qa.error is None and qa.passed, qa
    assert [v.criterion for v in qa.verdicts if v.criterion == CRITERION] == [CRITERION]
    first, second = await h.calls("strategist")
    offered = {t["name"] for t in first.request["request"]["tools"]}
    assert offered == {"time__get_current_time", "time__convert_time"}
    results = [m for m in second.request["request"]["messages"] if m["role"] == "tool"]
    assert len(results) == 3
    assert '"timezone": "Asia/Tokyo"' in results[0]["content"]  # the server's real answer
    assert results[1]["content"].startswith("denied by policy")  # `tools.convert_time`
    assert "unknown tool 'read_file'" in results[2]["content"]  # built-ins are not QA's
    events, _ = await h.store.events_since(0)
    calls = [e.data for e in events if e.kind == "tool_call"]
    assert [(c["tool"], c["outcome"], c["mcpServer"]) for c in calls] == [
        ("time__get_current_time", "ok", "time"),
        ("time__convert_time", "denied", "time"),
    ]
    (servers,) = [e.data for e in events if e.kind == "mcp_servers"]
    assert [s["server"] for s in servers["servers"]] == ["time"]


async def test_without_mcp_servers_the_strategist_is_offered_no_tools(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(
        f'[[reply]]\nrole = "strategist"\nturn = 1\ntext = {json.dumps(VERDICTS)}\n'
    )
    task = await h.task(criteria=[CRITERION])
    qa = await h.agents().run_qa(h.qa_request(task, REPORT, test_command="true"))
    assert qa.passed, qa
    (call,) = await h.calls("strategist")
    assert call.request["request"]["tools"] == []


class _Human:
    """An approver that allows once and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[ApprovalRequest] = []

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        self.asked.append(request)
        return ApprovalDecision(choice=ApprovalChoice.ALLOW_ONCE)


async def test_an_ask_rule_on_a_strategist_tool_reaches_the_human_through_the_approver(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(SCENARIO)
    task = await h.task(criteria=[CRITERION])
    agents = h.agents()
    servers = {"time": {**SERVERS["time"], "tools": {"get_current_time": "ask"}}}
    mcp = McpSettings.model_validate({"servers": servers})
    agents.settings = agents.settings.model_copy(update={"mcp": mcp})
    human = _Human()
    qa = await agents.run_qa(h.qa_request(task, REPORT, test_command="true", approver=human))
    assert qa.passed, qa
    assert [(r.tool, r.arguments, r.task_id) for r in human.asked] == [
        ("time__get_current_time", {"timezone": "Asia/Tokyo"}, task.id)
    ]
    events, _ = await h.store.events_since(0)
    outcomes = {e.data["tool"]: e.data["outcome"] for e in events if e.kind == "tool_call"}
    assert outcomes["time__get_current_time"] == "ok"


async def test_the_strategists_servers_are_not_started_when_the_tests_already_failed(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(SCENARIO)
    task = await h.task(criteria=[CRITERION])
    agents = h.agents()
    agents.settings = agents.settings.model_copy(
        update={"mcp": McpSettings.model_validate({"servers": SERVERS})}
    )
    qa = await agents.run_qa(h.qa_request(task, REPORT, test_command="false"))
    assert not qa.passed and qa.error is None
    events, _ = await h.store.events_since(0)
    assert not [e for e in events if e.kind in ("mcp_servers", "tool_call")]
    assert await h.calls("strategist") == []
