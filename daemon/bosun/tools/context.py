"""What every tool call runs with, and the seams it reaches the world through."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bosun_protocol.entities import Profile
from pydantic import BaseModel, Field

from bosun.tools.paths import Worktree
from bosun.tools.settings import ToolSettings

if TYPE_CHECKING:
    from bosun.executors.place import Place
    from bosun.tools.mcp.attempt import AttemptMcp
    from bosun.tools.sandbox import Sandbox
    from bosun.tools.sandbox_session import SandboxSession


class ApprovalChoice(StrEnum):
    """A human's answer to an approval request."""

    ALLOW_ONCE = "allow_once"
    ALLOW_ALWAYS = "allow_always"  # for this run, for calls matching the same rule
    DENY = "deny"


class ApprovalRequest(BaseModel):
    """A call the policy says a human must approve."""

    run_id: int
    task_id: int
    attempt: int
    tool: str
    arguments: dict[str, Any]
    rule: str
    reason: str = ""


class ApprovalDecision(BaseModel):
    """The human's answer; `note` is passed to the model on a denial."""

    choice: ApprovalChoice
    note: str = ""


class Approver(Protocol):
    """Puts an approval request in front of a human and waits for the answer."""

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision: ...


class EventSink(Protocol):
    """Where tool events go (the board's `Store.append_event` fits)."""

    async def append_event(
        self,
        kind: str,
        *,
        run_id: int | None = ...,
        task_id: int | None = ...,
        data: dict[str, Any] = ...,
    ) -> object: ...


class SubtaskSpec(BaseModel):
    """One task a planner proposes; dependencies name other keys of the same run."""

    key: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    profile: Profile = Profile.CODER
    depends_on: list[str] = Field(default_factory=list, max_length=50)
    acceptance_criteria: list[str] = Field(default_factory=list, max_length=30)


class FrameworkHost(Protocol):
    """The engine side of the framework tools."""

    async def create_subtasks(self, ctx: ToolContext, subtasks: list[SubtaskSpec]) -> list[str]:
        """Create the tasks atomically; return a line per task created."""
        ...

    async def post_insight(self, ctx: ToolContext, text: str) -> None:
        """Share something learned with the rest of the run."""
        ...

    async def log_design_decision(self, ctx: ToolContext, decision: str, rationale: str) -> None:
        """Append to the run's design log."""
        ...


@dataclass
class Mounts:
    """Extra paths a command's sandbox shows: the caller's (a project's environment), not its own."""

    read_only: list[Path] = field(default_factory=list)
    writable: list[Path] = field(default_factory=list)


@dataclass
class ToolContext:
    """One worker attempt's identity, place and seams."""

    run_id: int
    task_id: int
    attempt: int
    worktree_path: Path
    branch: str
    profile: Profile
    settings: ToolSettings = field(default_factory=ToolSettings)
    approver: Approver | None = None
    events: EventSink | None = None
    host: FrameworkHost | None = None
    sandbox: Sandbox | None = None
    # Daemon state (tokens, the board) that sandboxed commands must not see.
    hidden_paths: list[Path] = field(default_factory=list)
    mounts: Mounts = field(default_factory=Mounts)
    # The attempt's long-lived sandbox (sandbox_session.attempt_sandbox); None: one per command.
    session: SandboxSession | None = None
    # The attempt's MCP servers (mcp.attempt.attempt_mcp); None: no MCP tools.
    mcp: AttemptMcp | None = None
    # The owner's worktree set-up only (bosun.agents.prepare), never a model's command:
    # the host's network, and tools' caches in this shared directory (in `mounts.writable`).
    network: bool = False
    cache: Path | None = None
    # Where the worktree tools run (bosun.executors); None: here, in this process.
    place: Place | None = None

    @cached_property
    def worktree(self) -> Worktree:
        """The worktree, opened for safe path resolution."""
        return Worktree(self.worktree_path)
