"""bosun.board: the blackboard of runs and tasks (see store.Store and transitions)."""

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

from bosun.board.errors import (
    BoardStorageError,
    BoardUnwritableError,
    InvalidBoardInputError,
    SchemaVersionError,
)
from bosun.board.models import UNSET, NewMessage, RecordedCall, TaskSpec, Unset
from bosun.board.store import Listener, Store
from bosun.board.transitions import TRANSITIONS, check_transition

__all__ = [
    "TRANSITIONS",
    "UNSET",
    "Attempt",
    "AttemptOutcome",
    "BoardStorageError",
    "BoardUnwritableError",
    "Cost",
    "Event",
    "InvalidBoardInputError",
    "Lease",
    "Listener",
    "Message",
    "NewMessage",
    "Profile",
    "RecordedCall",
    "Run",
    "RunOptions",
    "RunState",
    "SchemaVersionError",
    "Store",
    "Task",
    "TaskSpec",
    "TaskState",
    "Unset",
    "Verdict",
    "check_transition",
]
