"""Context growth and prompt-cache savings of a long, misbehaving attempt, end to end.

One deterministic 60-turn attempt (reads of 2–8 KB files, test runs of a few KB, a
30,000-character output every tenth turn, one refused 5 MB `write_file`, never a
`finish`) runs through the real worker loop, tools, board and SDK adapters against
the local fake servers (tests/fakes), which implement each provider's caching rules:
Anthropic explicit breakpoints with a 5-minute TTL, OpenAI-style automatic prefix
caching from 1,024 tokens (tests/fakes/prompt_cache.py). Printed per provider: the
context (characters of the messages sent) at turns 5, 25 and 50 and the 50/5 ratio,
the largest request, prompt tokens, the share served from cache, the billed input
cost with caching against the same tokens billed without it, and the whole attempt's
cost against the same session through the window as it was before issue 14
(bench/legacy_context.py: no cache breakpoints, arguments never cut, a sliding trim
near 120,000 characters) on the same fake.

    .venv/bin/python -m bench.context_growth [--turns 60] [--per-turn]
        [--compact-at CHARS --compact-to CHARS]   # other [agents] thresholds
        [--no-huge-write]   # turn 7 reads a file instead of the refused 5.2 MB write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bosun.agents.api import AttemptRequest
from bosun.agents.context import ConversationWindow
from bosun.agents.profiles import AgentProfile
from bosun.agents.runner import Agents
from bosun.board import Store, TaskSpec
from bosun.config import Settings
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage
from bosun.llm.settings import BudgetSettings, Price
from bosun.tools import Policy, ToolExecutor, build_registry

from bench.legacy_context import LegacyWindow
from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import fake_settings
from tests.fakes.prompt_cache import AnthropicCache, AutomaticCache
from tests.fakes.replies import FakeProvider, FakeReply, FakeToolCall

PRICES = {  # USD per million tokens, as the providers publish them for these tiers
    "anthropic:fake-model": Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75),
    "openai:fake-model": Price(input=2.0, output=8.0, cached_input=0.5),
}


def _call(name: str, **args: Any) -> FakeReply:
    return FakeReply(text=f"Next: {name}.", tool_calls=[FakeToolCall.of(name, args)],
                     output_tokens=40, arguments_chunk=65_536)  # fmt: skip


def session(turns: int, huge_write: bool = True) -> list[FakeReply]:
    """The model's answers, turn by turn: busy, wasteful, never finishing."""
    out = []
    for t in range(1, turns + 1):
        if t == 7 and huge_write:
            out.append(_call("write_file", path="data.bin", content="y" * 5_200_000))
        elif t % 10 == 0:
            out.append(_call("run_command", command=f"python3 -c \"print('z' * 40000)\" # {t}"))
        elif t % 4 == 0:
            out.append(_call("run_command", command=f"python3 tests_report.py {t}"))
        else:
            out.append(_call("read_file", path=f"src/mod{t % 23}.py"))
    return out


def make_repo(root: Path) -> Path:
    """A repository with 23 modules of 2–8 KB and a script printing a test report."""
    repo = root / "repo"
    (repo / "src").mkdir(parents=True)
    for i in range(23):
        lines = 2_000 + (i * 2_731) % 6_000
        body = "".join(f"def f{n}(x):\n    return x + {n}\n\n" for n in range(lines // 30))
        (repo / "src" / f"mod{i}.py").write_text(f"# module {i}\n" + body)
    (repo / "tests_report.py").write_text(
        "import sys\nn = int(sys.argv[1])\n"
        "for i in range(60):\n    print(f'tests/test_m{i}.py::test_case_{n} PASSED')\n"
        "print(f'FAILED tests/test_x.py::test_{n} - AssertionError: expected 3, got {n}')\n"
    )
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-q",
                    "-m", "init"], cwd=repo, check=True)  # fmt: skip
    return repo


@dataclass
class Figures:
    """What one attempt sent and paid."""

    provider: str
    context: dict[int, int]  # turn → characters of the messages sent
    largest_request: int  # bytes of the largest HTTP request body
    prompt_tokens: int
    cached_tokens: int
    written_tokens: int
    billed_input_usd: float
    uncached_input_usd: float
    total_usd: float  # input and output, as billed
    per_turn: list[tuple[int, int, int, int, float]]  # turn, chars, prompt, cached, usd


def _message_chars(request: dict[str, Any]) -> int:
    return sum(
        len(m["content"]) + sum(len(json.dumps(c["arguments"])) for c in m["tool_calls"])
        for m in request["messages"]
    )


class _LegacyAgents(Agents):
    """Agents with the pre-issue-14 window (the baseline)."""

    def window(self, profile: AgentProfile, brief: str) -> ConversationWindow:
        return LegacyWindow(
            system=ChatMessage.system(profile.prompt),
            brief=ChatMessage.user(brief),
            budget_chars=self.context_chars,
        )


def _llm_settings(fake: FakeProvider, provider: str, legacy: bool) -> Any:
    if not legacy:
        return fake_settings(fake, prices=PRICES)
    # Then: no cache breakpoints, and no budget out of the box (the default task budget
    # would stop the baseline after its multi-megabyte prompts).
    conf = fake_settings(fake).providers[provider].model_copy(update={"prompt_cache": False})
    unlimited = BudgetSettings(attempt_tokens=None, attempt_usd=None, task_tokens=None,
                               task_usd=None, run_tokens=None, run_usd=None)  # fmt: skip
    return fake_settings(fake, prices=PRICES, providers={provider: conf}, budget=unlimited)


async def attempt(
    fake: FakeProvider,
    provider: str,
    root: Path,
    turns: int,
    limits: dict[str, float],
    *,
    legacy: bool = False,
    huge_write: bool = True,
) -> Figures:
    """Run the session against `fake` and collect its figures from the board."""
    name = f"{provider}-legacy" if legacy else provider
    repo = make_repo(root / name)
    script = iter(session(turns, huge_write))
    fake.behaviour = lambda _body: next(script)
    settings = Settings(llm=_llm_settings(fake, provider, legacy), agents=limits)
    store = await Store.open(root / f"{name}.db", boot_id="bench")
    try:
        run = await store.create_run("bench")
        (task,) = await store.create_tasks(run.id, [TaskSpec(key="t", title="keep busy")])
        await store.start_attempt(task.id, 1)
        gateway = ModelGateway(settings.llm, recorder=store)
        executor = ToolExecutor(
            build_registry(settings.tools), Policy.from_settings(settings.tools)
        )
        agents = (_LegacyAgents if legacy else Agents)(gateway, executor, store, settings)
        request = AttemptRequest(run=run, task=task, attempt=1, worktree=repo, branch="main",
                                 max_turns=turns, time_limit_s=3600)  # fmt: skip
        await agents.run_attempt(request)
        await gateway.aclose()
        calls = await store.recorded_calls(run.id)
        total = (await store.get_task(task.id)).cost.usd or 0.0
    finally:
        await store.close()
    price = PRICES[f"{provider}:fake-model"]
    per_turn, billed, plain = [], 0.0, 0.0
    prompt = cached = written = 0
    for c in sorted(calls, key=lambda c: c.turn):
        usage = c.response["response"]["usage"]
        p, r, w = usage["input_tokens"], usage["cached_tokens"], usage["cache_write_tokens"]
        cost = ((p - r - w) * price.input + r * (price.cached_input or price.input)
                + w * (price.cache_write or price.input)) / 1e6  # fmt: skip
        per_turn.append((c.turn, _message_chars(c.request["request"]), p, r, cost))
        prompt, cached, written = prompt + p, cached + r, written + w
        billed += cost
        plain += p * price.input / 1e6
    return Figures(
        provider=provider,
        context={t: chars for t, chars, *_ in per_turn},
        largest_request=max(len(r.body) for r in fake.requests),
        prompt_tokens=prompt,
        cached_tokens=cached,
        written_tokens=written,
        billed_input_usd=billed,
        uncached_input_usd=plain,
        total_usd=total,
        per_turn=per_turn,
    )


def report(f: Figures, before: Figures, per_turn: bool) -> None:
    """Print one provider's figures, and the whole attempt against the baseline's."""
    c = f.context
    last = max(c)
    print(f"{f.provider}:")
    if per_turn:
        print("  turn  context chars  prompt tok  cached tok  billed input $")
        for turn, chars, prompt, cached, usd in f.per_turn:
            print(f"  {turn:4}  {chars:13,}  {prompt:10,}  {cached:10,}  {usd:14.5f}")
    shown = "  ".join(f"turn {t}: {c[t]:,}" for t in (5, 25, 50) if t in c)
    print(f"  context (chars)      {shown}  (largest turn {max(c.values()):,}; turn {last}:"
          f" {c[last]:,})")  # fmt: skip
    if 5 in c and 50 in c:
        print(f"  ratio turn 50 / 5    {c[50] / c[5]:.2f}x (target <= 2x)")
    cost5 = next(u for t, *_, u in f.per_turn if t == 5)
    cost50 = next((u for t, *_, u in f.per_turn if t == 50), None)
    if cost50 is not None:
        print(f"  billed input turn 50 / 5  {cost50 / cost5:.2f}x (target <= 2x)")
    print(f"  largest request      {f.largest_request:,} bytes")
    share = f.cached_tokens / f.prompt_tokens if f.prompt_tokens else 0.0
    print(f"  prompt tokens        {f.prompt_tokens:,} ({f.cached_tokens:,} read from cache, "
          f"{share:.1%} (target >= 80%); {f.written_tokens:,} written)")  # fmt: skip
    print(
        f"  input cost           ${f.billed_input_usd:.4f} with caching, "
        f"${f.uncached_input_usd:.4f} without ({f.billed_input_usd / f.uncached_input_usd:.2f}x)"
    )
    old_share = before.cached_tokens / before.prompt_tokens if before.prompt_tokens else 0.0
    print(f"  before issue 14      {before.prompt_tokens:,} prompt tokens ({old_share:.0%} from "
          f"cache), largest request {before.largest_request:,} bytes, attempt "
          f"${before.total_usd:.2f}")  # fmt: skip
    print(f"  attempt cost         ${f.total_usd:.4f} against ${before.total_usd:.4f} before: "
          f"{f.total_usd / before.total_usd:.3f}x (target <= 0.3x)")  # fmt: skip


async def _both(
    fake: FakeProvider, provider: str, root: Path, args: argparse.Namespace
) -> tuple[Figures, Figures]:
    """The session through today's window and through the pre-issue-14 one."""
    limits: dict[str, float] = {}
    if args.compact_at:
        limits["compact_at_chars"] = args.compact_at
    if args.compact_to:
        limits["compact_to_chars"] = args.compact_to
    huge = not args.no_huge_write
    now = await attempt(fake, provider, root, args.turns, limits, huge_write=huge)
    fake.requests.clear()
    fake.cache = type(fake.cache)()  # a cold cache for the baseline too
    # Nor the watchdog's turn rules: the baseline runs all 60 turns as it did then.
    then: dict[str, float] = {"idle_turns": 0, "scope_files": 0, "spend_factor": 0}
    before = await attempt(fake, provider, root, args.turns, then, legacy=True, huge_write=huge)
    return now, before


async def main() -> None:
    """Run the attempt against both fakes and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--per-turn", action="store_true", help="print every turn")
    parser.add_argument("--compact-at", type=int, help="[agents] compact_at_chars")
    parser.add_argument("--compact-to", type=int, help="[agents] compact_to_chars")
    parser.add_argument("--no-huge-write", action="store_true",
                        help="turn 7 reads a file instead of the refused 5.2 MB write")  # fmt: skip
    args = parser.parse_args()
    print(f"a {args.turns}-turn misbehaving attempt through the real SDK adapters "
          "(fake servers with each provider's caching rules):")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeAnthropic() as anth:
            anth.cache = AnthropicCache()
            report(*await _both(anth, "anthropic", Path(tmp), args), args.per_turn)
        async with FakeOpenAI() as oai:
            oai.cache = AutomaticCache()
            report(*await _both(oai, "openai", Path(tmp), args), args.per_turn)


if __name__ == "__main__":
    asyncio.run(main())
