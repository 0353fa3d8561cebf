"""Model names (`provider:model`) → configured `Model` instances.

Built-in providers: openai, anthropic, ollama, openrouter, glm and openai-compatible;
any other name configured under `[llm.providers.<name>]` with a `base_url` is an
OpenAI-compatible endpoint. Keys come from config, then the provider's environment
variable; each is registered as a secret the moment it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bosun.llm.errors import AuthenticationError, UnknownModelError
from bosun.llm.model import Model
from bosun.llm.recorder import RecordingSource
from bosun.llm.replay import ReplayModel
from bosun.llm.scenario import load_scenario
from bosun.llm.scripted import ScriptedModel
from bosun.llm.settings import LlmSettings, ProviderSettings
from bosun.secrets import provider_environ, register_secret


@dataclass(frozen=True)
class Builtin:
    """What bosun knows about a provider without any config."""

    api: Literal["openai", "anthropic"]
    base_url: str | None  # None: the SDK's own default
    key_env: str
    url_env: str | None = None
    key_required: bool = True


BUILTINS: dict[str, Builtin] = {
    "openai": Builtin("openai", None, "OPENAI_API_KEY", "OPENAI_BASE_URL"),
    "anthropic": Builtin("anthropic", None, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    "ollama": Builtin(
        "openai", "http://localhost:11434/v1", "OLLAMA_API_KEY", "OLLAMA_BASE_URL", False
    ),
    "openrouter": Builtin("openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "glm": Builtin("openai", "https://api.z.ai/api/paas/v4", "GLM_API_KEY"),
    "openai-compatible": Builtin(
        "openai", None, "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_BASE_URL", False
    ),
}
OFFLINE = ("scripted", "replay")


def secret_env_names(settings: LlmSettings) -> set[str]:
    """Environment variables holding provider keys (to strip from subprocess environments)."""
    names = {b.key_env for b in BUILTINS.values()}
    names.update(p.api_key_env for p in settings.providers.values() if p.api_key_env)
    return names


@dataclass(frozen=True)
class Endpoint:
    """A provider resolved from config and environment."""

    provider: str
    api: Literal["openai", "anthropic"]
    base_url: str | None
    api_key: str = field(repr=False)  # never in a log line or traceback
    key_setting: str  # where the user fixes the key, in words
    timeout: float


def split_name(name: str) -> tuple[str, str]:
    """(provider, model) of `provider:model`."""
    provider, sep, model = name.partition(":")
    if not sep or not provider or not model:
        raise UnknownModelError(
            f"model name {name!r} must be provider:model, e.g. openai:gpt-4.1, "
            f"anthropic:claude-sonnet-4-5, ollama:qwen3-coder or scripted:demo"
        )
    return provider, model


def resolve_endpoint(provider: str, settings: LlmSettings, env: Mapping[str, str]) -> Endpoint:
    """Where and with what key to reach `provider`."""
    builtin = BUILTINS.get(provider)
    conf = settings.providers.get(provider, ProviderSettings())
    if builtin is None and provider not in settings.providers:
        known = sorted({*BUILTINS, *settings.providers, *OFFLINE})
        raise UnknownModelError(
            f"unknown model provider {provider!r}; known: {', '.join(known)} "
            f"(an OpenAI-compatible server can be added as [llm.providers.{provider}] "
            f"with base_url)",
            provider=provider,
        )
    api = conf.api or (builtin.api if builtin else "openai")
    key_env = conf.api_key_env or (builtin.key_env if builtin else None)
    base_url = conf.base_url
    if base_url is None and builtin is not None:
        from_env = env.get(builtin.url_env) if builtin.url_env else None
        base_url = from_env or builtin.base_url
    if base_url is None and (builtin is None or provider == "openai-compatible"):
        raise UnknownModelError(
            f"provider {provider!r} needs an address: set llm.providers.{provider}.base_url",
            provider=provider,
        )
    key = conf.api_key.get_secret_value() if conf.api_key is not None else None
    if not key and key_env:
        key = env.get(key_env)
    setting = f"llm.providers.{provider}.api_key" + (f" or {key_env}" if key_env else "")
    if not key:
        if builtin is not None and builtin.key_required:
            raise AuthenticationError(
                f"no API key for {provider}: set {setting}", provider=provider
            )
        key = "not-needed"  # local servers ignore it, but the SDK wants one
    register_secret(key)
    return Endpoint(provider, api, base_url, key, setting, conf.timeout)


def build_model(
    name: str,
    settings: LlmSettings,
    *,
    env: Mapping[str, str] | None = None,
    recordings: RecordingSource | None = None,
    scenario_dir: Path | None = None,
) -> Model:
    """A new `Model` for `provider:model`."""
    provider, model_id = split_name(name)
    if provider == "scripted":
        return ScriptedModel(load_scenario(model_id, scenario_dir), name=name)
    if provider == "replay":
        if recordings is None:
            raise UnknownModelError(f"{name} needs the board to read the recording")
        return ReplayModel(name, recordings)
    # Keys the launcher handed over a pipe first (never in the daemon's environment).
    ep = resolve_endpoint(provider, settings, provider_environ() if env is None else env)
    # Imported here: each SDK takes a second to import, and offline runs need neither.
    if ep.api == "anthropic":
        from bosun.llm.anthropic_model import AnthropicModel as cls
    else:
        from bosun.llm.openai_model import OpenAIModel as cls  # type: ignore[assignment]
    return cls(
        name,
        provider=provider,
        model_id=model_id,
        api_key=ep.api_key,
        base_url=ep.base_url,
        timeout=ep.timeout,
        key_setting=ep.key_setting,
        prompt_cache=settings.providers.get(provider, ProviderSettings()).prompt_cache,
    )
