"""The one path every tool call takes: validate → policy → run with a limit → bound → redact → event.

Nothing a tool returns is interpreted here: output is data for the model, never an
instruction to the daemon. Only the typed control outcomes of `finish` and `ask_human`
reach the worker loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bosun.errors import BosunError, WorkerLostError
from bosun.observe import hooks, spans
from bosun.secrets import redact
from bosun.tools.context import ToolContext
from bosun.tools.policy import Policy
from bosun.tools.registry import Tool, ToolRegistry
from bosun.tools.results import ToolResult, bound_text

if TYPE_CHECKING:
    from bosun.tools.mcp.attempt import McpTool

log = logging.getLogger(__name__)

_EVENT_STRING_LIMIT = 400  # long arguments (file contents) are cut in events
_HUMAN_STRING_LIMIT = 8000  # a human approving a command sees all of it


def describe_validation(exc: ValidationError) -> str:
    """A validation failure as lines the model can act on."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        lines.append(f"- {where}: {err['msg']}")
    return "invalid arguments:\n" + "\n".join(lines)


def _shorten(value: Any, limit: int = _EVENT_STRING_LIMIT) -> Any:
    """`value` with secrets redacted and long strings cut (for events and humans)."""
    if isinstance(value, str):
        text = redact(value)
        if len(text) > limit:
            return text[:limit] + f"…[{len(text)} chars]"
        return text
    if isinstance(value, dict):
        return {str(k): _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value[:50]]
    return value


class ToolExecutor:
    """Runs tool calls for workers, each through the whole pipeline."""

    def __init__(self, registry: ToolRegistry, policy: Policy) -> None:
        self.registry = registry
        self.policy = policy

    async def call(
        self, ctx: ToolContext, name: str, arguments: str | Mapping[str, Any] | None
    ) -> ToolResult:
        """Run one call; every failure becomes a result, and every call an event."""
        mcp_tool = ctx.mcp.get(name) if ctx.mcp is not None else None
        # An unknown name is reported as such: a model's invented names stay out of labels.
        known = mcp_tool is not None or self.registry.get(name) is not None
        started = time.monotonic()
        raw: dict[str, Any] = {}
        with spans.tool_span(name if known else "(unknown)") as span:
            result = await self._call(ctx, name, arguments, raw)
            result.content = redact(bound_text(result.content, ctx.settings.output_limit_chars))
            span.set(bosun__tool__outcome=result.outcome,
                     bosun__mcp__server=mcp_tool.link.name if mcp_tool else None)  # fmt: skip
            if result.is_error:
                span.fail(result.outcome, result.content)
        took = time.monotonic() - started
        await self._record(ctx, name, raw, result, took)
        hooks.tool_call(
            hooks.ToolCallRecord(
                tool=name if known else "(unknown)",
                outcome=result.outcome,
                seconds=took,
                mcp_server=mcp_tool.link.name if mcp_tool is not None else None,
            )
        )
        return result

    async def _call(
        self,
        ctx: ToolContext,
        name: str,
        arguments: str | Mapping[str, Any] | None,
        raw: dict[str, Any],
    ) -> ToolResult:
        mcp_tool = ctx.mcp.get(name) if ctx.mcp is not None else None
        if mcp_tool is not None:
            return await self._call_mcp(ctx, mcp_tool, arguments, raw)
        tool = self.registry.get(name)
        if tool is None or not self.registry.allowed(ctx.profile, name):
            names = ", ".join(
                [t.name for t in self.registry.for_profile(ctx.profile)]
                + (ctx.mcp.names() if ctx.mcp is not None else [])
            )
            return ToolResult.error(f"unknown tool {name!r}; available: {names}", "invalid")
        parsed = _parse(arguments)
        if isinstance(parsed, str):
            return ToolResult.error(parsed, "invalid")
        raw.update(parsed)
        try:
            args = tool.args.model_validate(parsed)
        except ValidationError as exc:
            return ToolResult.error(describe_validation(exc), "invalid")
        command = parsed.get("command") if name == "run_command" else None
        refusal = await self.policy.authorize(
            ctx,
            name,
            _shorten(parsed, _HUMAN_STRING_LIMIT),
            command if isinstance(command, str) else None,
        )
        if refusal is not None:
            return ToolResult.error(refusal, "denied")
        return await self._run(ctx, tool, args)

    async def _call_mcp(
        self,
        ctx: ToolContext,
        tool: McpTool,
        arguments: str | Mapping[str, Any] | None,
        raw: dict[str, Any],
    ) -> ToolResult:
        """An MCP server's tool: its JSON schema, the server's policy and time limit."""
        assert ctx.mcp is not None
        parsed = _parse(arguments)
        if isinstance(parsed, str):
            return ToolResult.error(parsed, "invalid")
        raw.update(parsed)
        invalid = tool.validate(parsed)
        if invalid is not None:
            return ToolResult.error(invalid, "invalid")
        refusal = await self.policy.authorize(
            ctx, tool.name, _shorten(parsed, _HUMAN_STRING_LIMIT), None, [tool.policy_rule()]
        )
        if refusal is not None:
            return ToolResult.error(refusal, "denied")
        return await ctx.mcp.call(tool, parsed)

    async def _run(self, ctx: ToolContext, tool: Tool[Any], args: Any) -> ToolResult:
        limit = ctx.settings.tool_timeout_s
        try:
            if tool.timed:
                async with asyncio.timeout(limit):
                    out = await self._dispatch(ctx, tool, args)
            else:
                out = await self._dispatch(ctx, tool, args)
        except WorkerLostError:
            raise  # the attempt's node is gone: the attempt ends, the model is not told
        except TimeoutError:
            return ToolResult.error(f"{tool.name} did not finish within {limit:g} s", "timeout")
        except BosunError as exc:  # tool refusals, and board errors such as a cycle
            return ToolResult.error(exc.message)
        except OSError as exc:  # permission denied, name too long, disk full…
            return ToolResult.error(f"{tool.name} failed: {exc.strerror or exc}")
        except Exception:
            log.exception("tool %s failed", tool.name)
            return ToolResult.error(f"{tool.name} failed with an internal error (logged)")
        return out if isinstance(out, ToolResult) else ToolResult(out)

    async def _dispatch(self, ctx: ToolContext, tool: Tool[Any], args: Any) -> ToolResult | str:
        """Run the tool here, or at the attempt's place when it has one and the tool works
        on the worktree (validation and policy already ran here, once)."""
        if ctx.place is None or tool.where == "daemon":
            return await tool.run(ctx, args)
        return await ctx.place.run_tool(ctx, tool.name, args.model_dump(mode="json"))

    async def _record(
        self, ctx: ToolContext, name: str, raw: dict[str, Any], result: ToolResult, took: float
    ) -> None:
        if ctx.events is None:
            return
        data: dict[str, Any] = {
            "tool": name,
            "args": _shorten(raw),
            "attempt": ctx.attempt,
            "durationMs": round(took * 1000, 1),
            "outcome": result.outcome,
        }
        if result.is_error:
            data["error"] = result.content[:_EVENT_STRING_LIMIT]
        if result.control is not None:
            data["control"] = result.control.kind
        mcp_tool = ctx.mcp.get(name) if ctx.mcp is not None else None
        if mcp_tool is not None:
            data["mcpServer"] = mcp_tool.link.name
        tool = self.registry.get(name)
        shown = raw.get(tool.summary_field) if tool and tool.summary_field else None
        if isinstance(shown, str):
            # One line a UI can show in an event list ("run_command: pytest -q").
            data["summary"] = _shorten(shown.partition("\n")[0], 200)
        await ctx.events.append_event(
            "tool_call", run_id=ctx.run_id, task_id=ctx.task_id, data=data
        )


def _parse(arguments: str | Mapping[str, Any] | None) -> dict[str, Any] | str:
    """The arguments as a mapping, or a message saying why they are not one."""
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments)
        except json.JSONDecodeError as exc:
            return f"arguments are not valid JSON: {exc.msg} at position {exc.pos}"
    else:
        value = dict(arguments)
    if not isinstance(value, dict):
        return "arguments must be a JSON object"
    return value
