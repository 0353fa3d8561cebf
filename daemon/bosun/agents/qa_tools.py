"""The strategist's tools while it judges: the MCP servers configured for its profile.

QA has no built-in tools (its evidence is the diff, the report and the test run), but
a configured MCP server (an issue tracker, a docs server, a browser) can answer what
the evidence leaves open. Each call takes the one tool pipeline, exactly as a worker's
does: validation, policy (an `ask` reaches a human through the attempt's approver),
time limit, bounds, redaction, a `tool_call` event. The number of tool rounds is
bounded; past it, calls are answered with a refusal that asks for the verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bosun.llm.messages import ChatMessage, ModelResponse, ToolSpec
from bosun.tools.context import ToolContext
from bosun.tools.executor import ToolExecutor

SPENT = (
    "No more tool calls are allowed while judging: answer now with only the JSON "
    "object of verdicts."
)


def mcp_specs(ctx: ToolContext) -> list[ToolSpec]:
    """The context's MCP tools as the model sees them (none without servers)."""
    if ctx.mcp is None:
        return []
    return [ToolSpec(name=s.name, description=s.description, parameters=s.parameters)
            for s in ctx.mcp.specs()]  # fmt: skip


@dataclass
class QaTools:
    """The MCP tools of one QA check, and how many rounds of calls it may make."""

    executor: ToolExecutor
    ctx: ToolContext
    max_rounds: int = 8
    rounds: int = 0

    def specs(self) -> list[ToolSpec]:
        """What is offered to the strategist model."""
        return mcp_specs(self.ctx)

    async def answer(self, response: ModelResponse) -> list[ChatMessage]:
        """The model's tool calls, each run through the pipeline (or refused once the
        rounds are spent): the messages to add before asking again."""
        self.rounds += 1
        spent = self.rounds > self.max_rounds
        offered = {s.name for s in self.specs()}
        out = [response.message()]
        for call in response.tool_calls:
            if spent:
                out.append(ChatMessage.tool(call, SPENT, is_error=True))
                continue
            if call.name not in offered:  # the profile's built-ins are not offered to QA
                listed = ", ".join(sorted(offered))
                refusal = f"unknown tool {call.name!r}; available: {listed}"
                out.append(ChatMessage.tool(call, refusal, is_error=True))
                continue
            arguments: str | dict[str, Any] = (
                call.raw_arguments if call.error is not None else call.arguments
            )
            result = await self.executor.call(self.ctx, call.name, arguments)
            out.append(ChatMessage.tool(call, result.content, is_error=result.is_error))
        return out
