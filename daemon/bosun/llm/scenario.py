"""The scripted-model scenario file: replies keyed by role, task key, attempt, turn, try.

Format (TOML, or the same structure as JSON) is documented in docs/scripted-model.md.
A bare name (`demo`) is a scenario shipped in `bosun/llm/scenarios/`; anything with a
`/` or a `.toml`/`.json` suffix is a path.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bosun.llm.errors import ScenarioError
from bosun.llm.messages import StopReason
from bosun.llm.model import CallContext

ErrorKind = Literal["transient", "rate_limit", "quota", "context_too_long", "auth", "bad_request"]
_KEYS = ("role", "task", "attempt", "turn", "try_")


class ScriptedToolCall(BaseModel):
    """A tool call to answer with; `raw_arguments` sends text as is (malformed on purpose)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = None
    id: str | None = None


class ScriptedUsage(BaseModel):
    """Usage to report; unset counts are estimated from the text (4 characters a token)."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cached_tokens: int = Field(default=0, ge=0)


class ScriptedReply(BaseModel):
    """One `[[reply]]`: when it matches, and what it answers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    role: str | None = None
    task: str | None = None
    attempt: int | None = Field(default=None, ge=0)
    turn: int | None = Field(default=None, ge=1)
    try_: int | None = Field(default=None, ge=1, alias="try")
    text: str = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    error: ErrorKind | None = None
    message: str = ""  # the error's message
    retry_after: float | None = Field(default=None, ge=0)
    delay: float = Field(default=0.0, ge=0, le=600)  # seconds before answering
    stop_reason: StopReason | None = None
    usage: ScriptedUsage = Field(default_factory=ScriptedUsage)

    @model_validator(mode="after")
    def _says_something(self) -> ScriptedReply:
        if self.error is None and not self.text and not self.tool_calls:
            raise ValueError("a reply needs text, tool_calls or an error")
        return self

    def specificity(self) -> tuple[bool, int]:
        """Naming the task beats not naming it; then the more keys pinned down, the better."""
        return (self.task is not None, sum(getattr(self, k) is not None for k in _KEYS))

    def matches(self, ctx: CallContext, try_number: int) -> bool:
        """Whether this reply answers the call."""
        wanted: dict[str, object] = {
            "role": ctx.role,
            "task": ctx.task_key,
            "attempt": ctx.attempt,
            "turn": ctx.turn,
            "try_": try_number,
        }
        return all(getattr(self, k) in (None, v) for k, v in wanted.items())

    def where(self) -> str:
        """Its keys in words."""
        keys = {k.rstrip("_"): getattr(self, k) for k in _KEYS if getattr(self, k) is not None}
        return ", ".join(f"{k}={v}" for k, v in keys.items()) or "(matches anything)"


class Scenario(BaseModel):
    """A whole scenario file."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    reply: list[ScriptedReply] = Field(default_factory=list)

    def answer(self, ctx: CallContext, try_number: int) -> ScriptedReply:
        """The most specific reply for the call; the earliest one among equals."""
        best: ScriptedReply | None = None
        for candidate in self.reply:
            if candidate.matches(ctx, try_number) and (
                best is None or candidate.specificity() > best.specificity()
            ):
                best = candidate
        if best is None:
            raise ScenarioError(
                f"scenario {self.name or '(unnamed)'} has no reply for {ctx.label()} "
                f"try={try_number}; add a [[reply]] for it",
                provider="scripted",
                data={"role": ctx.role, "task": ctx.task_key, "turn": ctx.turn},
            )
        return best


def _parse(raw: bytes, source: str) -> Scenario:
    try:
        data = json.loads(raw) if source.endswith(".json") else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"scenario {source} cannot be read: {exc}", provider="scripted"
        ) from exc
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(
            ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in exc.errors()
        )
        raise ScenarioError(f"scenario {source} is invalid: {where}", provider="scripted") from exc
    if not scenario.name:
        scenario.name = Path(source).stem
    return scenario


def load_scenario(ref: str, base_dir: Path | None = None) -> Scenario:
    """The scenario named by `ref`: a shipped name, or a path (relative to `base_dir`)."""
    if "/" in ref or ref.endswith((".toml", ".json")):
        path = Path(ref)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            return _parse(path.read_bytes(), str(path))
        except OSError as exc:
            raise ScenarioError(
                f"scenario file {path} cannot be read: {exc.strerror}", provider="scripted"
            ) from exc
    shipped = resources.files("bosun.llm") / "scenarios" / f"{ref}.toml"
    if not shipped.is_file():
        raise ScenarioError(
            f"no scenario named {ref!r}; give a path to a .toml or .json file, "
            f"or one of: {', '.join(shipped_scenarios())}",
            provider="scripted",
        )
    return _parse(shipped.read_bytes(), f"{ref}.toml")


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped in the package."""
    folder = resources.files("bosun.llm") / "scenarios"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )
