"""Budgets, cost accounting, recording and replay against the real board store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.errors import BudgetExceededError
from bosun.llm.errors import ReplayDivergenceError
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.replay import comparable
from bosun.llm.settings import BudgetSettings, LlmSettings, Price
from bosun.secrets import register_secret
from bosun_protocol.entities import RunOptions

from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import fake_settings

SCENARIO = """
[[reply]]
role = "coder"
text = "a coder's answer that is reasonably long, to use some tokens"

[[reply]]
role = "coder"
task = "b"
turn = 2
text = "b's second turn"
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "b.txt", content = "B" }
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "board.db", boot_id="test-boot")
    yield s
    await s.close()


@pytest.fixture
def scenario(tmp_path: Path) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO)
    return f"scripted:{path}"


async def make_run(store: Store, options: RunOptions | None = None) -> tuple[int, dict[str, int]]:
    run = await store.create_run("test objective", options or RunOptions())
    tasks = await store.create_tasks(
        run.id, [TaskSpec(key="a", title="A"), TaskSpec(key="b", title="B")]
    )
    for t in tasks:
        await store.start_attempt(t.id, 1)
    return run.id, {t.key: t.id for t in tasks}


def ctx(run_id: int, ids: dict[str, int], key: str, turn: int) -> CallContext:
    return CallContext(role="coder", run_id=run_id, task_id=ids[key], task_key=key, turn=turn)


def request(text: str = "please do the thing", max_tokens: int = 40) -> ModelRequest:
    return ModelRequest(messages=[ChatMessage.user(text)], max_tokens=max_tokens)


async def test_cost_is_totalled_on_attempt_task_and_run(store: Store, scenario: str) -> None:
    prices = {"scripted:*": Price(input=1_000_000, output=2_000_000)}  # $1 in, $2 out per token
    no_attempt_limit = BudgetSettings(attempt_usd=None)  # $4 would not cover one such call
    settings = LlmSettings(default_model=scenario, prices=prices, budget=no_attempt_limit)
    gw = ModelGateway(settings, store)
    run_id, ids = await make_run(store)
    response = await gw.complete(request(), ctx(run_id, ids, "a", 1))
    u = response.usage
    run = await store.get_run(run_id)
    task = await store.get_task(ids["a"])
    [attempt] = await store.list_attempts(ids["a"])
    expected = u.input_tokens * 1.0 + u.output_tokens * 2.0
    for cost in (run.cost, task.cost, attempt.cost):
        assert (cost.input_tokens, cost.output_tokens, cost.calls) == (
            u.input_tokens,
            u.output_tokens,
            1,
        )
        assert cost.usd == pytest.approx(expected)


async def test_unknown_prices_count_tokens_and_say_cost_is_unknown(store: Store) -> None:
    async with FakeOpenAI() as fake:
        gw = ModelGateway(fake_settings(fake), store)  # openai:fake-model has no price
        run_id, ids = await make_run(store)
        await gw.complete(request(), ctx(run_id, ids, "a", 1))
        await gw.aclose()
    run = await store.get_run(run_id)
    assert (run.cost.input_tokens, run.cost.output_tokens) == (10, 5)
    assert run.cost.usd is None


async def test_a_run_token_budget_stops_spend_at_the_limit(store: Store, scenario: str) -> None:
    gw = ModelGateway(LlmSettings(default_model=scenario), store)
    options = RunOptions(budget_tokens=100)
    run_id, ids = await make_run(store, options)
    made, refused = await spend_until_refused(gw, run_id, ids, options)
    run = await store.get_run(run_id)
    assert run.cost.input_tokens + run.cost.output_tokens <= 100
    assert made >= 2
    assert run.cost.calls == made
    assert "run budget of 100 tokens" in refused.message


async def test_concurrent_callers_cannot_jointly_overspend(store: Store, scenario: str) -> None:
    gw = ModelGateway(LlmSettings(default_model=scenario), store)
    options = RunOptions(budget_tokens=120)
    run_id, ids = await make_run(store, options)
    results = await asyncio.gather(
        *(
            gw.complete(request(), ctx(run_id, ids, "a", turn), options=options)
            for turn in range(1, 11)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert refused  # some were stopped …
    run = await store.get_run(run_id)
    assert run.cost.input_tokens + run.cost.output_tokens <= 120  # … and the limit held


async def test_an_attempt_budget_stops_that_attempt_only(store: Store, scenario: str) -> None:
    settings = LlmSettings(default_model=scenario, budget=BudgetSettings(attempt_tokens=30))
    gw = ModelGateway(settings, store)
    run_id, ids = await make_run(store)
    first = ctx(run_id, ids, "a", 1).model_copy(update={"attempt": 1})
    refused = None
    for turn in range(1, 100):
        try:
            await gw.complete(request(), first.model_copy(update={"turn": turn}))
        except BudgetExceededError as exc:
            refused = exc
            break
    assert refused is not None and "attempt budget of 30 tokens" in refused.message
    assert refused.data["scope"] == "attempt"
    spent = (await store.get_attempt(ids["a"], 1)).cost
    assert 0 < spent.input_tokens + spent.output_tokens <= 30
    await store.start_attempt(ids["a"], 2)  # the next attempt has its own share
    await gw.complete(request(), first.model_copy(update={"attempt": 2}))
    assert (await store.get_attempt(ids["a"], 2)).cost.calls == 1


async def test_a_task_budget_stops_that_task_only(store: Store, scenario: str) -> None:
    settings = LlmSettings(default_model=scenario, budget=BudgetSettings(task_tokens=30))
    gw = ModelGateway(settings, store)
    run_id, ids = await make_run(store)
    _made, refused = await spend_until_refused(gw, run_id, ids, RunOptions())
    assert "task budget of 30 tokens" in refused.message
    a = (await store.get_task(ids["a"])).cost
    assert 0 < a.input_tokens + a.output_tokens <= 30
    await gw.complete(request(), ctx(run_id, ids, "b", 1))  # another task still may spend
    b = (await store.get_task(ids["b"])).cost
    assert b.calls == 1


async def spend_until_refused(
    gw: ModelGateway, run_id: int, ids: dict[str, int], options: RunOptions
) -> tuple[int, BudgetExceededError]:
    for turn in range(1, 100):
        try:
            await gw.complete(request(), ctx(run_id, ids, "a", turn), options=options)
        except BudgetExceededError as exc:
            return turn - 1, exc
    raise AssertionError("the budget never stopped the calls")


async def test_a_money_budget_stops_spend_at_the_limit(store: Store, scenario: str) -> None:
    prices = {"scripted:*": Price(input=100_000, output=100_000)}  # $0.10 a token
    budget = BudgetSettings(attempt_usd=None)  # the run's limit, not the attempt's, binds
    gw = ModelGateway(LlmSettings(default_model=scenario, prices=prices, budget=budget), store)
    options = RunOptions(budget_usd=5.0)
    run_id, ids = await make_run(store, options)
    made, refused = await spend_until_refused(gw, run_id, ids, options)
    run = await store.get_run(run_id)
    assert made >= 2
    assert run.cost.calls == made
    assert run.cost.usd is not None
    assert run.cost.usd <= 5.0 + 1e-9
    assert "run budget of $5.00" in refused.message


async def test_a_money_budget_counts_nothing_for_unpriced_models(store: Store) -> None:
    async with FakeOpenAI() as fake:
        gw = ModelGateway(fake_settings(fake), store)  # openai:fake-model has no price
        options = RunOptions(budget_usd=0.01)
        run_id, ids = await make_run(store, options)
        for turn in (1, 2, 3):
            await gw.complete(request(), ctx(run_id, ids, "a", turn), options=options)
        await gw.aclose()
    assert (await store.get_run(run_id)).cost.calls == 3


async def record_run(store: Store, scenario: str) -> tuple[int, list[tuple[CallContext, str]]]:
    gw = ModelGateway(LlmSettings(default_model=scenario), store)
    run_id, ids = await make_run(store)
    seen = []
    for key in ("a", "b"):
        for turn in (1, 2):
            c = ctx(run_id, ids, key, turn)
            r = await gw.complete(request(f"{key} turn {turn}"), c)
            seen.append((c, r.model_dump_json(exclude={"model"})))
    return run_id, seen


async def test_a_recorded_run_replays_exactly_in_any_order(store: Store, scenario: str) -> None:
    recorded_run, seen = await record_run(store, scenario)
    gw = ModelGateway(LlmSettings(default_model=f"replay:{recorded_run}"), recordings=store)
    run_id, ids = await make_run(store)
    for c, expected in reversed(seen):
        again = c.model_copy(update={"run_id": run_id, "task_id": ids[c.task_key]})
        r = await gw.complete(request(f"{c.task_key} turn {c.turn}"), again)
        assert r.model_dump_json(exclude={"model"}) == expected


async def test_a_changed_request_is_reported_as_the_first_divergence(
    store: Store, scenario: str
) -> None:
    recorded_run, _ = await record_run(store, scenario)
    gw = ModelGateway(LlmSettings(default_model=f"replay:{recorded_run}"), recordings=store)
    c = CallContext(role="coder", task_key="b", turn=2)
    with pytest.raises(ReplayDivergenceError) as caught:
        await gw.complete(request("b turn 2, but different"), c)
    message = caught.value.message
    assert f"replay of run {recorded_run} diverged at role=coder task=b attempt=1 turn=2" in message
    assert "messages[0].content" in message
    assert "'b turn 2, but different'" in message


async def test_a_call_the_recording_lacks_is_reported(store: Store, scenario: str) -> None:
    recorded_run, _ = await record_run(store, scenario)
    gw = ModelGateway(LlmSettings(default_model=f"replay:{recorded_run}"), recordings=store)
    with pytest.raises(ReplayDivergenceError, match=r"turn=3: no such call.*turns \[1, 2\]"):
        await gw.complete(request("a turn 3"), CallContext(role="coder", task_key="a", turn=3))
    replay = ModelGateway(LlmSettings(default_model="replay:999"), recordings=store)
    with pytest.raises(ReplayDivergenceError, match="run 999 has no recorded calls"):
        await replay.complete(request(), CallContext())


async def test_a_call_whose_attempt_number_shifted_is_served_by_what_the_agent_saw(
    store: Store, scenario: str
) -> None:
    # The recorded run's b ran as attempt 1; in the replay an infrastructure retry made
    # it attempt 2 (its brief says so), yet the agent sees the same request.
    recorded_run, _ = await record_run(store, scenario)
    gw = ModelGateway(LlmSettings(default_model=f"replay:{recorded_run}"), recordings=store)
    shifted = CallContext(role="coder", task_key="b", attempt=2, turn=2)
    response = await gw.complete(request("b turn 2"), shifted)
    assert response.text == "b's second turn"
    # The brief names the attempt: that number is not what the agent was asked.
    first = comparable({"messages": [{"role": "user", "content": "Attempt 1 of 5. Go."}]})
    second = comparable({"messages": [{"role": "user", "content": "Attempt 2 of 5. Go."}]})
    assert first == second


async def test_a_shifted_attempt_that_saw_something_else_says_why_it_cannot_go_on(
    store: Store, scenario: str
) -> None:
    recorded_run, _ = await record_run(store, scenario)
    gw = ModelGateway(LlmSettings(default_model=f"replay:{recorded_run}"), recordings=store)
    shifted = CallContext(role="coder", task_key="b", attempt=2, turn=1)
    with pytest.raises(ReplayDivergenceError) as caught:
        await gw.complete(request("b turn 1, after an earlier attempt failed"), shifted)
    message = caught.value.message
    assert "attempt=2 turn=1: no such call recorded (the recording holds attempts [1]" in message
    assert "infrastructure failure" in message
    assert caught.value.data["recordedAttempts"] == [1]


async def test_secrets_never_reach_the_recording(store: Store, scenario: str) -> None:
    secret = "sk-live-abcdef0123456789"
    register_secret(secret)
    gw = ModelGateway(LlmSettings(default_model=scenario), store)
    run_id, ids = await make_run(store)
    await gw.complete(request(f"my key is {secret}"), ctx(run_id, ids, "a", 1))
    [call] = await store.recorded_calls(run_id)
    stored = json.dumps(call.request) + json.dumps(call.response)
    assert secret not in stored
    assert "[REDACTED]" in stored
