"""`bosun lsp`: what editors launch. Relays stdio to the workspace daemon's socket.

The relay copies bytes both ways without parsing, so every client speaks to the daemon
directly; it starts the daemon when none is running. Runs outlive the editor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

from bosun.cli.common import EXIT_OK, guarded, workspace_of

_CHUNK = 1 << 16


def add_parsers(sub: Any) -> None:
    """Register `lsp`."""
    p = sub.add_parser("lsp", help="language-server stdio for editors (relays to the daemon)")
    p.add_argument("--no-start", action="store_true", help="fail instead of starting a daemon")
    p.set_defaults(func=guarded(cmd_lsp))


async def _pump_in(stdin: asyncio.StreamReader, sock: asyncio.StreamWriter) -> None:
    while chunk := await stdin.read(_CHUNK):
        sock.write(chunk)
        await sock.drain()
    with contextlib.suppress(OSError):
        sock.write_eof()


async def _pump_out(sock: asyncio.StreamReader, out_fd: int) -> None:
    loop = asyncio.get_running_loop()
    while chunk := await sock.read(_CHUNK):
        view = memoryview(chunk)
        while view:
            try:
                n = os.write(out_fd, view)
            except BlockingIOError:
                # The editor is not reading; wait until stdout is writable again.
                fut: asyncio.Future[None] = loop.create_future()
                loop.add_writer(out_fd, fut.set_result, None)
                try:
                    await fut
                finally:
                    loop.remove_writer(out_fd)
                continue
            view = view[n:]


async def relay(args: argparse.Namespace) -> int:
    """Connect (starting the daemon if needed) and copy bytes until either side closes."""
    from bosun.server.launcher import spawn_daemon

    ws = workspace_of(args)
    try:
        reader, writer = await asyncio.open_unix_connection(str(ws.socket_path))
    except OSError:
        if args.no_start:
            raise
        await asyncio.to_thread(spawn_daemon, ws)
        reader, writer = await asyncio.open_unix_connection(str(ws.socket_path))
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=_CHUNK)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    out_fd = sys.stdout.fileno()
    os.set_blocking(out_fd, False)
    inbound = asyncio.create_task(_pump_in(stdin, writer))
    outbound = asyncio.create_task(_pump_out(reader, out_fd))
    # The daemon closing ends the session; the editor closing stdin does too once the
    # daemon has answered what was in flight (it closes after `exit`).
    await outbound
    inbound.cancel()
    with contextlib.suppress(asyncio.CancelledError, OSError):
        await inbound
    writer.close()
    return EXIT_OK


def cmd_lsp(args: argparse.Namespace) -> int:
    """Run the relay."""
    try:
        return asyncio.run(relay(args))
    except (ConnectionError, FileNotFoundError) as exc:
        print(f"bosun lsp: cannot reach the daemon: {exc}", file=sys.stderr)
        return 1
