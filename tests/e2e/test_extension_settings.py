"""The VS Code extension's settings agree with the daemon's config model.

The extension maps its `bosun.*` settings onto daemon config keys (daemonKeys.json) and
sends them at `initialize`; these tests fail when a key it sends would be refused or
when a default the extension documents drifts from the daemon's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from bosun.config import Settings, parse_settings

EXT = Path(__file__).resolve().parents[2] / "vscode-extension"
PROPS: dict[str, dict[str, Any]] = json.loads((EXT / "package.json").read_text())["contributes"][
    "configuration"
]["properties"]
DAEMON_KEYS: dict[str, str] = json.loads((EXT / "src/logic/daemonKeys.json").read_text())


def _samples(prop: dict[str, Any]) -> list[Any]:
    """Values a user could set for this property (every enum member, else one per type)."""
    if "enum" in prop:
        return [v for v in prop["enum"] if v is not None]
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    if "integer" in types:
        return [max(int(prop.get("minimum", 1)), 1)]
    if "number" in types:
        return [1.5]
    if "boolean" in types:
        return [True, False]
    if "object" in types:
        return [{"coder": "scripted:demo"}]
    return ["scripted:demo"]


def _nest(path: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return out


def _daemon_default(path: str) -> Any:
    node: Any = Settings().model_dump(mode="json")
    for part in path.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("key", sorted(DAEMON_KEYS))
def test_every_value_the_extension_sends_is_accepted_by_the_daemon(key: str) -> None:
    prop = PROPS[f"bosun.{key}"]
    for value in _samples(prop):
        settings = parse_settings(_nest(DAEMON_KEYS[key], value), source="initializationOptions")
        assert settings is not None


@pytest.mark.parametrize("key", sorted(DAEMON_KEYS))
def test_extension_settings_default_to_the_daemon_config(key: str) -> None:
    # null means "let .bosun/config.toml decide": the extension must not impose a value.
    assert PROPS[f"bosun.{key}"]["default"] in (None, {})


@pytest.mark.parametrize("key", sorted(DAEMON_KEYS))
def test_documented_daemon_defaults_match_the_daemon(key: str) -> None:
    prop = PROPS[f"bosun.{key}"]
    text = prop.get("markdownDescription") or prop.get("description", "")
    documented = re.search(r"daemon's config \(`?([^)`]+)`?\)", text)
    if documented is None:
        pytest.skip("no default named in the description")
    actual = _daemon_default(DAEMON_KEYS[key])
    words = {True: "on", False: "off"}
    assert documented.group(1) == (words[actual] if isinstance(actual, bool) else str(actual))
