"""Helpers shared by CLI commands: workspace, errors, output, daemon connection."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from bosun.errors import BosunError
from bosun.workspace import Workspace, find_workspace

EXIT_OK = 0
EXIT_ERROR = 1


def workspace_of(args: argparse.Namespace) -> Workspace:
    """The workspace named by --workspace (or the current directory)."""
    return find_workspace(Path(args.workspace) if args.workspace else None)


def fail(message: str) -> int:
    """Print an error for a person and return the error exit code."""
    print(f"bosun: {message}", file=sys.stderr)
    return EXIT_ERROR


def print_json(value: Any) -> None:
    """Machine output: one JSON document on stdout."""
    print(json.dumps(value, indent=2, default=str))


def guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn BosunErrors into a clear message and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except BosunError as exc:
            return fail(exc.message)
        except KeyboardInterrupt:
            return 130

    return run


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine to completion."""
    return asyncio.run(coro)


async def with_client(
    args: argparse.Namespace,
    body: Callable[[Any], Awaitable[int]],
    *,
    start: bool = False,
) -> int:
    """Connect to the workspace daemon (starting it when `start`) and run `body(client)`."""
    from bosun.client import Client, DaemonNotRunning
    from bosun.server.launcher import spawn_daemon

    ws = workspace_of(args)
    try:
        client = await Client.connect(ws.socket_path)
    except DaemonNotRunning:
        if not start:
            raise
        await asyncio.to_thread(spawn_daemon, ws)
        client = await Client.connect(ws.socket_path)
    async with client:
        return await body(client)
