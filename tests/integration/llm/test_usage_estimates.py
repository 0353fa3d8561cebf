"""A provider that reports no usage is counted from characters, and budgets bind on it.

Through the real SDKs against the fake servers (`fake` runs each test on both).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.errors import BudgetExceededError
from bosun.llm.estimate import estimate_input
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.settings import BudgetSettings
from bosun_protocol.entities import RunOptions

from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeProvider, FakeReply, FakeToolCall


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "board.db", boot_id="test-boot")
    yield s
    await s.close()


async def _task(store: Store, options: RunOptions | None = None) -> CallContext:
    run = await store.create_run("objective", options or RunOptions())
    (task,) = await store.create_tasks(run.id, [TaskSpec(key="a", title="A")])
    await store.start_attempt(task.id, 1)
    return CallContext(role="coder", run_id=run.id, task_id=task.id, task_key="a")


def _big_request(chars: int = 35_000) -> ModelRequest:
    return ModelRequest(messages=[ChatMessage.user("x" * chars)], max_tokens=100)


async def _spend_until_refused(
    gw: ModelGateway, ctx: CallContext, options: RunOptions | None = None
) -> tuple[int, BudgetExceededError]:
    """Calls made before the budget refused one, and the refusal."""
    for turn in range(1, 50):
        try:
            call = ctx.model_copy(update={"turn": turn})
            await gw.complete(_big_request(), call, options=options)
        except BudgetExceededError as exc:
            return turn - 1, exc
    raise AssertionError("the budget never stopped the calls")


async def test_a_call_without_usage_is_counted_from_its_characters_and_marked(
    fake: FakeProvider, store: Store
) -> None:
    fake.default = FakeReply(
        text="done " * 70, tool_calls=[FakeToolCall.of("read_file", {"path": "a.py"})],
        omit_usage=True,
    )  # fmt: skip
    gw = ModelGateway(fake_settings(fake), store)
    ctx = await _task(store)
    request = _big_request()
    response = await gw.complete(request, ctx)
    await gw.aclose()
    assert response.usage.estimated
    # 35,000 characters are at least 10,000 tokens at 3.5 a token: never the zeros sent.
    assert response.usage.input_tokens == estimate_input(request) >= 10_000
    assert response.usage.output_tokens >= 100  # 350 characters of text and the call
    task = (await store.get_task(ctx.task_id or 0)).cost
    assert task.input_tokens == response.usage.input_tokens
    assert task.estimated_tokens == response.usage.total
    run = (await store.get_run(ctx.run_id or 0)).cost
    assert run.estimated_tokens == response.usage.total
    (call,) = await store.recorded_calls(ctx.run_id or 0)
    assert call.response["response"]["usage"]["estimated"] is True


async def test_reported_usage_is_taken_as_is(fake: FakeProvider, store: Store) -> None:
    fake.default = FakeReply(text="fine", input_tokens=1234, output_tokens=56)
    gw = ModelGateway(fake_settings(fake), store)
    ctx = await _task(store)
    response = await gw.complete(_big_request(), ctx)
    await gw.aclose()
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1234, 56)
    assert not response.usage.estimated
    assert (await store.get_task(ctx.task_id or 0)).cost.estimated_tokens == 0


async def test_a_task_budget_binds_when_the_provider_reports_no_usage(
    fake: FakeProvider, store: Store
) -> None:
    # The finding: the board counted 2,210 tokens while 370,700 were sent.
    fake.default = FakeReply(text="again", omit_usage=True)
    budget = BudgetSettings(task_tokens=40_000, run_tokens=None, task_usd=None, run_usd=None)
    gw = ModelGateway(fake_settings(fake, budget=budget), store)
    ctx = await _task(store)
    sent, refused = await _spend_until_refused(gw, ctx)
    await gw.aclose()
    assert "task budget of 40000 tokens" in refused.message
    assert sent == 3  # three calls of ~10,000 tokens fit; the fourth would not
    assert len(fake.requests) == sent  # the refused call never reached the provider
    spent = (await store.get_task(ctx.task_id or 0)).cost
    assert spent.input_tokens + spent.output_tokens <= 40_000
    assert spent.estimated_tokens == spent.input_tokens + spent.output_tokens


async def test_budgets_are_on_by_default_and_a_runs_own_limit_wins(
    fake: FakeProvider, store: Store
) -> None:
    fake.default = FakeReply(text="again", omit_usage=True)
    gw = ModelGateway(fake_settings(fake), store)  # no [llm.budget]: the defaults
    assert gw.settings.budget.task_tokens == 5_000_000
    options = RunOptions(budget_tokens=25_000)  # a per-run limit (bosun run --budget-tokens)
    ctx = await _task(store, options)
    sent, refused = await _spend_until_refused(gw, ctx, options)
    await gw.aclose()
    assert "run budget of 25000 tokens" in refused.message
    assert sent == 2
    assert len(fake.requests) == 2
