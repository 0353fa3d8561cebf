"""How much a call may still spend under token and money budgets."""

from __future__ import annotations

import pytest
from bosun.errors import BudgetExceededError
from bosun.llm.budget import BudgetLimits, output_room
from bosun.llm.settings import BudgetSettings, Price
from bosun_protocol.entities import Cost, RunOptions

DOLLAR_PER_MILLION = Price(input=1.0, output=1.0)


def test_no_limits_means_no_room_limit() -> None:
    assert output_room(BudgetLimits(), Cost(), Cost(), price=None, input_tokens=10) is None


def test_the_tightest_budget_sets_the_room() -> None:
    limits = BudgetLimits(task_tokens=500, run_tokens=1000)
    room = output_room(
        limits, Cost(input_tokens=800), Cost(input_tokens=100), price=None, input_tokens=50
    )
    assert room == 1000 - 800 - 50


def test_money_left_becomes_output_tokens_at_the_models_price() -> None:
    limits = BudgetLimits(run_usd=1.0)
    spent = Cost(usd=0.5)
    room = output_room(limits, spent, None, price=DOLLAR_PER_MILLION, input_tokens=100_000)
    assert room == 400_000  # $0.50 left, $0.10 of it for the input


def test_a_spent_budget_names_scope_and_unit() -> None:
    with pytest.raises(
        BudgetExceededError, match=r"task budget of \$2\.00 \(\$2\.5000 used\) is spent"
    ):
        output_room(BudgetLimits(task_usd=2.0), Cost(), Cost(usd=2.5), price=None, input_tokens=1)
    with pytest.raises(BudgetExceededError, match="run budget of 10 tokens"):
        output_room(
            BudgetLimits(run_tokens=10), Cost(output_tokens=10), None, price=None, input_tokens=1
        )


def test_too_little_left_for_the_input_refuses_before_sending() -> None:
    with pytest.raises(BudgetExceededError, match="nearly spent") as caught:
        output_room(
            BudgetLimits(run_tokens=100), Cost(input_tokens=90), None, price=None, input_tokens=20
        )
    assert caught.value.data["input_tokens"] == 20


def test_run_options_override_config_for_the_run_only() -> None:
    config = BudgetSettings(task_tokens=5, run_tokens=1000, run_usd=3.0)
    limits = BudgetLimits.of(config, RunOptions(budget_tokens=50))
    assert (limits.task_tokens, limits.run_tokens, limits.run_usd) == (5, 50, 3.0)


def test_budgets_are_on_out_of_the_box_and_can_be_turned_off_by_name() -> None:
    on = BudgetLimits.of(BudgetSettings(), None)
    assert (on.task_tokens, on.task_usd, on.run_tokens, on.run_usd) == (
        5_000_000, 10.0, 50_000_000, 50.0,
    )  # fmt: skip
    assert (on.attempt_tokens, on.attempt_usd) == (2_000_000, 4.0)  # one attempt: a share
    off = BudgetSettings.model_validate({"task_tokens": "unlimited", "run_usd": "off"})
    assert off.task_tokens is None and off.run_usd is None
    assert off.run_tokens == 50_000_000
    with pytest.raises(ValueError):
        BudgetSettings.model_validate({"task_tokens": "lots"})


def test_the_budget_line_names_every_limit_and_says_when_money_cannot_bind() -> None:
    from bosun.llm.budget import describe_limits

    limits = BudgetLimits.of(BudgetSettings(), RunOptions(budget_usd=2.5))
    assert describe_limits(limits) == (
        "per attempt 2,000,000 tokens / $4.00, per task 5,000,000 tokens / $10.00, "
        "per run 50,000,000 tokens / $2.50"
    )
    assert "only the token limits bind" in describe_limits(limits, priced=False)
    none = BudgetLimits()
    assert describe_limits(none, priced=False) == (
        "per attempt unlimited, per task unlimited, per run unlimited"
    )
