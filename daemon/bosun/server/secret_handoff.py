"""Provider keys handed from the launcher to the daemon over a pipe, never in its environment.

`/proc/<pid>/environ` shows the environment a process was started with, whatever it
does to `os.environ` later, and a command of the same user may read it. So the
launcher (`bosun daemon start`, `bosun lsp`, `bosun run`, the demo) starts the daemon
with every secret-looking variable removed and writes those variables to a pipe the
daemon reads once at start; a daemon started by hand with keys in its environment
re-executes itself the same way before doing anything else. The keys then live only
in the daemon's memory, which hardening.py makes unreadable to other processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from bosun.errors import BosunError
from bosun.secrets import hand_in

SECRETS_FD_FLAG = "--secrets-fd"
# Names that hold keys, tokens and passwords (the provider keys among them).
SECRET_NAME = re.compile(r"API_?KEY|TOKEN|SECRET|PASSW|CREDENTIAL|_KEY$|^KEY$", re.I)
_MAX_BYTES = 60_000  # a pipe holds 64 KiB: the write never waits for the reader


class SecretHandoffError(BosunError):
    """The keys could not be handed to the daemon (too large, or a broken pipe)."""


def configured_key_names(config_path: Path) -> set[str]:
    """Secret variable names from the workspace config (keys under names the pattern misses).

    `api_key_env` of providers, the variables MCP servers' `secret_env` and
    `secret_headers` read, webhooks' `secret_env`, tracing's `secret_headers` and the
    board's `password_env`.
    """
    try:
        data = tomllib.loads(config_path.read_text())
    except (OSError, ValueError):
        return set()
    providers = data.get("llm", {}).get("providers", {})
    names = {
        str(p["api_key_env"])
        for p in (providers.values() if isinstance(providers, dict) else ())
        if isinstance(p, dict) and isinstance(p.get("api_key_env"), str)
    }
    board = data.get("board", {})
    if isinstance(board, dict) and isinstance(board.get("password_env"), str):
        names.add(board["password_env"])
    observe = data.get("observe", {})
    hooks = observe.get("webhooks", {}) if isinstance(observe, dict) else {}
    for hook in hooks.values() if isinstance(hooks, dict) else ():
        if isinstance(hook, dict) and isinstance(hook.get("secret_env"), str):
            names.add(hook["secret_env"])
    tracing = observe.get("tracing", {}) if isinstance(observe, dict) else {}
    headers = tracing.get("secret_headers") if isinstance(tracing, dict) else None
    if isinstance(headers, dict):
        names.update(v for v in headers.values() if isinstance(v, str))
    servers = data.get("mcp", {}).get("servers", {})
    for server in servers.values() if isinstance(servers, dict) else ():
        for key in ("secret_env", "secret_headers"):
            table = server.get(key) if isinstance(server, dict) else None
            if isinstance(table, dict):
                names.update(v for v in table.values() if isinstance(v, str))
    return names


def split_environment(
    env: Mapping[str, str], extra_names: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, str], dict[str, str]]:
    """(the environment without secrets, the secrets)."""
    clean: dict[str, str] = {}
    secret: dict[str, str] = {}
    for name, value in env.items():
        (secret if name in extra_names or SECRET_NAME.search(name) else clean)[name] = value
    return clean, secret


def hand_over(secrets: Mapping[str, str]) -> int:
    """A pipe's read end (inheritable) holding `secrets`; the caller passes it on and closes it."""
    data = json.dumps(dict(secrets)).encode()
    if len(data) > _MAX_BYTES:
        raise SecretHandoffError(
            f"the secret-looking environment variables total {len(data)} bytes, more than "
            f"{_MAX_BYTES}; unset the ones the daemon does not need"
        )
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)
    finally:
        os.close(write_fd)
    os.set_inheritable(read_fd, True)
    return read_fd


def receive(fd: int) -> dict[str, str]:
    """Read and close the pipe the launcher handed over; its variables, validated."""
    chunks: list[bytes] = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            if sum(map(len, chunks)) > _MAX_BYTES:
                raise SecretHandoffError("the handed-over secrets are larger than allowed")
    except OSError as exc:
        raise SecretHandoffError(f"cannot read the handed-over secrets: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    try:
        data = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        raise SecretHandoffError("the handed-over secrets are not valid JSON") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise SecretHandoffError("the handed-over secrets must map names to strings")
    return data


def accept(fd: int | None, config_path: Path) -> None:
    """At daemon start: take the handed keys, or re-execute without keys in the environment."""
    if fd is not None:
        hand_in(receive(fd))
        return
    clean, secret = split_environment(os.environ, configured_key_names(config_path))
    if not secret:
        return
    read_fd = hand_over(secret)
    argv = [sys.executable, *sys.orig_argv[1:], SECRETS_FD_FLAG, str(read_fd)]
    os.execve(sys.executable, argv, clean)  # never returns
