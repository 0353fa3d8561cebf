"""Model names, provider resolution, environment variables, roles and prices."""

from __future__ import annotations

import pytest
from bosun.config import ConfigError, parse_settings
from bosun.llm.anthropic_model import AnthropicModel, _thinking_budget
from bosun.llm.errors import AuthenticationError, UnknownModelError
from bosun.llm.messages import ChatMessage, ModelRequest, Usage
from bosun.llm.openai_model import OpenAIModel
from bosun.llm.pricing import price_for, usd_for
from bosun.llm.providers import build_model, resolve_endpoint, secret_env_names, split_name
from bosun.llm.roles import configured_models, model_for_role
from bosun.llm.scripted import ScriptedModel
from bosun.llm.settings import LlmSettings, Price, ProviderSettings, ReasoningSettings
from bosun.secrets import redact
from bosun_protocol.entities import RunOptions
from pydantic import ValidationError


def test_names_must_be_provider_colon_model() -> None:
    assert split_name("openrouter:qwen/qwen3-coder:free") == ("openrouter", "qwen/qwen3-coder:free")
    for bad in ("gpt-4.1", ":x", "openai:"):
        with pytest.raises(UnknownModelError, match="must be provider:model"):
            split_name(bad)


def test_sdk_environment_variables_work_as_users_expect() -> None:
    env = {"OPENAI_API_KEY": "sk-env-openai-123", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    ep = resolve_endpoint("openai", LlmSettings(), env)
    assert (ep.api_key, ep.base_url, ep.api) == (
        "sk-env-openai-123",
        "http://127.0.0.1:9/v1",
        "openai",
    )
    env = {"ANTHROPIC_API_KEY": "sk-ant-env-123", "ANTHROPIC_BASE_URL": "http://127.0.0.1:8"}
    ep = resolve_endpoint("anthropic", LlmSettings(), env)
    assert (ep.api_key, ep.base_url, ep.api) == (
        "sk-ant-env-123",
        "http://127.0.0.1:8",
        "anthropic",
    )


def test_config_wins_over_the_environment_and_keys_become_secrets() -> None:
    settings = LlmSettings(
        providers={
            "openai": ProviderSettings(
                api_key="sk-from-config-999", base_url="http://127.0.0.1:7/v1"
            )
        }
    )
    ep = resolve_endpoint("openai", settings, {"OPENAI_API_KEY": "sk-env-0000000"})
    assert ep.api_key == "sk-from-config-999"
    assert ep.base_url == "http://127.0.0.1:7/v1"
    assert redact("sk-from-config-999") == "[REDACTED]"
    assert "sk-from-config-999" not in repr(ep)


def test_a_missing_key_names_both_places_to_set_it() -> None:
    with pytest.raises(
        AuthenticationError, match=r"llm\.providers\.anthropic\.api_key or ANTHROPIC_API_KEY"
    ):
        resolve_endpoint("anthropic", LlmSettings(), {})


def test_local_providers_need_no_key_and_know_their_address() -> None:
    ep = resolve_endpoint("ollama", LlmSettings(), {})
    assert ep.base_url == "http://localhost:11434/v1"
    assert ep.api == "openai"
    assert (
        resolve_endpoint("openrouter", LlmSettings(), {"OPENROUTER_API_KEY": "sk-or-1234567"}).api
        == "openai"
    )


def test_a_configured_compatible_server_is_an_openai_endpoint() -> None:
    settings = LlmSettings(
        providers={"vllm": ProviderSettings(base_url="http://127.0.0.1:8000/v1")}
    )
    ep = resolve_endpoint("vllm", settings, {})
    assert (ep.api, ep.base_url) == ("openai", "http://127.0.0.1:8000/v1")
    with pytest.raises(UnknownModelError, match=r"set llm\.providers\.openai-compatible\.base_url"):
        resolve_endpoint("openai-compatible", LlmSettings(), {})


def test_unknown_providers_list_the_known_ones() -> None:
    with pytest.raises(
        UnknownModelError, match=r"unknown model provider 'nope'.*anthropic.*scripted"
    ):
        build_model("nope:model", LlmSettings(), env={})


def test_each_name_builds_the_right_adapter() -> None:
    env = {"OPENAI_API_KEY": "sk-a-12345678", "ANTHROPIC_API_KEY": "sk-b-12345678"}
    assert isinstance(build_model("openai:gpt-4.1", LlmSettings(), env=env), OpenAIModel)
    assert isinstance(
        build_model("anthropic:claude-sonnet-4-5", LlmSettings(), env=env), AnthropicModel
    )
    assert isinstance(build_model("ollama:qwen3-coder", LlmSettings(), env={}), OpenAIModel)
    assert isinstance(build_model("scripted:demo", LlmSettings(), env={}), ScriptedModel)


def test_provider_key_variables_are_known_for_subprocess_scrubbing() -> None:
    settings = LlmSettings(
        providers={"x": ProviderSettings(base_url="http://127.0.0.1", api_key_env="X_KEY")}
    )
    names = secret_env_names(settings)
    assert {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "X_KEY"} <= names


def test_roles_fall_back_from_run_to_config_to_default() -> None:
    settings = LlmSettings(
        default_model="openai:gpt-4.1", roles={"strategist": "anthropic:claude-opus-4-1"}
    )
    assert model_for_role("coder", settings) == "openai:gpt-4.1"
    assert model_for_role("strategist", settings) == "anthropic:claude-opus-4-1"
    run = RunOptions(model="ollama:qwen3-coder", models={"tester": "openai:gpt-4.1-mini"})
    assert model_for_role("tester", settings, run) == "openai:gpt-4.1-mini"
    assert model_for_role("strategist", settings, run) == "ollama:qwen3-coder"
    assert configured_models(settings) == ["openai:gpt-4.1", "anthropic:claude-opus-4-1"]


def test_config_rejects_unknown_roles_and_keys_with_their_names() -> None:
    with pytest.raises(ConfigError, match="unknown role"):
        parse_settings({"llm": {"roles": {"janitor": "openai:gpt-4.1"}}})
    with pytest.raises(ConfigError, match=r"llm\.retry\.max_attempts"):
        parse_settings({"llm": {"retry": {"max_attempts": 0}}})


def test_pricing_one_model_keeps_the_other_defaults() -> None:
    settings = parse_settings(
        {"llm": {"prices": {"openai:my-tune": {"input": 1, "output": 2}}}}
    ).llm
    assert price_for("openai:my-tune", settings.prices) == Price(input=1, output=2)
    assert price_for("openai:gpt-4.1", settings.prices) is not None
    assert price_for("ollama:anything", settings.prices) == Price(input=0, output=0)
    assert price_for("openai:unheard-of", settings.prices) is None


def test_cost_counts_cached_input_at_its_own_rate() -> None:
    price = Price(input=2.0, output=8.0, cached_input=0.5)
    usage = Usage(input_tokens=1_000_000, output_tokens=500_000, cached_tokens=400_000)
    assert usd_for(usage, price) == pytest.approx(0.6 * 2 + 0.4 * 0.5 + 0.5 * 8)
    assert usd_for(usage, None) is None


def test_cache_writes_are_billed_at_their_premium_and_anthropic_defaults_have_one() -> None:
    price = Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75)
    usage = Usage(input_tokens=1_000_000, cached_tokens=500_000, cache_write_tokens=300_000)
    assert usd_for(usage, price) == pytest.approx(0.2 * 3 + 0.5 * 0.3 + 0.3 * 3.75)
    sonnet = price_for("anthropic:claude-sonnet-4-5", LlmSettings().prices)
    assert sonnet is not None and sonnet.cache_write == pytest.approx(3.75)
    assert sonnet.cached_input == pytest.approx(0.3)


def test_the_api_key_never_shows_in_dumped_settings() -> None:
    settings = LlmSettings(providers={"openai": ProviderSettings(api_key="sk-hidden-123456")})
    assert "sk-hidden-123456" not in settings.model_dump_json()
    assert "sk-hidden-123456" not in repr(settings)


def test_reasoning_settings_resolve_per_role_then_default_and_refuse_unknown_roles() -> None:
    conf = ReasoningSettings.model_validate(
        {"thinking_tokens": 2_000, "roles": {"coder": {"thinking_tokens": 0, "effort": "high"}}}
    )
    assert conf.for_role("coder") == (0, "high")  # 0 turns the default off for the role
    assert conf.for_role("planner") == (2_000, None)
    assert ReasoningSettings().for_role("coder") == (0, None)  # off out of the box
    with pytest.raises(ValidationError, match="unknown role"):
        ReasoningSettings.model_validate({"roles": {"wizard": {"effort": "low"}}})
    with pytest.raises(ValidationError):
        ReasoningSettings.model_validate({"effort": "extreme"})


def test_a_thinking_budget_is_kept_below_max_tokens_or_not_sent() -> None:
    def budget(thinking: int, max_tokens: int) -> int:
        request = ModelRequest(messages=[ChatMessage.user("x")], max_tokens=max_tokens,
                               thinking_tokens=thinking)  # fmt: skip
        return _thinking_budget(request)

    assert budget(4_000, 10_000) == 4_000
    assert budget(4_000, 4_500) == 3_476  # room left for the answer
    assert budget(4_000, 1_500) == 0  # under the API's 1,024 minimum: no thinking
    assert budget(0, 10_000) == 0
