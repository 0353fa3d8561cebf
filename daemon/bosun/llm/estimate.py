"""Token counts from characters, for when a provider reports no usage (and for budgets).

Many OpenAI-compatible servers send no usage at all, or zeros. Budgets must bind all
the same, so a call without usage is counted from the characters sent and received,
and the figure is marked `estimated`. No tokenizer: the usual ones fetch their tables
at run time, and a conservative ratio is enough to stop a runaway. English prose and
code run at about four characters a token; 3.5 errs on the side of counting more.
"""

from __future__ import annotations

import json
import math

from bosun.llm.messages import ModelRequest, ModelResponse, Usage

CHARS_PER_TOKEN = 3.5
_PER_MESSAGE = 8  # role, separators and ids a provider adds around every message


def chars_to_tokens(chars: int) -> int:
    """Tokens for `chars` characters, rounded up (at least 1)."""
    return max(1, math.ceil(chars / CHARS_PER_TOKEN))


def request_chars(request: ModelRequest) -> int:
    """Characters a request sends: messages, tool calls' arguments and the tools' schemas."""
    chars = 0
    for m in request.messages:
        chars += len(m.content) + _PER_MESSAGE + sum(t.size() for t in m.thinking)
        chars += sum(len(c.name) + len(c.wire_arguments()) for c in m.tool_calls)
    chars += sum(
        len(t.name) + len(t.description) + len(json.dumps(t.parameters)) for t in request.tools
    )
    return chars


def estimate_input(request: ModelRequest) -> int:
    """The request's input tokens, estimated from its characters."""
    return chars_to_tokens(request_chars(request))


def estimate_output(response: ModelResponse) -> int:
    """The answer's output tokens, estimated from its text and tool calls."""
    chars = len(response.text) + sum(
        len(c.name) + len(c.raw_arguments) for c in response.tool_calls
    )
    chars += sum(len(t.text) + len(t.data) for t in response.thinking)
    return chars_to_tokens(chars) if chars else 0


def with_estimates(usage: Usage, request: ModelRequest, response: ModelResponse) -> Usage:
    """`usage`, with each count the provider left out (zero) filled in from characters.

    A provider that answered something but counted no input did not count: no real
    request has zero input tokens. The result says `estimated` when anything was filled.
    """
    update: dict[str, object] = {}
    if usage.input_tokens <= 0:
        update["input_tokens"] = estimate_input(request)
    if usage.output_tokens <= 0:
        output = estimate_output(response)
        if output:
            update["output_tokens"] = output
            thought = sum(len(t.text) + len(t.data) for t in response.thinking)
            if thought:
                update["reasoning_tokens"] = min(output, chars_to_tokens(thought))
    if not update:
        return usage
    return usage.model_copy(update={**update, "estimated": True})
