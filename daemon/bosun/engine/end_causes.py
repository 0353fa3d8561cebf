"""Why a task was abandoned, as data: the `cause` of its `task.transition` event.

`bosun restart` reopens what a run's end abandoned and nothing else; a reason's text is
for people (and a cancel's reason is whatever the user typed), so it decides nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CAUSE = "cause"
RUN_CANCELLED = "run_cancelled"  # the run was cancelled with it unfinished
REPLACED = "replaced"  # a human spawned a replacement that took over its dependents
DROPPED = "dropped"  # removed from the plan before it started

RUN_CANCELLED_DATA: Mapping[str, Any] = {CAUSE: RUN_CANCELLED}


def abandon_cause(data: Mapping[str, Any]) -> str | None:
    """The cause an abandoning transition's event data records (None: another end)."""
    cause = data.get(CAUSE)
    return cause if isinstance(cause, str) else None
