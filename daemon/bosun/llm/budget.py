"""Hard budgets per task and per run, in tokens and money, checked before each call.

A call may spend at most what is left: its `max_tokens` is lowered to the tokens that
remain, so spend stops at the limit (overshooting by at most that call's input).
Money is counted only for calls whose price is known.
"""

from __future__ import annotations

from bosun_protocol.entities import Cost, RunOptions
from pydantic import BaseModel, ConfigDict

from bosun.errors import BudgetExceededError
from bosun.llm.settings import BudgetSettings


class BudgetLimits(BaseModel):
    """The limits that apply to one call; None means unlimited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
            task_tokens=settings.task_tokens,
            task_usd=settings.task_usd,
            run_tokens=run_tokens,
            run_usd=run_usd,
        )


def _tokens(cost: Cost) -> int:
    return cost.input_tokens + cost.output_tokens


def tokens_left(limits: BudgetLimits, run: Cost | None, task: Cost | None) -> int | None:
    """Tokens that may still be spent (None: no token limit), after checking money too.

    Raises BudgetExceededError naming the budget when one is already spent.
    """
    left: int | None = None
    checks = (
        ("task", task, limits.task_tokens, limits.task_usd),
        ("run", run, limits.run_tokens, limits.run_usd),
    )
    for scope, spent, max_tokens, max_usd in checks:
        if spent is None:
            continue
        if max_usd is not None and (spent.usd or 0.0) >= max_usd:
            raise BudgetExceededError(
                f"{scope} budget of ${max_usd:.2f} is spent (${spent.usd or 0.0:.4f} used)",
                data={"scope": scope, "unit": "usd", "limit": max_usd, "used": spent.usd},
            )
        if max_tokens is not None:
            used = _tokens(spent)
            if used >= max_tokens:
                raise BudgetExceededError(
                    f"{scope} budget of {max_tokens} tokens is spent ({used} used)",
                    data={"scope": scope, "unit": "tokens", "limit": max_tokens, "used": used},
                )
            remaining = max_tokens - used
            left = remaining if left is None else min(left, remaining)
    return left
