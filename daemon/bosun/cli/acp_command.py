"""`bosun acp`: Bosun as an Agent Client Protocol agent on stdio, for editors that host
coding agents (Zed, JetBrains IDEs, Neovim's CodeCompanion and avante, Emacs agent-shell).

It relays to the workspace daemon of each session's folder, starting it when needed, as
`bosun lsp` does; runs outlive the editor. docs/editors.md has each editor's settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any, BinaryIO, cast

from bosun.cli.common import EXIT_OK, guarded


def add_parsers(sub: Any) -> None:
    """Register `acp`."""
    p = sub.add_parser("acp", help="Agent Client Protocol agent on stdio (Zed, JetBrains…)")
    p.add_argument("--no-start", action="store_true", help="fail instead of starting a daemon")
    p.set_defaults(func=guarded(cmd_acp))


async def _streams(
    fin: BinaryIO, fout: BinaryIO
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    from acp.stdio import _WritePipeProtocol

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=50 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), fin)
    protocol = _WritePipeProtocol()
    transport, _ = await loop.connect_write_pipe(lambda: protocol, fout)
    return reader, asyncio.StreamWriter(transport, protocol, None, loop)


async def serve(args: argparse.Namespace, fin: BinaryIO, fout: BinaryIO) -> int:
    """Speak ACP on `fin`/`fout` until the editor closes its end."""
    from acp import Agent, run_agent

    from bosun.acp.agent import BosunAgent
    from bosun.acp.daemons import Daemons

    reader, writer = await _streams(fin, fout)
    agent = BosunAgent(Daemons(start=not args.no_start))
    try:
        # The SDK dispatches by method name; BosunAgent implements the v1 agent methods
        # (not the protocol class's every optional one). session/resume is behind the
        # SDK's unstable switch in this version.
        await run_agent(cast(Agent, agent), writer, reader, use_unstable_protocol=True)
    finally:
        await agent.close()
    return EXIT_OK


def cmd_acp(args: argparse.Namespace) -> int:
    """Run the agent; logs go to stderr (editors show them in their agent log)."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="bosun acp: %(levelname)s %(message)s"
    )
    # The protocol gets its own copies of stdin and stdout; fd 1 itself becomes stderr,
    # so nothing printed by accident (or by a child) can corrupt the editor's stream.
    in_fd, out_fd = os.dup(sys.stdin.fileno()), os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with open(in_fd, "rb", buffering=0) as fin, open(out_fd, "wb", buffering=0) as fout:
        return asyncio.run(serve(args, fin, fout))
