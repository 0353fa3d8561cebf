"""Settings and API keys a client sends at `initialize`.

An editor sends the values its user set (in `.bosun/config.toml`'s shape) and the keys
it keeps in its secret storage. They are applied on top of the config file — and stay
on top when the file is reloaded — until the daemon stops. Keys are registered for
redaction before anything else touches them and are never written to disk. When two
clients send different values, the later one wins.
"""

from __future__ import annotations

import logging
from typing import Any

from bosun.config import ConfigError, load_settings, merge
from bosun.secrets import register_secret
from bosun.server.context import DaemonContext

log = logging.getLogger(__name__)


def client_overrides(ctx: DaemonContext) -> dict[str, Any]:
    """What clients have asked for: their latest settings, plus every key they sent."""
    settings: dict[str, Any] = ctx.services.get("client_settings", {})
    keys: dict[str, Any] = ctx.services.get("client_keys", {})
    return merge(settings, keys)


def _keys_from(options: dict[str, Any]) -> dict[str, Any]:
    keys = options.get("apiKeys")
    if not isinstance(keys, dict):
        return {}
    providers: dict[str, Any] = {}
    for name, key in keys.items():
        if isinstance(key, str) and key:
            register_secret(key)  # before anything else can log or store it
            providers[str(name)] = {"api_key": key}
    return {"llm": {"providers": providers}} if providers else {}


def apply_client_options(ctx: DaemonContext, options: dict[str, Any]) -> str | None:
    """Apply a client's settings and keys; the error text when invalid (nothing changes).

    `settings` replaces what clients sent before (an editor sends every value its user
    set, so a value the user unset disappears); keys accumulate.
    """
    settings = options.get("settings")
    keys = _keys_from(options)
    if not isinstance(settings, dict) and not keys:
        return None
    new_settings = (
        settings if isinstance(settings, dict) else ctx.services.get("client_settings", {})
    )
    new_keys = merge(ctx.services.get("client_keys", {}), keys)
    try:
        loaded = load_settings(ctx.workspace.config_path, merge(new_settings, new_keys))
    except ConfigError as exc:
        log.warning("settings from a client refused: %s", exc.message)
        return exc.message
    ctx.services["client_settings"] = new_settings
    ctx.services["client_keys"] = new_keys
    apply = ctx.services.get("apply_settings")
    if apply is not None:
        apply(loaded)
    else:  # services not started yet: they read ctx.settings when they do
        ctx.settings = loaded
    log.info("settings from a client applied: %s", sorted(_names(merge(new_settings, keys))))
    return None


def _names(tree: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if name.endswith("api_key"):
            out.append(name)  # the key's name only, never its value
        elif isinstance(value, dict):
            out += _names(value, name + ".")
        else:
            out.append(name)
    return out
