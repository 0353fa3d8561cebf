"""`bosun lsp`: what editors launch. Relays stdio to the workspace daemon's socket.

The relay reads the editor's `initialize` to learn which repository it has open
(lsp_root.py), then copies bytes both ways without parsing, so every client speaks to
the daemon directly; it starts the daemon when none is running. Runs outlive the editor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from bosun.cli.common import EXIT_OK, guarded
from bosun.cli.lsp_root import choose_workspace, frame_body, read_frame, refuse_session
from bosun.errors import BosunError

_CHUNK = 1 << 16


def add_parsers(sub: Any) -> None:
    """Register `lsp`."""
    p = sub.add_parser("lsp", help="language-server stdio for editors (relays to the daemon)")
    p.add_argument("--no-start", action="store_true", help="fail instead of starting a daemon")
    p.set_defaults(func=guarded(cmd_lsp))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pump_in(in_fd: int, sock: socket.socket) -> None:
    """Editor → daemon, until the editor closes stdin (then half-close the socket)."""
    with contextlib.suppress(OSError):
        while chunk := os.read(in_fd, _CHUNK):
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)


def _pump_out(sock: socket.socket, out_fd: int) -> None:
    """Daemon → editor, until the daemon closes. A slow editor blocks only this copy,
    which pushes back on the daemon's socket (the daemon never waits on a client)."""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(_CHUNK):
            _write_all(out_fd, chunk)


def _connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def relay(args: argparse.Namespace) -> int:
    """Connect (starting the daemon if needed) and copy bytes until the daemon closes.

    Two blocking copies, one per direction, rather than an event loop: each message then
    costs one read and one write in the relay, nothing else (the relay's share of a
    round trip is what issue 2's 2 ms p99 target through `bosun lsp` measures)."""
    from bosun.server.launcher import spawn_daemon

    in_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()
    os.set_blocking(in_fd, True)
    os.set_blocking(out_fd, True)
    buffered = bytearray()
    explicit = Path(args.workspace) if args.workspace else None
    first, message = None, None
    try:
        first = read_frame(in_fd, buffered)
        message = frame_body(first) if first is not None else None
        is_init = message is not None and message.get("method") == "initialize"
        ws = choose_workspace(message if is_init else None, explicit)
    except BosunError as exc:
        # A root that is no repository, a --workspace that disagrees, or no root sent
        # and no repository here: the editor is told why, in its own protocol.
        return refuse_session(in_fd, out_fd, message, buffered, exc.message)
    try:
        sock = _connect(str(ws.socket_path))
    except OSError:
        if args.no_start:
            raise
        spawn_daemon(ws)
        sock = _connect(str(ws.socket_path))
    # What was read to find the root goes first, exactly as the editor sent it.
    sock.sendall((first or b"") + bytes(buffered))
    if first is None:
        sock.shutdown(socket.SHUT_WR)  # the editor closed before saying anything
    # The daemon closing ends the session; the editor closing stdin does too once the
    # daemon has answered what was in flight (it closes after `exit`). The inbound copy
    # is a daemon thread: it may sit in read() on stdin when the daemon goes away.
    if first is not None:
        inbound = threading.Thread(target=_pump_in, args=(in_fd, sock), daemon=True)
        inbound.start()
    try:
        _pump_out(sock, out_fd)
    finally:
        sock.close()
    return EXIT_OK


def cmd_lsp(args: argparse.Namespace) -> int:
    """Run the relay."""
    try:
        return relay(args)
    except (ConnectionError, FileNotFoundError) as exc:
        print(f"bosun lsp: cannot reach the daemon: {exc}", file=sys.stderr)
        return 1
