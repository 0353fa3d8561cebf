"""`[mcp.servers.*]`: bad entries are refused with the key named, and names stay tool-safe."""

from __future__ import annotations

from pathlib import Path

import pytest
from bosun.config import ConfigError, parse_settings
from bosun.server.secret_handoff import configured_key_names
from bosun.tools.mcp.attempt import tool_name
from bosun_protocol.entities import Profile


def test_a_stdio_and_an_http_server_parse_with_their_defaults() -> None:
    settings = parse_settings(
        {
            "mcp": {
                "servers": {
                    "time": {"command": "mcp-server-time", "profiles": ["coder"]},
                    "web": {"url": "http://127.0.0.1:9/mcp", "headers": {"X-A": "b"}},
                }
            }
        }
    )
    time, web = settings.mcp.servers["time"], settings.mcp.servers["web"]
    assert (time.transport, web.transport) == ("stdio", "http")
    assert time.policy is None and not time.network and time.start_timeout_s == 30
    assert time.applies_to(Profile.CODER) and not time.applies_to(Profile.PLANNER)
    assert web.applies_to(Profile.PLANNER)


@pytest.mark.parametrize(
    ("servers", "words"),
    [
        ({"x": {}}, "exactly one of `command`"),
        ({"x": {"command": "a", "url": "http://h/"}}, "exactly one of `command`"),
        ({"x": {"url": "file:///etc/passwd"}}, "http:// or https://"),
        ({"x": {"url": "http://h/", "env": {"A": "b"}}}, "for stdio servers"),
        ({"x": {"command": "a", "headers": {"A": "b"}}}, "for HTTP servers"),
        ({"a__b": {"command": "a"}}, "MCP server names"),
        ({"x": {"command": "a", "env": {"NOT A NAME": "v"}}}, "not environment variable names"),
        ({"x": {"command": "a", "policy": "maybe"}}, "mcp.servers.x.policy"),
        ({"x": {"command": "a", "typo": 1}}, "mcp.servers.x.typo"),
    ],
)
def test_bad_server_entries_are_refused_naming_the_problem(
    servers: dict[str, object], words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings({"mcp": {"servers": servers}})
    assert words in err.value.message


def test_tool_names_are_namespaced_and_safe_for_providers() -> None:
    assert tool_name("git", "git_status") == "git__git_status"
    assert tool_name("s", "a.b/c d") == "s__a_b_c_d"
    assert len(tool_name("s", "x" * 100)) == 64


def test_the_launcher_hands_over_the_secret_variables_mcp_servers_read(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[mcp.servers.gh]\ncommand = "gh-mcp"\nsecret_env = { GITHUB = "MY_GH" }\n'
        '[mcp.servers.web]\nurl = "http://127.0.0.1:1/"\nsecret_headers = { Authorization = "WEB_AUTH" }\n'
    )
    assert {"MY_GH", "WEB_AUTH"} <= configured_key_names(config)
