"""A whole demo run in a real daemon through the real OpenAI and Anthropic adapters, served
by a fake provider that plays the demo scenario over HTTP and fails a fifth of the
requests (429, 5xx, 529, resets, cut streams, slow answers): the run still completes
with the demo's result, and a provider that is down for good leaves the task with a
human instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE
from bosun.cli.demo_command import test_command as sample_test_command
from bosun.client import Client
from bosun.llm.scenario import load_scenario

from tests.fakes.llm_settings import FAKE_KEYS
from tests.fakes.scenario_provider import (
    FaultPlan,
    ScenarioAnthropic,
    ScenarioOpenAI,
    ScenarioServing,
)
from tests.integration.engine.daemon_process import (
    Daemon,
    client,
    git,
    next_notification,
    run_to_end,
)

SEED = 131  # which calls fail: with the demo, 6 of 30 requests, each a different kind
RUN_LIMIT = 90  # seconds for a whole run (a run takes about 20 s on a quiet machine)
PRICE = {"input": 1.0, "output": 2.0}  # USD per million tokens, so cost is counted
EXPECTED_ATTEMPTS = {
    # The demo's own outcomes: faults are absorbed by the retry layer, never an attempt.
    "director": ["qa_passed"],
    "plan": ["qa_passed"],
    "slugify": ["qa_passed"],
    "top-words": ["qa_failed", "qa_passed"],  # the Phoenix retry
    "readme": ["interrupted", "qa_passed"],  # the human's answer
}


def write_config(repo: Path, provider: str, base_url: str, engine: dict[str, Any]) -> None:
    """Point the daemon's model at the fake, with retries fast enough for a test."""
    model = f"{provider}:fake-model"
    tables: dict[str, dict[str, Any]] = {
        "llm": {"default_model": model},
        f"llm.providers.{provider}": {
            "base_url": base_url,
            "api_key": FAKE_KEYS[provider],
            "timeout": 30.0,
        },
        # Short but real waits: a 429's retry-after (0.05 s) is honoured, a slow answer
        # is given up on after 3 s, backoff stays under 50 ms.
        "llm.retry": {
            "max_attempts": 5,
            "base_delay": 0.01,
            "max_delay": 0.05,
            "jitter": 0.0,
            "max_retry_after": 1.0,
            "first_token_timeout": 3.0,
        },
        f'llm.prices."{model}"': PRICE,
        "engine": {"test_command": sample_test_command(), "workers": 3, **engine},
    }
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    (repo / ".bosun" / "config.toml").write_text("\n".join(lines))


@contextlib.asynccontextmanager
async def serving(
    repo: Path, provider: str, plan: FaultPlan, **engine: Any
) -> AsyncIterator[tuple[ScenarioServing, Daemon]]:
    """The fake provider playing the demo, and a daemon configured to use it."""
    cls = ScenarioOpenAI if provider == "openai" else ScenarioAnthropic
    fake = cls(load_scenario("demo"), plan)
    async with fake:
        write_config(repo, provider, fake.base_url, engine)
        daemon = Daemon(repo)
        # In a thread: the fake serves on this loop and must keep answering meanwhile.
        await asyncio.to_thread(daemon.start)
        try:
            yield fake, daemon
        finally:
            await asyncio.to_thread(daemon.stop)


async def _attempts(c: Client, tasks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {
        t["key"]: (await c.request("bosun/getTask", {"taskId": t["id"]}))["attempts"] for t in tasks
    }


def _counters(cost: dict[str, Any]) -> tuple[int, int, int]:
    return cost["inputTokens"], cost["outputTokens"], cost["calls"]


def _total(costs: list[dict[str, Any]]) -> tuple[int, int, int]:
    parts = [_counters(c) for c in costs]
    return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_demo_run_completes_when_a_fifth_of_provider_requests_fail(
    repo: Path, provider: str
) -> None:
    plan = FaultPlan(rate=0.2, seed=SEED)
    async with serving(repo, provider, plan) as (fake, daemon), client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        final = await asyncio.wait_for(run_to_end(c, run["id"]), RUN_LIMIT)
        detail = await c.request("bosun/getRun", {"runId": run["id"]})
        attempts = await _attempts(c, detail["tasks"])
    book = fake.book
    assert book.problems == []  # every request was one the scenario answers
    assert final["state"] == "completed", final
    outcomes = {k: [a["outcome"] for a in v] for k, v in attempts.items()}
    assert outcomes == EXPECTED_ATTEMPTS, {k: [a["error"] for a in v] for k, v in attempts.items()}
    for task in detail["tasks"]:
        assert (task["state"], task["lease"]) == ("complete", None), task

    # About a fifth of the requests failed, in several ways, and each was retried.
    faults = book.faults()
    rate = len(faults) / len(book.served)
    assert 0.15 <= rate <= 0.25, (len(faults), len(book.served))
    assert len({f.fault for f in faults}) >= 4, [f.fault for f in faults]
    tried = {(s.ctx, s.try_number) for s in book.served}
    assert all((f.ctx, f.try_number + 1) in tried for f in faults)
    # A stream cut after some text was resumed: its partial went back with the retry.
    assert any(s.partials for s in book.served)

    # The board counted each answered call once, and its counters add up.
    answered = book.answers()
    served = (
        sum(s.input_tokens for s in answered),
        sum(s.output_tokens for s in answered),
        len(answered),
    )
    run_cost = detail["run"]["cost"]
    assert _counters(run_cost) == served
    assert _total([t["cost"] for t in detail["tasks"]]) == served
    for task in detail["tasks"]:
        assert _total([a["cost"] for a in attempts[task["key"]]]) == _counters(task["cost"])
    usd = (served[0] * PRICE["input"] + served[1] * PRICE["output"]) / 1_000_000
    assert run_cost["usd"] == pytest.approx(usd)

    # Landed: main has the fixed top_words and the README the human asked for.
    frequency = await asyncio.to_thread(git, repo, "show", "main:wordkit/frequency.py")
    readme = await asyncio.to_thread(git, repo, "show", "main:README.md")
    assert "item[0]" in frequency and "### Slugs" in readme


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_provider_down_for_good_leaves_the_task_with_a_human_not_hanging(
    repo: Path, provider: str
) -> None:
    plan = FaultPlan(rate=1.0, kinds=("unavailable",), max_per_call=None)
    async with serving(repo, provider, plan, max_retries=1) as (fake, daemon), client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        # Announced once its task is waiting_human (the queue may show it a moment before).
        wanted = next_notification(c, lambda method, _: method == "bosun/humanPrompt")
        asked = await asyncio.wait_for(wanted, RUN_LIMIT)
        prompt = asked["prompt"]
        queue = (await c.request("bosun/humanQueue", {"runId": run["id"]}))["prompts"]
        detail = await c.request("bosun/getRun", {"runId": run["id"]})
        [director] = detail["tasks"]
        attempts = (await c.request("bosun/getTask", {"taskId": director["id"]}))["attempts"]
        # Not stuck "running" with nothing behind it: a person can end it at once.
        cancelled = (await c.request("bosun/cancelRun", {"runId": run["id"]}))["run"]
    assert prompt["kind"] == "retries_spent" and prompt["taskId"] == director["id"]
    assert "503" in prompt["reason"] and "gave up after 5 tries" in prompt["reason"]
    assert (director["state"], director["lease"]) == ("waiting_human", None)
    assert "503" in director["reason"]
    assert [a["outcome"] for a in attempts] == ["error", "error"]  # max_retries = 1
    # Every request failed and none came after the task stopped: 2 attempts × 5 tries.
    assert [s.fault for s in fake.book.served] == ["unavailable"] * 10
    assert detail["run"]["cost"]["calls"] == 0
    assert [p["promptId"] for p in queue] == [prompt["promptId"]]
    assert detail["run"]["state"] in ("planning", "running")  # alive, a person's turn
    assert cancelled["state"] == "cancelled"
