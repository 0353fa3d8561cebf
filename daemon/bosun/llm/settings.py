"""Settings of the model layer: `[llm]` in `.bosun/config.toml` (see docs/models.md)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_Roles = TypeVar("_Roles", bound=dict[str, Any])

ROLES = (
    "director",
    "planner",
    "coder",
    "tester",
    "test_architect",
    "researcher",
    "writer",
    "merger",
    "strategist",
    "reviewer",  # the optional reviewer of trajectories (bosun.agents.reviewer)
)


def known_roles(value: _Roles) -> _Roles:
    """`value` (keyed by role) when every key is a role; else the error names them."""
    unknown = sorted(set(value) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; roles are {', '.join(ROLES)}")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderSettings(_Section):
    """`[llm.providers.<name>]`: where a provider lives, its key and its limits."""

    api: Literal["openai", "anthropic"] | None = None  # wire API; built-ins know theirs
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = None  # environment variable holding the key
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    max_concurrent: int | None = Field(default=None, ge=1)
    timeout: float = Field(default=600.0, gt=0)  # whole-request limit, seconds
    prompt_cache: bool = True  # Anthropic API: send cache_control breakpoints


class Price(_Section):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)  # cache reads; None: as input
    cache_write: float | None = Field(default=None, ge=0)  # cache writes; None: as input


class RetrySettings(_Section):
    """`[llm.retry]`: the one retry layer (the SDKs' own retries are off)."""

    max_attempts: int = Field(default=6, ge=1, le=50)
    base_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)
    jitter: float = Field(default=0.25, ge=0, le=1)  # +/- this fraction of each delay
    max_retry_after: float = Field(default=300.0, ge=0)  # longer provider waits are capped
    first_token_timeout: float = Field(default=120.0, gt=0)


class BudgetSettings(_Section):
    """`[llm.budget]`: hard limits, on out of the box; a run's own options override the run
    limits. A limit set to "unlimited" is off (TOML has no null). Money limits bind only
    on models whose price is known; token limits always do (docs/cost.md).
    """

    attempt_tokens: int | None = Field(default=2_000_000, ge=0)  # input + output, one attempt
    attempt_usd: float | None = Field(default=4.0, ge=0)  # USD, one attempt (retried)
    task_tokens: int | None = Field(default=5_000_000, ge=0)  # input + output, one task
    task_usd: float | None = Field(default=10.0, ge=0)  # USD, one task
    run_tokens: int | None = Field(default=50_000_000, ge=0)  # input + output, one run
    run_usd: float | None = Field(default=50.0, ge=0)  # USD, one run

    @field_validator(
        "attempt_tokens",
        "attempt_usd",
        "task_tokens",
        "task_usd",
        "run_tokens",
        "run_usd",
        mode="before",
    )
    @classmethod
    def _unlimited(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("unlimited", "none", "off"):
            return None
        return value


Effort = Literal["minimal", "low", "medium", "high"]


class Reasoning(_Section):
    """How much one role's model reasons before answering (unset: the default's)."""

    thinking_tokens: int | None = Field(default=None, ge=0)  # Anthropic thinking budget; 0 off
    effort: Effort | None = None  # OpenAI reasoning models' reasoning_effort


class ReasoningSettings(Reasoning):
    """`[llm.reasoning]`: how long models reason, for every role (off out of the box).

    `[llm.reasoning.roles.<role>]` sets one role's. Anthropic extended thinking needs at least 1,024 tokens and less than the call's
    max_tokens (`[agents] max_tokens`); effort is sent only where set (models that do not
    reason refuse it).
    """

    roles: dict[str, Reasoning] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, Reasoning]) -> dict[str, Reasoning]:
        return known_roles(value)

    def for_role(self, role: str) -> tuple[int, str | None]:
        """(thinking budget, effort) for `role`: its own setting, else the default."""
        own = self.roles.get(role, Reasoning())
        tokens = own.thinking_tokens if own.thinking_tokens is not None else self.thinking_tokens
        return tokens or 0, own.effort or self.effort


def _p(inp: float, out: float, cached: float | None = None) -> Price:
    return Price(input=inp, output=out, cached_input=cached)


def _anthropic(inp: float, out: float) -> Price:
    # Cache reads at a tenth of input; writes (5-minute TTL) at a quarter more.
    return Price(input=inp, output=out, cached_input=inp * 0.1, cache_write=inp * 1.25)


def default_prices() -> dict[str, Price]:
    """Prices of common models (USD per million tokens) as published when written."""
    return {
        "openai:gpt-4.1": _p(2.0, 8.0, 0.5),
        "openai:gpt-4.1-mini": _p(0.4, 1.6, 0.1),
        "openai:gpt-4.1-nano": _p(0.1, 0.4, 0.025),
        "openai:gpt-4o": _p(2.5, 10.0, 1.25),
        "openai:gpt-4o-mini": _p(0.15, 0.6, 0.075),
        "openai:o3": _p(2.0, 8.0, 0.5),
        "openai:o4-mini": _p(1.1, 4.4, 0.275),
        "openai:gpt-5": _p(1.25, 10.0, 0.125),
        "openai:gpt-5-mini": _p(0.25, 2.0, 0.025),
        "anthropic:claude-sonnet-4-5": _anthropic(3.0, 15.0),
        "anthropic:claude-sonnet-4-0": _anthropic(3.0, 15.0),
        "anthropic:claude-opus-4-1": _anthropic(15.0, 75.0),
        "anthropic:claude-haiku-4-5": _anthropic(1.0, 5.0),
        "anthropic:claude-3-5-haiku-latest": _anthropic(0.8, 4.0),
        # Local and offline models cost nothing.
        "ollama:*": _p(0.0, 0.0),
        "scripted:*": _p(0.0, 0.0),
        "replay:*": _p(0.0, 0.0),
    }


class LlmSettings(_Section):
    """`[llm]` in `.bosun/config.toml`."""

    default_model: str = "scripted:demo"
    roles: dict[str, str] = Field(default_factory=dict)  # role → provider:model
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=default_prices)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    reasoning: ReasoningSettings = Field(default_factory=ReasoningSettings)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        return known_roles(value)

    @field_validator("prices", mode="before")
    @classmethod
    def _keep_default_prices(cls, value: object) -> object:
        # A config that prices one model must not erase the defaults of all others.
        if isinstance(value, dict):
            return {**default_prices(), **value}
        return value
