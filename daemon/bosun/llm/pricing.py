"""What a call cost: the price table in settings applied to a call's usage."""

from __future__ import annotations

from bosun_protocol.entities import Cost

from bosun.llm.messages import Usage
from bosun.llm.settings import Price

_MILLION = 1_000_000


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """The price of `provider:model`: exact name, then bare model id, then `provider:*`."""
    provider, _, model_id = model.partition(":")
    for key in (model, model_id, f"{provider}:*"):
        if key in prices:
            return prices[key]
    return None


def usd_for(usage: Usage, price: Price | None) -> float | None:
    """The call's cost in USD, or None when the model's price is unknown."""
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.input_tokens)
    written = min(usage.cache_write_tokens, usage.input_tokens - cached)
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    write_rate = price.cache_write if price.cache_write is not None else price.input
    total = (
        (usage.input_tokens - cached - written) * price.input
        + cached * cached_rate
        + written * write_rate
        + usage.output_tokens * price.output
    )
    return total / _MILLION


def cost_of(usage: Usage, usd: float | None) -> Cost:
    """One call's counters as the board's `Cost`."""
    return Cost(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=min(usage.reasoning_tokens, usage.output_tokens),
        usd=usd,
        calls=1,
        estimated_tokens=usage.total if usage.estimated else 0,
    )
