"""Helpers shared by CLI commands: workspace, errors, output, daemon connection.

With `--json`, stdout carries only JSON: `json_mode` points `sys.stdout` at stderr for
the whole command, so any progress line lands there, and only `print_json` (one
document) and `print_json_line` (JSON Lines, for streams) write to the real stdout. A
command that fails prints `{"error": {"message": …, "code": …}}` there as well as its
message on stderr, so a script always has a document to parse.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from bosun.errors import BosunError
from bosun.workspace import Workspace, find_workspace

EXIT_OK = 0
EXIT_ERROR = 1


def workspace_of(args: argparse.Namespace) -> Workspace:
    """The workspace named by --workspace (or the current directory)."""
    return find_workspace(Path(args.workspace) if args.workspace else None)


_JSON_OUT: TextIO | None = None  # the real stdout while a --json command runs


@contextmanager
def json_mode(on: bool) -> Iterator[None]:
    """While inside and `on`: only print_json/print_json_line reach stdout."""
    global _JSON_OUT
    if not on:
        yield
        return
    _JSON_OUT, sys.stdout = sys.stdout, sys.stderr
    try:
        yield
    finally:
        sys.stdout, _JSON_OUT = _JSON_OUT, None


def _json_stream() -> TextIO:
    return _JSON_OUT if _JSON_OUT is not None else sys.stdout


def fail(message: str, code: Any = None) -> int:
    """Print an error for a person (and, with --json, as a document) and return 1."""
    print(f"bosun: {message}", file=sys.stderr)
    if _JSON_OUT is not None:
        error: dict[str, Any] = {"message": message}
        if code is not None:
            error["code"] = code
        print_json({"error": error})
    return EXIT_ERROR


def print_json(value: Any) -> None:
    """Machine output: one JSON document on stdout."""
    print(json.dumps(value, indent=2, default=str), file=_json_stream(), flush=True)


def print_json_line(value: Any) -> None:
    """Machine output of a stream: one compact JSON document per line (JSON Lines)."""
    print(json.dumps(value, default=str), file=_json_stream(), flush=True)


def guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn BosunErrors into a clear message and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except BosunError as exc:
            return fail(exc.message, int(exc.code))
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
    start: bool = True,
) -> int:
    """Connect to the workspace daemon and run `body(client)`. With no daemon, one is
    started as `bosun lsp` does (unless not `start`), and stderr says so: a user never
    has to start one by hand."""
    from bosun.client import Client, DaemonNotRunning
    from bosun.server.launcher import DaemonStartError, spawn_daemon

    ws = workspace_of(args)
    try:
        client = await Client.connect(ws.socket_path)
    except DaemonNotRunning:
        if not start:
            raise
        try:
            info = await asyncio.to_thread(spawn_daemon, ws)
            print(
                f"bosun: started a daemon for {ws.root} (pid {info.get('pid')}; "
                "`bosun daemon stop` stops it)",
                file=sys.stderr,
            )
        except DaemonStartError as failed:
            # Another command may have started one a moment before us (its lock won).
            try:
                client = await Client.connect(ws.socket_path)
            except DaemonNotRunning:
                raise failed from None
        else:
            client = await Client.connect(ws.socket_path)
    async with client:
        return await body(client)
