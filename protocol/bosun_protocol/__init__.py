"""The bosun wire contract: models, method table, error codes, protocol version.

This package imports nothing from the daemon; clients in Python may depend on it alone.
Exports load on first use: `bosun lsp` needs only the error codes, and building the
pydantic models costs a third of a second it would otherwise pay at every editor start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bosun_protocol.entities import (
        Attempt,
        AttemptOutcome,
        Cost,
        Event,
        Lease,
        Message,
        Profile,
        Run,
        RunOptions,
        RunState,
        Task,
        TaskState,
        Verdict,
    )
    from bosun_protocol.errors import ErrorCode
    from bosun_protocol.methods import METHODS, Direction, MethodSpec
    from bosun_protocol.version import PROTOCOL_VERSION

_WHERE = {
    **dict.fromkeys(
        [
            "Attempt",
            "AttemptOutcome",
            "Cost",
            "Event",
            "Lease",
            "Message",
            "Profile",
            "Run",
            "RunOptions",
            "RunState",
            "Task",
            "TaskState",
            "Verdict",
        ],
        "bosun_protocol.entities",
    ),
    "ErrorCode": "bosun_protocol.errors",
    "METHODS": "bosun_protocol.methods",
    "Direction": "bosun_protocol.methods",
    "MethodSpec": "bosun_protocol.methods",
    "PROTOCOL_VERSION": "bosun_protocol.version",
}

__all__ = [
    "METHODS",
    "PROTOCOL_VERSION",
    "Attempt",
    "AttemptOutcome",
    "Cost",
    "Direction",
    "ErrorCode",
    "Event",
    "Lease",
    "Message",
    "MethodSpec",
    "Profile",
    "Run",
    "RunOptions",
    "RunState",
    "Task",
    "TaskState",
    "Verdict",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'bosun_protocol' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
