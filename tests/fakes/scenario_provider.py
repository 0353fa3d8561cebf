"""Fake providers that answer from a scripted scenario, with seeded faults injected.

The real OpenAI and Anthropic adapters of a real daemon can then run a whole scenario
(the demo's, by default) over HTTP, exactly as `scripted:<scenario>` runs it in process:

    async with ScenarioOpenAI(load_scenario("demo"), FaultPlan(rate=0.2, seed=7)) as fake:
        ... point `[llm.providers.openai] base_url` at fake.base_url ...

Each request is keyed the way the scripted model keys its calls (role, task key,
attempt, turn, try), but from the request alone: the brief (first user message) names
the task, profile and attempt, QA's evidence names the task and attempt, and the turn is
the number of assistant answers already in the conversation. The scenario's reply is
then sent in the provider's wire format, tool calls included.

Faults are decided per call and try, from a hash of the seed and the key, so the same
calls fail whatever order the scheduler sends them in.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bosun.llm.errors import ScenarioError
from bosun.llm.model import CallContext
from bosun.llm.retry import CONTINUE_AFTER_CUT
from bosun.llm.scenario import Scenario, ScriptedReply

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.http_server import Request, ResponseWriter
from tests.fakes.replies import FakeProvider, FakeReply, FakeToolCall, fault

# Every fault the plan can inject (`overloaded` is 503 on OpenAI, 529 on Anthropic).
FAULT_KINDS = (
    "rate_limit",  # 429 with retry-after
    "server",  # 500
    "unavailable",  # 503
    "overloaded",
    "reset",  # the connection is dropped before any response
    "truncated",  # the stream is cut half way through the answer
    "stream_error",  # an error event half way through a stream that began with 200
    "slow",  # nothing streamed before the client's first-token deadline
)

_WORKER = re.compile(
    r"^# Your task: (?P<task>.+?) — .*?^Profile: (?P<role>\w+)\. Attempt (?P<attempt>\d+) of",
    re.MULTILINE | re.DOTALL,
)
_QA_TASK = re.compile(r"^# Task (?P<task>.+?): ", re.MULTILINE)
_QA_ATTEMPT = re.compile(r"^# The worker's report \(attempt (?P<attempt>\d+)\)", re.MULTILINE)

# A scenario's scripted error, as the fault a provider would send for it.
_SCRIPTED_ERRORS = {
    "transient": "server",
    "rate_limit": "rate_limit",
    "quota": "quota",
    "context_too_long": "context",
    "auth": "auth",
    "bad_request": "bad_request",
}


@dataclass(frozen=True)
class FaultPlan:
    """Which requests fail, and how: `rate` of the tries of each call, seeded."""

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    # Tries of one call that may fail; later tries succeed, so a run with enough
    # retries (`retry.max_attempts` above this) always gets its answers. None: no cap.
    max_per_call: int | None = 3
    retry_after: float = 0.05  # seconds, sent with every 429
    slow_delay: float = 30.0  # seconds a slow answer waits (the server's stop ends it)

    def pick(self, ctx: CallContext, try_number: int) -> str | None:
        """The fault for this try of this call, or None to answer it."""
        if self.max_per_call is not None and try_number > self.max_per_call:
            return None
        key = f"{self.seed}|{ctx.role}|{ctx.task_key}|{ctx.attempt}|{ctx.turn}|{try_number}"
        rng = random.Random(key)
        if rng.random() >= self.rate:
            return None
        return rng.choice(self.kinds)


@dataclass
class Served:
    """One request and what it got: a fault, or an answer with the usage it reported."""

    ctx: CallContext
    try_number: int
    fault: str | None = None
    partials: int = 0  # partial answers of dead streams it carried back
    input_tokens: int = 0
    output_tokens: int = 0


def _texts(message: dict[str, Any]) -> list[str]:
    """The text parts of one message in either wire format."""
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [b.get("text", "") for b in content if b.get("type") == "text"]
    return []


def continued(messages: list[dict[str, Any]]) -> int:
    """How many partial answers of dead streams the conversation carries back."""
    users = [m for m in messages if m.get("role") == "user"]
    return sum(t == CONTINUE_AFTER_CUT for m in users for t in _texts(m))


def call_of(messages: list[dict[str, Any]]) -> CallContext:
    """The scripted-model key of a conversation (system prompt already taken out)."""
    users = [m for m in messages if m.get("role") == "user"]
    brief = "\n".join(_texts(users[0])) if users else ""
    # A stream that died comes back as its partial answer plus a note to continue:
    # the same call again, not a new turn.
    turn = sum(m.get("role") == "assistant" for m in messages) - continued(messages) + 1
    worker = _WORKER.search(brief)
    if worker:
        return CallContext(
            role=worker["role"],
            task_key=worker["task"],
            attempt=int(worker["attempt"]),
            turn=turn,
        )
    task, attempt = _QA_TASK.search(brief), _QA_ATTEMPT.search(brief)
    if task and attempt:
        return CallContext(
            role="strategist", task_key=task["task"], attempt=int(attempt["attempt"]), turn=turn
        )
    raise ScenarioError(f"the request names no task: {brief[:200]!r}", provider="scenario")


def _estimate(chars: int) -> int:
    return max(1, chars // 4)


def as_fake_reply(reply: ScriptedReply, ctx: CallContext, prompt_chars: int) -> FakeReply:
    """The scenario's reply as the fake providers send it; its usage as the scripted model's."""
    if reply.error is not None:
        return fault(_SCRIPTED_ERRORS[reply.error], retry_after=reply.retry_after)
    calls = [
        FakeToolCall(
            spec.name,
            spec.raw_arguments if spec.raw_arguments is not None else json.dumps(spec.arguments),
            spec.id or f"call_{ctx.turn}_{i}",
        )
        for i, spec in enumerate(reply.tool_calls)
    ]
    out_chars = len(reply.text) + sum(len(c.arguments) for c in calls)
    usage = reply.usage
    return FakeReply(
        text=reply.text,
        tool_calls=calls,
        input_tokens=usage.input_tokens
        if usage.input_tokens is not None
        else _estimate(prompt_chars),
        output_tokens=usage.output_tokens
        if usage.output_tokens is not None
        else _estimate(out_chars),
        cached_tokens=usage.cached_tokens,
        first_token_delay=reply.delay,
        chunk_size=64,  # whole files are written: fewer, larger events
    )


@dataclass
class ScenarioBook:
    """What a scenario-serving fake knows: the script, the faults, and what it served."""

    scenario: Scenario
    plan: FaultPlan = field(default_factory=FaultPlan)
    served: list[Served] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # requests the script could not answer
    tries: Counter[tuple[str, str, int, int]] = field(default_factory=Counter)

    def faults(self) -> list[Served]:
        """Every request that got a fault."""
        return [s for s in self.served if s.fault is not None]

    def answers(self) -> list[Served]:
        """The answer each call ended with: answered, and not tried again after.

        These are what the client kept (and the board counted); an answer it gave up on
        (too slow on a loaded machine) is followed by another try of the same call.
        """
        tried = {(s.ctx, s.try_number) for s in self.served}
        return [
            s for s in self.served if s.fault is None and (s.ctx, s.try_number + 1) not in tried
        ]


class ScenarioServing(FakeProvider):
    """Answers each request from the scenario, or with the fault the plan picks for it."""

    book: ScenarioBook

    def serve(self, scenario: Scenario, plan: FaultPlan | None = None) -> None:
        """Answer from `scenario`, failing as `plan` says."""
        self.book = ScenarioBook(scenario, plan or FaultPlan())

    def conversation(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The request's messages, system prompt excluded."""
        raise NotImplementedError

    def choose(self, request: Request) -> FakeReply:
        """The scripted answer to `request`, or its fault."""
        book = self.book
        body = request.json()
        messages = self.conversation(body)
        try:
            ctx = call_of(messages)
            key = (ctx.role, ctx.task_key, ctx.attempt, ctx.turn)
            book.tries[key] += 1
            try_number = book.tries[key]
            scripted = book.scenario.answer(ctx, try_number)
        except ScenarioError as exc:
            book.problems.append(exc.message)
            return fault("bad_request")
        reply = as_fake_reply(scripted, ctx, len(request.body))
        kind = None if reply.fault is not None else book.plan.pick(ctx, try_number)
        served = Served(ctx, try_number, kind or reply.fault, continued(messages))
        book.served.append(served)
        if served.fault is None:
            served.input_tokens, served.output_tokens = reply.input_tokens, reply.output_tokens
            return reply
        return self._faulty(kind, reply, body) if kind is not None else reply

    def _faulty(self, kind: str, reply: FakeReply, body: dict[str, Any]) -> FakeReply:
        plan = self.book.plan
        half = max(1, len(self.events(reply, body)) // 2)
        match kind:
            case "rate_limit":
                return fault("rate_limit", retry_after=plan.retry_after)
            case "unavailable":
                return fault("server", status=503)
            case "reset":
                return fault("reset")
            case "truncated":
                reply.cut_after = half
            case "stream_error":
                reply.cut_after, reply.stream_fault = half, "overloaded"
            case "slow":
                reply.first_token_delay = plan.slow_delay
            case _:
                return fault(kind)
        return reply

    async def send_fault(self, reply: FakeReply, out: ResponseWriter) -> None:
        """A reset drops the connection unanswered; other faults are error responses."""
        if reply.fault == "reset":
            out.abort()
            return
        await super().send_fault(reply, out)


class ScenarioOpenAI(ScenarioServing, FakeOpenAI):
    """An OpenAI chat-completions server playing a scenario."""

    def __init__(self, scenario: Scenario, plan: FaultPlan | None = None) -> None:
        super().__init__()
        self.serve(scenario, plan)

    def conversation(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The chat messages after the system prompt."""
        return [m for m in body.get("messages", []) if m.get("role") != "system"]


class ScenarioAnthropic(ScenarioServing, FakeAnthropic):
    """An Anthropic messages server playing a scenario."""

    def __init__(self, scenario: Scenario, plan: FaultPlan | None = None) -> None:
        super().__init__()
        self.serve(scenario, plan)

    def conversation(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The messages (the system prompt travels apart in Anthropic's format)."""
        messages: list[dict[str, Any]] = body.get("messages", [])
        return messages
