"""Prompt caching through the real SDK adapters: Anthropic breakpoints sent, cache reads
and writes counted and priced on the board, OpenAI-style automatic caching hitting the
stable prefix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun.agents.settings import AgentSettings
from bosun.llm.settings import Price, ProviderSettings
from bosun_protocol.entities import AttemptOutcome

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import FAKE_KEYS, fake_settings
from tests.fakes.prompt_cache import AnthropicCache, AutomaticCache
from tests.integration.agents.test_context_with_providers import call, script

PRICE = Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75)


def _breakpoints(body: dict[str, Any]) -> list[str]:
    where = []
    for block in body.get("system") or []:
        if "cache_control" in block:
            where.append("system")
    for i, message in enumerate(body["messages"]):
        for block in message["content"]:
            if "cache_control" in block:
                where.append(f"message {i}")
    return where


async def _reading_attempt(
    h: Any, fake: Any, turns: int, agents: AgentSettings | None = None, **llm: Any
) -> Any:
    task = await h.task()
    worktree = Path(task.worktree or "")
    for i in range(turns):
        (worktree / f"f{i}.py").write_text(f"# file {i}\n" + "x = 1\n" * (400 + 97 * i % 700))
    fake.behaviour = script(*(call("read_file", path=f"f{i}.py") for i in range(turns)))
    settings = fake_settings(fake, prices={"anthropic:fake-model": PRICE,
                                           "openai:fake-model": PRICE}, **llm)  # fmt: skip
    report = await h.agents(settings, agents).run_attempt(h.request(task))
    assert report.outcome is AttemptOutcome.FINISHED, report.error
    return await h.store.get_task(task.id)


async def test_anthropic_requests_mark_the_system_the_brief_and_the_last_message(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    async with FakeAnthropic() as fake:
        await _reading_attempt(h, fake, turns=3)
    bodies = fake.bodies()
    assert _breakpoints(bodies[0]) == ["system", "message 0"]  # only the brief so far
    last = len(bodies[3]["messages"]) - 1
    assert _breakpoints(bodies[3]) == ["system", "message 0", f"message {last}"]
    assert all(len(_breakpoints(b)) <= 4 for b in bodies)  # the API allows four


async def test_after_a_compaction_step_the_archived_prefix_is_read_from_the_cache(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    small = AgentSettings(context_chars=60_000, compact_at_chars=16_000, compact_to_chars=10_000)
    async with FakeAnthropic() as fake:
        fake.cache = AnthropicCache()
        await _reading_attempt(h, fake, turns=14, agents=small)
    bodies = fake.bodies()
    four = [i for i, b in enumerate(bodies) if len(_breakpoints(b)) == 4]
    assert four, [_breakpoints(b) for b in bodies]  # system, brief, archive's end, last
    calls = sorted(await h.calls("coder"), key=lambda c: c.turn)
    usage = [c.response["response"]["usage"] for c in calls]
    pinned = usage[0]["input_tokens"]  # the first call: system, tools and brief only
    # After a step, calls read the archive from the cache as well as the pinned prefix
    # (before, every compaction left only the pinned prefix to read).
    after = [u["cached_tokens"] for u in usage[four[0] + 1 :]]
    assert after and min(after) > pinned, (pinned, after)


async def test_anthropic_cache_reads_and_writes_are_counted_and_priced(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    async with FakeAnthropic() as fake:
        fake.cache = AnthropicCache()
        task = await _reading_attempt(h, fake, turns=10)
    cost = task.cost
    assert cost.cache_write_tokens > 0
    assert cost.cached_tokens >= 0.5 * cost.input_tokens, cost
    plain = cost.input_tokens - cost.cached_tokens - cost.cache_write_tokens
    billed = plain * 3.0 + cost.cached_tokens * 0.3 + cost.cache_write_tokens * 3.75
    assert cost.usd is not None
    assert abs(cost.usd - (billed + cost.output_tokens * 15.0) / 1e6) < 1e-9
    uncached = cost.input_tokens * 3.0 + cost.output_tokens * 15.0
    assert cost.usd < 0.7 * uncached / 1e6  # already over ten turns; more over longer ones


async def test_without_prompt_cache_no_breakpoint_is_sent(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    async with FakeAnthropic() as fake:
        fake.cache = AnthropicCache()
        conf = ProviderSettings(
            base_url=fake.base_url, api_key=FAKE_KEYS["anthropic"], prompt_cache=False
        )
        task = await _reading_attempt(h, fake, turns=3, providers={"anthropic": conf})
    assert all(_breakpoints(b) == [] for b in fake.bodies())
    assert task.cost.cached_tokens == 0


async def test_automatic_prefix_caching_hits_the_stable_prefix(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    async with FakeOpenAI() as fake:
        fake.cache = AutomaticCache()
        task = await _reading_attempt(h, fake, turns=10)
    cost = task.cost
    assert cost.cached_tokens >= 0.5 * cost.input_tokens, cost
    assert cost.cache_write_tokens == 0  # OpenAI bills no writes
