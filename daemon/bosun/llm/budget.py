"""Hard budgets per attempt, task and run, in tokens and money, checked before each call.

A call may spend at most what is left: its `max_tokens` is lowered to the output the
remaining tokens and money allow after its input, so spend stops at the limit (an
input larger than estimated is the only overshoot). Money is counted only for calls
whose price is known.
"""

from __future__ import annotations

import math

from bosun_protocol.entities import Cost, RunOptions
from pydantic import BaseModel, ConfigDict

from bosun.errors import BudgetExceededError
from bosun.llm.settings import BudgetSettings, Price

_MILLION = 1_000_000


class BudgetLimits(BaseModel):
    """The limits that apply to one call; None means unlimited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempt_tokens: int | None = None
    attempt_usd: float | None = None
    task_tokens: int | None = None
    task_usd: float | None = None
    run_tokens: int | None = None
    run_usd: float | None = None

    @classmethod
    def of(cls, settings: BudgetSettings, options: RunOptions | None) -> BudgetLimits:
        """Config limits, with the run's own options taking precedence for the run."""
        run_tokens = settings.run_tokens
        run_usd = settings.run_usd
        if options is not None:
            if options.budget_tokens is not None:
                run_tokens = options.budget_tokens
            if options.budget_usd is not None:
                run_usd = options.budget_usd
        return cls(
            attempt_tokens=settings.attempt_tokens,
            attempt_usd=settings.attempt_usd,
            task_tokens=settings.task_tokens,
            task_usd=settings.task_usd,
            run_tokens=run_tokens,
            run_usd=run_usd,
        )


def _limit(tokens: int | None, usd: float | None) -> str:
    parts = [f"{tokens:,} tokens" if tokens is not None else "", f"${usd:,.2f}" if usd else ""]
    if usd == 0:
        parts[1] = "$0.00"
    shown = " / ".join(p for p in parts if p)
    return shown or "unlimited"


def describe_limits(limits: BudgetLimits, *, priced: bool = True) -> str:
    """The limits in one line, for `bosun run` and `bosun doctor`."""
    text = (
        f"per attempt {_limit(limits.attempt_tokens, limits.attempt_usd)}, "
        f"per task {_limit(limits.task_tokens, limits.task_usd)}, "
        f"per run {_limit(limits.run_tokens, limits.run_usd)}"
    )
    money = (limits.attempt_usd, limits.task_usd, limits.run_usd)
    if not priced and any(m is not None for m in money):
        text += " (the model's price is unknown: only the token limits bind)"
    return text


def _tokens(cost: Cost) -> int:
    return cost.input_tokens + cost.output_tokens


def _spent(scope: str, unit: str, limit: float, used: float, shown: str) -> BudgetExceededError:
    return BudgetExceededError(
        f"{scope} budget of {shown} is spent",
        data={"scope": scope, "unit": unit, "limit": limit, "used": used},
    )


def output_room(
    limits: BudgetLimits,
    run: Cost | None,
    task: Cost | None,
    *,
    price: Price | None,
    input_tokens: int,
    attempt: Cost | None = None,
) -> int | None:
    """The most output tokens the next call may produce within every budget (None: no limit).

    `run`, `task` and `attempt` are what is spent (and reserved by calls in flight); `input_tokens`
    is the request's estimated size. Raises BudgetExceededError naming the budget when
    one is spent, or when what is left does not cover the input alone.
    """
    room: tuple[float, str, str] | None = None  # (output tokens, the budget, its scope)

    def narrow(tokens: float, what: str, scope: str) -> None:
        nonlocal room
        if room is None or tokens < room[0]:
            room = (tokens, what, scope)

    checks = (
        ("attempt", attempt, limits.attempt_tokens, limits.attempt_usd),
        ("task", task, limits.task_tokens, limits.task_usd),
        ("run", run, limits.run_tokens, limits.run_usd),
    )
    for scope, spent, max_tokens, max_usd in checks:
        if spent is None:
            continue
        if max_usd is not None:
            used_usd = spent.usd or 0.0
            if used_usd >= max_usd:
                raise _spent(
                    scope, "usd", max_usd, used_usd, f"${max_usd:.2f} (${used_usd:.4f} used)"
                )
            # Money converts to output tokens only when the model's price is known.
            if price is not None and price.output > 0:
                left_usd = max_usd - used_usd - input_tokens * price.input / _MILLION
                narrow(left_usd * _MILLION / price.output, f"{scope} budget of ${max_usd:.2f}",
                       scope)  # fmt: skip
        if max_tokens is not None:
            used = _tokens(spent)
            if used >= max_tokens:
                raise _spent(
                    scope, "tokens", max_tokens, used, f"{max_tokens} tokens ({used} used)"
                )
            narrow(max_tokens - used - input_tokens, f"{scope} budget of {max_tokens} tokens",
                   scope)  # fmt: skip
    if room is None:
        return None
    tokens, what, scope = room
    if tokens < 1:
        raise BudgetExceededError(
            f"{what} is nearly spent: what is left does not cover this call "
            f"(~{input_tokens} input tokens)",
            data={"budget": what, "scope": scope, "input_tokens": input_tokens},
        )
    return math.floor(tokens)
