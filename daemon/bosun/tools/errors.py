"""Errors of the tool layer.

    BosunError
    └── ToolError                   a tool refused or failed; the message goes to the model
        ├── PathRefusedError        a path leaves the worktree, crosses a symlink, or hits .git
        ├── ToolTimeoutError        a tool ran past its time limit
        └── SandboxUnavailableError the configured sandbox cannot run on this machine

The executor turns every ToolError into a tool result the model can read; only
SandboxUnavailableError also reaches clients (daemon start, `bosun doctor`).
"""

from __future__ import annotations

from bosun_protocol.errors import ErrorCode

from bosun.errors import BosunError


class ToolError(BosunError):
    """A tool call that cannot be done as asked; the message says why and what to do."""

    code = ErrorCode.INVALID_PARAMS


class PathRefusedError(ToolError):
    """A path that would reach outside the worktree, through a link, or into `.git`."""


class ToolTimeoutError(ToolError):
    """A tool ran past its time limit and was stopped."""


class SandboxUnavailableError(BosunError):
    """The sandbox mode asked for in settings cannot be used here."""

    code = ErrorCode.INVALID_STATE
