"""OpenTelemetry traces of a scripted run, exported over OTLP/HTTP to a local receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.observe.demo_daemon import (
    connect,
    run_demo,
    sample_repo,
    start_daemon,
    stop_daemon,
)
from tests.integration.observe.otlp_receiver import otlp_receiver


def _by_id(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in spans}


async def test_a_run_exports_a_span_tree_run_task_attempt_model_and_tool_calls(
    tmp_path: Path,
) -> None:
    with otlp_receiver() as (endpoint, received):
        config = (f'[observe.tracing]\nendpoint = "{endpoint}"\n'
                  'headers = { "x-collector-tenant" = "bosun-tests" }\n')  # fmt: skip
        repo = sample_repo(tmp_path / "wordkit", config)
        start_daemon(repo)
        try:
            async with await connect(repo) as client:
                run = await run_demo(client)
        finally:
            stop_daemon(repo)  # the daemon flushes its spans before it exits
        spans = list(received.spans)
    assert run["run"]["state"] == "completed"
    assert received.headers and all(
        h["x-collector-tenant"] == "bosun-tests" for h in received.headers
    )
    ids = _by_id(spans)
    (root,) = [s for s in spans if s["name"] == "bosun.run"]
    assert root["parent"] is None and root["service"] == "bosun"
    assert root["attributes"]["bosun.run.id"] == run["run"]["id"]
    assert root["attributes"]["bosun.run.state"] == "completed"
    assert {s["trace"] for s in spans} == {root["trace"]}  # one trace per run

    tasks = [s for s in spans if s["name"] == "bosun.task"]
    assert sorted(s["attributes"]["bosun.task.id"] for s in tasks) == sorted(
        t["id"] for t in run["tasks"]
    )
    assert all(s["parent"] == root["id"] for s in tasks)
    attempts = [s for s in spans if s["name"] in ("bosun.attempt", "bosun.qa")]
    assert attempts and all(ids[s["parent"]]["name"] == "bosun.task" for s in attempts)
    readme = next(t for t in run["tasks"] if t["key"] == "readme")
    readme_attempts = [s for s in attempts if s["name"] == "bosun.attempt"
                       and s["attributes"]["bosun.task.id"] == readme["id"]]  # fmt: skip
    assert sorted(s["attributes"]["bosun.attempt"] for s in readme_attempts) == [1, 2]

    chats = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    assert len(chats) == run["run"]["cost"]["calls"]
    assert all(ids[s["parent"]]["name"] in ("bosun.attempt", "bosun.qa") for s in chats)
    first = chats[0]["attributes"]
    assert first["gen_ai.provider.name"] == "scripted"
    assert chats[0]["name"] == f"chat {first['gen_ai.request.model']}"
    assert (
        sum(s["attributes"]["gen_ai.usage.input_tokens"] for s in chats)
        == run["run"]["cost"]["inputTokens"]
    )
    assert all(s["attributes"]["gen_ai.response.finish_reasons"] for s in chats)
    assert not any("gen_ai.input.messages" in s["attributes"] for s in chats)  # not opted in

    tools = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "execute_tool"]
    assert {s["attributes"]["gen_ai.tool.name"] for s in tools} >= {"write_file", "finish"}
    assert all(ids[s["parent"]]["name"] == "bosun.attempt" for s in tools)
    assert all(s["name"] == f"execute_tool {s['attributes']['gen_ai.tool.name']}" for s in tools)
