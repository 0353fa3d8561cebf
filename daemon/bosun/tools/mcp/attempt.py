"""The MCP servers of one attempt: started with it, their tools named `server__tool`, stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import mcp_types

from bosun.secrets import provider_environ
from bosun.tools.context import ToolContext
from bosun.tools.mcp.link import LinkSpec, LinkState, McpError, McpLink
from bosun.tools.mcp.settings import McpServerSettings, McpSettings
from bosun.tools.mcp.stdio import Launch
from bosun.tools.registry import ToolSpec
from bosun.tools.results import ToolResult
from bosun.tools.settings import PolicyAction, PolicyRule

SEPARATOR = "__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_NAME_MAX = 64  # what OpenAI and Anthropic accept for a tool name
_DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class McpTool:
    """One tool of a ready server, as the agent sees it."""

    name: str  # namespaced, what the model calls
    link: McpLink
    tool: mcp_types.Tool

    @property
    def read_only(self) -> bool:
        """Whether the server annotated the tool as not modifying anything."""
        notes = self.tool.annotations
        return bool(notes is not None and notes.read_only_hint)

    def spec(self) -> ToolSpec:
        """The definition sent to the model: the server's own schema and description."""
        text = (self.tool.description or self.tool.title or self.tool.name).strip()
        text = f"[MCP server {self.link.name}] {text}"[:_DESCRIPTION_MAX]
        schema = dict(self.tool.input_schema) or {"type": "object"}
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        return ToolSpec(self.name, text, schema)

    def policy_rule(self) -> PolicyRule:
        """The server's own rule for this tool: per tool, per server, else by annotation."""
        conf = self.link.conf
        action: PolicyAction = (
            conf.tools.get(self.tool.name) or conf.policy or ("allow" if self.read_only else "ask")
        )
        why = f"a tool of the MCP server {self.link.name}"
        if action == "ask" and conf.policy is None and self.tool.name not in conf.tools:
            why += " that is not annotated read-only"
        return PolicyRule(action=action, tool=self.name, reason=why)

    def validate(self, arguments: dict[str, Any]) -> str | None:
        """None when the arguments fit the tool's schema; else what is wrong, for the model."""
        schema = self.spec().parameters
        try:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
        except jsonschema.SchemaError:
            return None  # the server's schema is broken: the server itself judges
        errors = sorted(cls(schema).iter_errors(arguments), key=lambda e: list(e.path))
        if not errors:
            return None
        lines = [
            f"- {'.'.join(str(p) for p in e.path) or '(arguments)'}: {e.message[:300]}"
            for e in errors[:10]
        ]
        return "invalid arguments:\n" + "\n".join(lines)


def tool_name(server: str, tool: str) -> str:
    """`server__tool`, with characters providers refuse replaced, at most 64 long."""
    return f"{server}{SEPARATOR}{_UNSAFE.sub('_', tool)}"[:_NAME_MAX]


def render_result(result: mcp_types.CallToolResult) -> ToolResult:
    """A tool's answer as text for the model (binary content is named, not inlined)."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
            parts.append(f"[{block.type}: {block.mime_type}, {len(block.data)} base64 characters]")
        elif isinstance(block, mcp_types.EmbeddedResource):
            res = block.resource
            if isinstance(res, mcp_types.TextResourceContents):
                parts.append(f"[resource {res.uri}]\n{res.text}")
            else:
                parts.append(f"[resource {res.uri}: binary, not shown]")
        elif isinstance(block, mcp_types.ResourceLink):
            parts.append(f"[resource link {block.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'content')} not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, indent=2, default=str))
    text = "\n".join(parts) or "(no content)"
    return ToolResult.error(text) if result.is_error else ToolResult(text)


class AttemptMcp:
    """The attempt's servers and their tools."""

    def __init__(self, links: list[McpLink]) -> None:
        self.links = links
        self._tools: dict[str, McpTool] = {}

    async def start(self) -> None:
        """Start every server at once; wait until each is ready or has failed."""
        for link in self.links:
            link.start()
        await asyncio.gather(*(link.wait_ready() for link in self.links))
        for link in self.links:
            for tool in link.tools if link.state is LinkState.READY else ():
                name = tool_name(link.name, tool.name)
                self._tools.setdefault(name, McpTool(name, link, tool))

    def get(self, name: str) -> McpTool | None:
        """The tool the model calls `name`, if a server offers it."""
        return self._tools.get(name)

    def specs(self) -> list[ToolSpec]:
        """The definitions of every server's tools."""
        return [t.spec() for t in self._tools.values()]

    def names(self) -> list[str]:
        """Every MCP tool name of the attempt."""
        return list(self._tools)

    def notice(self) -> str:
        """What the agent is told about servers that are not there (empty when all are)."""
        down = [
            f"- {lk.name}: {lk.describe()}" for lk in self.links if lk.state is not LinkState.READY
        ]
        if not down:
            return ""
        return "These configured MCP servers are not available in this attempt:\n" + "\n".join(down)

    def status(self) -> list[dict[str, Any]]:
        """Each server's state (for events and `bosun doctor`)."""
        return [
            {
                "server": lk.name,
                "state": lk.state.value,
                "transport": lk.conf.transport,
                "tools": len(lk.tools),
                "reason": lk.reason,
            }
            for lk in self.links
        ]

    async def call(self, tool: McpTool, arguments: dict[str, Any]) -> ToolResult:
        """Call the tool within its server's time limit; every failure becomes a result."""
        limit = tool.link.conf.call_timeout_s
        try:
            async with asyncio.timeout(limit):
                result = await tool.link.call(tool.tool.name, arguments)
        except TimeoutError:
            return ToolResult.error(f"{tool.name} did not answer within {limit:g} s", "timeout")
        except McpError as exc:
            return ToolResult.error(str(exc))
        return render_result(result)

    async def close(self) -> None:
        """Stop every server."""
        await asyncio.gather(*(link.close() for link in self.links))


def links_for(
    settings: McpSettings, ctx: ToolContext, environ: Mapping[str, str] | None = None
) -> list[McpLink]:
    """A link for each enabled server the context's profile gets."""
    from bosun.tools.commands import hidden_paths, sandbox_of

    env = provider_environ() if environ is None else environ
    links = []
    for name, conf in settings.servers.items():
        if not conf.applies_to(ctx.profile):
            continue
        launch = None
        if conf.command is not None:
            launch = Launch(
                argv=[conf.command, *conf.args], env=_base_env(ctx, conf), worktree=ctx.worktree_path,
                sandbox=sandbox_of(ctx), hidden=hidden_paths(ctx), read_only=ctx.mounts.read_only,
                writable=ctx.mounts.writable, network=conf.network,
            )  # fmt: skip
        links.append(McpLink(name, conf, LinkSpec(launch, env)))
    return links


def _base_env(ctx: ToolContext, conf: McpServerSettings) -> dict[str, str]:
    """The commands' allowlisted environment plus the server's own plain variables."""
    env = {
        "PATH": ctx.settings.command_path,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return {**env, **conf.env}


@contextlib.asynccontextmanager
async def attempt_mcp(ctx: ToolContext, settings: McpSettings) -> AsyncIterator[AttemptMcp]:
    """The attempt's servers, started now (set as `ctx.mcp`) and stopped on every exit."""
    mcp = AttemptMcp(links_for(settings, ctx))
    ctx.mcp = mcp
    try:
        await mcp.start()
        if mcp.links and ctx.events is not None:
            await ctx.events.append_event(
                "mcp_servers", run_id=ctx.run_id, task_id=ctx.task_id,
                data={"attempt": ctx.attempt, "servers": mcp.status()},
            )  # fmt: skip
        yield mcp
    finally:
        ctx.mcp = None
        await asyncio.shield(mcp.close())
