"""Types only the board uses: write requests, recorded model calls, the UNSET marker.

The domain entities (Run, Task, Event…) live in `bosun_protocol.entities`; they are
re-exported from `bosun.board` so callers import everything board-related from one place.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal

from bosun_protocol.entities import Profile
from pydantic import BaseModel, ConfigDict, Field


class Unset(Enum):
    """Type of `UNSET`: "leave this field as it is" where None means "clear it"."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
UnsetType = Literal[Unset.UNSET]


class _BoardModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskSpec(_BoardModel):
    """One task to create; `depends_on` names keys of tasks in the same run."""

    key: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1)
    description: str = ""
    profile: Profile = Profile.CODER
    phase: str = ""
    depends_on: list[str] = Field(default_factory=list)
    acceptance_criteria: list[str] = Field(default_factory=list)
    max_retries: int = Field(default=4, ge=0, le=100)
    parent_id: int | None = None


class NewMessage(_BoardModel):
    """A transcript entry to append (the board gives it an id and a timestamp)."""

    role: str
    content: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


class RecordedCall(_BoardModel):
    """One model request and its answer, kept for `replay:` runs."""

    id: int
    run_id: int
    task_id: int | None
    attempt: int | None
    role: str
    key: str
    turn: int
    request: dict[str, Any]
    response: dict[str, Any]
    ts: datetime
