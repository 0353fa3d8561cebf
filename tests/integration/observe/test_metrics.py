"""The Prometheus endpoint, scraped during and after a scripted run, checked against the board."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.observe.demo_daemon import (
    all_events,
    connect,
    listener,
    run_demo,
    sample_repo,
    start_daemon,
    stop_daemon,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _get(url: str, method: str = "GET") -> tuple[int, str, str]:
    request = urllib.request.Request(url, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(request, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def _samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _sum(samples: Samples, name: str, **match: str) -> float:
    return sum(v for (n, labels), v in samples.items()
               if n == name and all((k, w) in labels for k, w in match.items()))  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """The demo repository with metrics on a free port of 127.0.0.1, and its daemon."""
    path = sample_repo(tmp_path / "wordkit", "[server]\nmetrics_port = 0\n")
    start_daemon(path)
    yield path
    stop_daemon(path)


async def test_the_endpoint_counts_what_the_board_holds_during_and_after_a_scripted_run(
    repo: Path,
) -> None:
    async with await connect(repo) as client:
        url = listener(await client.request("bosun/status"), "metrics:")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/metrics")
        status, kind, before = await asyncio.to_thread(_get, url)
        assert status == 200 and kind.startswith("text/plain")
        assert _samples(before)[("bosun_runs", (("state", "completed"),))] == 0

        during: list[tuple[dict[str, Any], Samples]] = []

        async def scrape(got: dict[str, Any]) -> None:  # while the human's answer is awaited
            during.append((got, _samples((await asyncio.to_thread(_get, url))[2])))

        run = await run_demo(client, scrape)
        assert run["run"]["state"] == "completed"
        events = await all_events(client)
        attempts = [a for t in run["tasks"]
                    for a in (await client.request("bosun/getTask", {"taskId": t["id"]}))["attempts"]]  # fmt: skip
        _, _, after = await asyncio.to_thread(_get, url)

    assert any(t["state"] == "waiting_human" for got, _ in during for t in got["tasks"])
    for got, seen in during:  # the gauges said what the board held at that moment
        assert seen[("bosun_runs", (("state", got["run"]["state"]),))] == 1
        waiting = sum(1 for t in got["tasks"] if t["state"] == "waiting_human")
        assert seen[("bosun_tasks", (("state", "waiting_human"),))] == waiting
        # Scraped just after the run was read: other tasks may have called models since.
        assert _sum(seen, "bosun_model_calls_total", outcome="ok") >= got["run"]["cost"]["calls"]
    samples = _samples(after)
    assert samples[("bosun_runs", (("state", "completed"),))] == 1
    for state in {t["state"] for t in run["tasks"]}:
        expected = sum(1 for t in run["tasks"] if t["state"] == state)
        assert samples[("bosun_tasks", (("state", state),))] == expected
    assert _sum(samples, "bosun_attempts_finished_total") == len(attempts)
    assert _sum(samples, "bosun_attempts_finished_total", outcome="interrupted") == 1
    assert _sum(samples, "bosun_attempts_started_total") == len(attempts)
    tool_events = [e for e in events if e["kind"] == "tool_call"]
    assert _sum(samples, "bosun_tool_calls_total") == len(tool_events)
    write_files = sum(1 for e in tool_events if e["data"]["tool"] == "write_file")
    assert _sum(samples, "bosun_tool_calls_total", tool="write_file", outcome="ok") == write_files
    assert _sum(samples, "bosun_tool_call_duration_seconds_count") == len(tool_events)
    # The same measurement as the events' durationMs (which is rounded to 0.1 ms).
    took = sum(e["data"]["durationMs"] for e in tool_events) / 1000
    spent = _sum(samples, "bosun_tool_call_duration_seconds_sum")
    assert abs(spent - took) <= 0.00005 * len(tool_events) + 1e-9
    cost = run["run"]["cost"]
    assert _sum(samples, "bosun_model_calls_total", outcome="ok") == cost["calls"]
    assert _sum(samples, "bosun_model_tokens_total", kind="input") == cost["inputTokens"]
    assert _sum(samples, "bosun_model_tokens_total", kind="output") == cost["outputTokens"]
    assert _sum(samples, "bosun_model_calls_total", role="director") >= 1
    assert _sum(samples, "bosun_model_call_duration_seconds_count") == cost["calls"]
    assert _sum(samples, "bosun_connected_clients") == 1
    assert _sum(samples, "bosun_sandbox_info") == 1
    assert samples[("bosun_worker_slots_limit", ())] == 3  # the demo's workers
    assert samples[("bosun_worker_slots_busy", ())] == 0  # the run is over
    assert _sum(samples, "bosun_board_commit_duration_seconds_count") > len(events) / 10
    # Every attempt waited in the ready queue once, which is empty now the run is over.
    assert _sum(samples, "bosun_ready_wait_seconds_count") == len(attempts)
    assert samples[("bosun_ready_queue_tasks", ())] == 0
    assert _sum(samples, "bosun_model_first_token_seconds_count") == cost["calls"]
    assert (_sum(samples, "bosun_model_first_token_seconds_sum")
            <= _sum(samples, "bosun_model_call_duration_seconds_sum"))  # fmt: skip
    # A worktree is made where the board first records one for a task.
    made = [e for e in events if e["kind"] == "task.worktree" and "path" in (e["data"] or {})]
    assert made and _sum(samples, "bosun_worktree_acquire_duration_seconds_count") == len(made)
    sources = {dict(labels)["source"] for name, labels in samples
               if name == "bosun_worktree_acquire_duration_seconds_count"}  # fmt: skip
    assert sources and sources <= {"pool", "new"}  # the pool may not be warm yet under load
    assert samples[("bosun_worktree_pool_target", ())] == 2  # the default
    assert 0 <= samples[("bosun_worktree_pool_ready", ())] <= 2
    assert not any("task_id" in str(labels) or "run_id" in str(labels) for _, labels in samples)


async def test_the_endpoint_answers_only_get_metrics_and_shrugs_off_bad_requests(
    repo: Path,
) -> None:
    async with await connect(repo) as client:
        url = listener(await client.request("bosun/status"), "metrics:")
    base = url.removesuffix("/metrics")
    assert (await asyncio.to_thread(_get, base + "/nope"))[0] == 404
    assert (await asyncio.to_thread(_get, url, "POST"))[0] == 405
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GARBAGE" * 2000)  # an endless request head is cut off, not buffered
    await writer.drain()
    assert await reader.read() == b""
    writer.close()
    assert (await asyncio.to_thread(_get, url))[0] == 200  # still serving
