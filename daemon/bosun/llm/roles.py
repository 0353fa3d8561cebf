"""Which model each role uses: run options, then config, then the default model."""

from __future__ import annotations

from bosun_protocol.entities import RunOptions

from bosun.llm.settings import LlmSettings


def model_for_role(role: str, settings: LlmSettings, options: RunOptions | None = None) -> str:
    """The `provider:model` for `role`.

    Order: the run's per-role choice, the run's model, the config's per-role choice,
    the config's default model.
    """
    if options is not None:
        if role in options.models:
            return options.models[role]
        if options.model:
            return options.model
    return settings.roles.get(role, settings.default_model)


def configured_models(settings: LlmSettings) -> list[str]:
    """Every distinct model the config names (the default first)."""
    seen = [settings.default_model]
    for name in settings.roles.values():
        if name not in seen:
            seen.append(name)
    return seen
