"""`bosun mcp`: this workspace's daemon as an MCP server over stdio, for other agents."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bosun.cli.common import EXIT_OK, guarded, workspace_of


def add_parsers(sub: Any) -> None:
    """Register `mcp`."""
    p = sub.add_parser(
        "mcp", help="MCP server (stdio) for other agents: delegate objectives to bosun"
    )
    p.add_argument("--no-start", action="store_true", help="fail instead of starting a daemon")
    p.set_defaults(func=guarded(cmd_mcp))


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve MCP on stdin/stdout until the client goes away; runs go on in the daemon."""
    import anyio

    from bosun.delegate.daemon_link import DaemonLink
    from bosun.delegate.server import build_server

    link = DaemonLink(workspace_of(args), start=not args.no_start)

    async def serve() -> None:
        try:
            await build_server(link).run_stdio_async()
        finally:
            await link.close()

    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        return 130
    print("bosun mcp: the client closed the connection", file=sys.stderr)
    return EXIT_OK
