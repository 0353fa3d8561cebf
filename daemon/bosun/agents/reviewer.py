"""An optional reviewer: a (cheap) model that reads an attempt's trajectory against its
task every few turns and tells the watchdog whether it is on track.

On only where a model is named for the `reviewer` role, in the run's options
(`RunOptions.models["reviewer"]`) or in `[llm.roles]`; `[agents] review_every` says how
many turns apart. It sees the task's brief and the attempt's latest calls and results,
in a few thousand characters, and answers one JSON object:
`{"verdict": "on_track" | "nudge" | "stop", "reason": "…"}`. A nudge or stop goes
through the watchdog like its own findings (one warning, then the attempt ends
`stalled`, "stopped by the reviewer: …"). The reviewer is advice: a failing call, a
spent budget or an answer that is not such an object leaves the attempt alone.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bosun_protocol.entities import RunOptions

from bosun.errors import BosunError
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.settings import LlmSettings

log = logging.getLogger(__name__)

ROLE = "reviewer"
_BRIEF_CHARS = 3_000
_TRAJECTORY_CHARS = 6_000
_LINE = 240  # characters of one call or result shown
_PROMPT = """You review an autonomous coding agent's work in progress against its task.
You see the task and the agent's most recent steps. Decide whether it is on track.
Answer with one JSON object and nothing else:
{"verdict": "on_track" | "nudge" | "stop", "reason": "<one or two sentences>"}
- on_track: it is making progress on what the task asks.
- nudge: it is drifting (looping, working on something else, ignoring the criteria);
  the reason is told to the agent, so say what it should do instead.
- stop: continuing is pointless or harmful (it cannot succeed this way, it damages
  unrelated code).
"""
Said = tuple[Literal["nudge", "stop"], str]


def configured(settings: LlmSettings, options: RunOptions | None) -> bool:
    """Whether a model is named for the reviewer role (the run's options, or config)."""
    return ROLE in (options.models if options else {}) or ROLE in settings.roles


def _short(text: str, limit: int = _LINE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trajectory(messages: list[ChatMessage], limit: int = _TRAJECTORY_CHARS) -> str:
    """The newest steps of an attempt (calls and results, one line each) within `limit`."""
    lines: list[str] = []
    used = 0
    for m in reversed(messages):
        if m.role == "assistant":
            parts = [f"{c.name}({_short(c.wire_arguments(), 120)})" for c in m.tool_calls]
            line = "agent: " + _short(m.content, 160) + (" → " + ", ".join(parts) if parts else "")
        elif m.role == "tool":
            line = f"  {m.name} {'FAILED' if m.is_error else 'ok'}: {_short(m.content)}"
        elif m.role == "user":
            line = "note to the agent: " + _short(m.content)
        else:
            continue
        if used + len(line) > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(reversed(lines))


def verdict(text: str) -> Said | None:
    """The reviewer's answer as (action, reason); None when on track or unreadable."""
    found = re.search(r"\{.*\}", text, re.S)
    if found is None:
        return None
    try:
        data = json.loads(found.group(0))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    said, reason = data.get("verdict"), str(data.get("reason") or "").strip()
    if said not in ("nudge", "stop") or not reason:
        return None
    action: Literal["nudge", "stop"] = "stop" if said == "stop" else "nudge"
    return action, _short(reason, 600)


@dataclass
class Reviewer:
    """Per attempt: every `every` turns, one call to the reviewer model."""

    gateway: ModelGateway
    context: CallContext  # the attempt's (role and turn are set per review)
    options: RunOptions | None
    brief: str
    messages: Callable[[], list[ChatMessage]]
    every: int = 10

    async def review(self, turn: int) -> Said | None:
        """None when on track (or not a review turn); else what to do and why."""
        if self.every <= 0 or turn % self.every:
            return None
        ask = (
            f"# The task\n{self.brief[:_BRIEF_CHARS]}\n\n# The agent's latest steps "
            f"(turn {turn})\n{trajectory(self.messages())}"
        )
        request = ModelRequest(
            messages=[ChatMessage.system(_PROMPT), ChatMessage.user(ask)], max_tokens=400
        )
        ctx = self.context.model_copy(update={"role": ROLE, "turn": turn})
        try:
            response = await self.gateway.complete(request, ctx, options=self.options)
        except BosunError as exc:  # advice only: the attempt goes on without it
            log.warning("reviewer call failed at turn %d: %s", turn, exc.message)
            return None
        said = verdict(response.text)
        if said is None and response.text.strip() and '"on_track"' not in response.text:
            log.info("reviewer answer not understood: %s", _short(response.text))
        return said
