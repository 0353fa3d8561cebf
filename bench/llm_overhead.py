"""Per-call overhead of bosun's model layer over calling the SDK directly.

Both sides stream the same answer from the same local fake server (tests/fakes), so
the difference is the layer: message translation, budget check, rate limiter, retry
wrapper with its first-token deadline, stream assembly, cost accounting. A third
column adds recording on the real board store (record_call + add_cost, fsynced).

    .venv/bin/python -m bench.llm_overhead [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
from anthropic.types import MessageParam
from bosun.board import Store, TaskSpec
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import FAKE_KEYS, fake_settings
from tests.fakes.replies import FakeProvider, FakeReply

ANSWER = FakeReply(text="The quick brown fox jumps over the lazy dog. " * 4, chunk_size=12)
PROMPT = "Summarise the design document in one paragraph."


async def _medians_ms(paths: list[Callable[[], Awaitable[Any]]], calls: int) -> list[float]:
    """Median time of each path; calls are interleaved so machine load hits all alike."""
    for _ in range(20):  # warm connections and caches
        for path in paths:
            await path()
    times: list[list[float]] = [[] for _ in paths]
    for _ in range(calls):
        for i, path in enumerate(paths):
            start = time.perf_counter()
            await path()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) * 1000 for t in times]


def _direct(fake: FakeProvider, kind: str) -> tuple[Callable[[], Awaitable[Any]], Any]:
    if kind == "openai":
        oai_messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
        oai = openai.AsyncOpenAI(base_url=fake.url + "/v1", api_key=FAKE_KEYS[kind], max_retries=0)

        async def call_openai() -> None:
            stream = await oai.chat.completions.create(
                model="fake-model",
                messages=oai_messages,
                max_tokens=256,
                stream=True,
                stream_options={"include_usage": True},
            )
            async for _ in stream:
                pass

        return call_openai, oai
    ant = anthropic.AsyncAnthropic(base_url=fake.url, api_key=FAKE_KEYS[kind], max_retries=0)
    ant_messages: list[MessageParam] = [{"role": "user", "content": PROMPT}]

    async def call_anthropic() -> None:
        stream = await ant.messages.create(
            model="fake-model",
            messages=ant_messages,
            max_tokens=256,
            stream=True,
        )
        async for _ in stream:
            pass

    return call_anthropic, ant


async def _bench(kind: str, calls: int, db: Path) -> tuple[float, float, float]:
    fake: FakeProvider = FakeOpenAI() if kind == "openai" else FakeAnthropic()
    fake.default = ANSWER
    request = ModelRequest(messages=[ChatMessage.user(PROMPT)], max_tokens=256)
    async with fake:
        direct, client = _direct(fake, kind)
        bare = ModelGateway(fake_settings(fake))
        store = await Store.open(db, boot_id="bench")
        run = await store.create_run("bench")
        [task] = await store.create_tasks(run.id, [TaskSpec(key="t", title="t")])
        await store.start_attempt(task.id, 1)
        recorded = ModelGateway(fake_settings(fake), store)
        turns = iter(range(1, 10**9))

        async def via_layer() -> None:
            await bare.complete(request, CallContext(task_key="t"))

        async def via_layer_recorded() -> None:
            ctx = CallContext(run_id=run.id, task_id=task.id, task_key="t", turn=next(turns))
            await recorded.complete(request, ctx)

        try:
            d, layer, rec = await _medians_ms([direct, via_layer, via_layer_recorded], calls)
        finally:
            await client.close()
            await bare.aclose()
            await recorded.aclose()
            await store.close()
    return d, layer, rec


def main(argv: list[str] | None = None) -> None:
    """Print the median per-call time of each path and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    print(f"median of {args.calls} streamed calls against a local fake server")
    print(f"{'sdk':<10}{'direct ms':>11}{'layer ms':>10}{'ratio':>7}{'+ board ms':>12}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("openai", "anthropic"):
            d, layer, rec = asyncio.run(_bench(kind, args.calls, Path(tmp) / f"{kind}.db"))
            print(f"{kind:<10}{d:>11.3f}{layer:>10.3f}{layer / d:>7.2f}{rec:>12.3f}{rec / d:>7.2f}")


if __name__ == "__main__":
    main()
