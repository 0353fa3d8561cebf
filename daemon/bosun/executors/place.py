"""The executor seam: where one attempt's tools and one QA test run execute.

An `Executor` hands out a `Place` per attempt (and per QA check), or None: None means
"here, in the daemon's process", the path every attempt took before the seam existed,
so `local` changes nothing. A place runs the worktree's tools (files, search, commands,
git), QA's test command, and at the attempt's end `settle`s: its work is brought back
into the daemon's own worktree, where the daemon commits it with its usual checks.
Framework tools (finish, ask_human, create_subtasks…), web search and the model stay
in the daemon whatever the place: they hold the board and the secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bosun.agents.api import AttemptRequest, CheckResult, QARequest
    from bosun.tools.context import ToolContext
    from bosun.tools.results import ToolResult


class Place(Protocol):
    """One attempt's worktree somewhere else, and what runs in it."""

    where: str  # shown in events: "ray:<node id>"

    async def run_tool(self, ctx: ToolContext, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run a worktree tool there (arguments already validated and authorized here)."""
        ...

    async def run_check(self, command: str, *, per_test: bool) -> CheckResult:
        """Run QA's test command there."""
        ...

    async def settle(self, worktree: Path) -> None:
        """Bring the work done there into the daemon's `worktree`, uncommitted."""
        ...

    async def close(self) -> None:
        """Let the place go (its worktree there is removed)."""
        ...


class Executor(Protocol):
    """Decides where attempts run."""

    name: str

    async def open_attempt(self, request: AttemptRequest) -> Place | None:
        """A place for this attempt, or None to run it in the daemon."""
        ...

    async def open_check(self, request: QARequest) -> Place | None:
        """A place for QA's test run of this attempt's committed work, or None."""
        ...

    async def probe(self) -> None:
        """Raise ClusterUnavailableError while the cluster cannot be reached."""
        ...

    async def aclose(self) -> None:
        """Release the cluster connection, if any."""
        ...


class LocalExecutor:
    """Every attempt runs in the daemon, as it always has."""

    name = "local"

    async def open_attempt(self, request: AttemptRequest) -> Place | None:
        """None: the daemon's own worktree and tools."""
        return None

    async def open_check(self, request: QARequest) -> Place | None:
        """None: QA runs the tests in the daemon's worktree."""
        return None

    async def probe(self) -> None:
        """This machine is always there."""

    async def aclose(self) -> None:
        """Nothing to release."""
