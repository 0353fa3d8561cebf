"""What a tool call gives back: text for the model, and typed control outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["ok", "error", "invalid", "denied", "timeout"]


class Finish(BaseModel):
    """The worker says its task is done."""

    kind: Literal["finish"] = "finish"
    summary: str
    files_changed: list[str] = Field(default_factory=list)


class AskHuman(BaseModel):
    """The worker needs a human's answer before it can go on."""

    kind: Literal["ask_human"] = "ask_human"
    question: str
    options: list[str] = Field(default_factory=list)


ControlOutcome = Finish | AskHuman


@dataclass
class ToolResult:
    """One call's result: `content` goes to the model; `control` to the worker loop."""

    content: str
    is_error: bool = False
    outcome: Outcome = "ok"
    control: ControlOutcome | None = None

    @classmethod
    def error(cls, message: str, outcome: Outcome = "error") -> ToolResult:
        """A failed call whose message the model can read and act on."""
        return cls(content=message, is_error=True, outcome=outcome)


def bound_text(text: str, limit: int, *, what: str = "output") -> str:
    """`text` cut to about `limit` characters, keeping head and tail and saying so."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 5
    tail = limit - head
    dropped = len(text) - head - tail
    return (
        f"{text[:head]}\n[... {dropped} characters of {what} omitted; "
        f"{len(text)} in total, first {head} and last {tail} shown ...]\n{text[-tail:]}"
    )
