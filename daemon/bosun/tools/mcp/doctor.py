"""`bosun doctor`'s MCP check: start each configured server as an attempt would, list its tools."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bosun_protocol.entities import Profile

from bosun.config import Settings
from bosun.tools.context import ToolContext
from bosun.tools.mcp.attempt import AttemptMcp, links_for
from bosun.tools.mcp.link import LinkState


async def check_mcp_servers(settings: Settings) -> list[dict[str, Any]]:
    """One check per configured server: ready with N tools, or why not.

    Each server is started in the attempt's sandbox with an empty temporary directory as
    its worktree, so a probe never writes into the user's checkout.
    """
    checks: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bosun-doctor-mcp-") as tmp:
        for name, conf in settings.mcp.servers.items():
            if not conf.enabled:
                checks.append(_check(name, True, "disabled"))
                continue
            ctx = ToolContext(
                run_id=0, task_id=0, attempt=0, worktree_path=Path(tmp), branch="",
                profile=(conf.profiles or [Profile.CODER])[0], settings=settings.tools,
            )  # fmt: skip
            only = settings.mcp.model_copy(update={"servers": {name: conf}})
            mcp = AttemptMcp(links_for(only, ctx))
            try:
                await mcp.start()
            finally:
                await mcp.close()
            link = mcp.links[0]
            ok = link.state in (LinkState.READY, LinkState.CLOSED) and not link.reason
            where = conf.url if conf.url else conf.command
            tools = ", ".join(t.name for t in link.tools[:12])
            detail = f"{conf.transport} {where}: " + (
                f"{len(link.tools)} tool(s): {tools}" if ok else link.describe()
            )
            checks.append(_check(name, ok, detail, tools=len(link.tools)))
    return checks


def _check(name: str, ok: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": f"mcp {name}", "ok": ok, "detail": detail, **extra}
