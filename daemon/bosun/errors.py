"""The daemon's exception tree; each error carries a protocol code.

    BosunError                      any error a client may be shown
    ├── NotFoundError               NOT_FOUND
    ├── InvalidTransitionError      INVALID_TRANSITION (state machine refused)
    ├── ConflictError               CONFLICT (compare-and-swap lost)
    ├── DependencyCycleError        DEPENDENCY_CYCLE (data.cycle lists the task ids)
    ├── WorkspaceError              NOT_A_REPOSITORY (not a repo, bare, no commits…)
    ├── GitError                    GIT_ERROR
    ├── InvalidStateError           INVALID_STATE (run not in a state that allows it)
    ├── BudgetExceededError         BUDGET_EXCEEDED
    ├── WorkerLostError             INTERNAL_ERROR (the node running an attempt was lost)
    └── ClusterUnavailableError     INTERNAL_ERROR (the executor's cluster cannot be reached)

Packages add subclasses next to their code (llm, tools, git); the server turns any
BosunError into a JSON-RPC error with its code, message and data.
"""

from __future__ import annotations

from typing import Any, TypeVar

from bosun_protocol.errors import ErrorCode


class BosunError(Exception):
    """Base of every error a client may see; `code` is its protocol error code."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}


class NotFoundError(BosunError):
    """A run, task or attempt that does not exist."""

    code = ErrorCode.NOT_FOUND


class InvalidTransitionError(BosunError):
    """The transition table does not allow this move."""

    code = ErrorCode.INVALID_TRANSITION


class ConflictError(BosunError):
    """A compare-and-swap lost: the row changed since it was read."""

    code = ErrorCode.CONFLICT


class DependencyCycleError(BosunError):
    """A dependency edit would close a cycle; `cycle` names it, first id repeated last."""

    code = ErrorCode.DEPENDENCY_CYCLE

    def __init__(self, cycle: list[int], labels: list[str] | None = None) -> None:
        shown = labels if labels else [f"#{t}" for t in cycle]
        super().__init__("dependency cycle: " + " → ".join(shown), data={"cycle": cycle})
        self.cycle = cycle


class WorkspaceError(BosunError):
    """The workspace cannot be used; the message names the problem and the fix."""

    code = ErrorCode.NOT_A_REPOSITORY


class GitError(BosunError):
    """A git operation failed."""

    code = ErrorCode.GIT_ERROR


class InvalidStateError(BosunError):
    """The run is not in a state that allows the request."""

    code = ErrorCode.INVALID_STATE


class BudgetExceededError(BosunError):
    """A token or money budget is spent."""

    code = ErrorCode.BUDGET_EXCEEDED


class WorkerLostError(BosunError):
    """The machine running an attempt's tools went away mid-attempt (a Ray node died).

    Not the attempt's fault: it ends as `crashed` without spending a retry, and the
    tool pipeline lets it through instead of showing it to the model as a tool error."""


class ClusterUnavailableError(BosunError):
    """The executor's cluster cannot be reached: dispatch pauses, nothing is lost."""


E = TypeVar("E", bound=BaseException)


def find_cause(exc: BaseException | None, kind: type[E]) -> E | None:
    """The first `kind` in `exc`, its causes and contexts, and exception groups' members
    (a library may wrap the error that matters several layers deep)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc] if exc is not None else []
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, kind):
            return cur
        stack.extend(getattr(cur, "exceptions", ()) or ())
        stack.extend(x for x in (cur.__cause__, cur.__context__) if x is not None)
    return None
