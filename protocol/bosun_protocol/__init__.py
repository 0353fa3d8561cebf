"""The bosun wire contract: models, method table, error codes, protocol version.

This package imports nothing from the daemon; clients in Python may depend on it alone.
"""

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
