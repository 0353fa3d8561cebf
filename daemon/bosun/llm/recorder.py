"""The few board methods the model layer uses (the board's `Store` provides them all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bosun_protocol.entities import Attempt, Cost, Run, Task


class CallRecorder(Protocol):
    """Where calls, their cost and the spend so far are kept."""

    async def record_call(
        self,
        run_id: int,
        task_id: int | None,
        attempt: int | None,
        role: str,
        key: str,
        turn: int,
        request: dict[str, Any],
        response: dict[str, Any],
    ) -> None:
        """Store one call's request and response (for replay and audit)."""
        ...

    async def add_cost(
        self, run_id: int, task_id: int | None, attempt: int | None, cost: Cost
    ) -> None:
        """Add one call's cost to the attempt, task and run totals."""
        ...

    async def get_run(self, run_id: int) -> Run:
        """A run, with its cost so far."""
        ...

    async def get_task(self, task_id: int) -> Task:
        """A task, with its cost so far."""
        ...

    async def get_attempt(self, task_id: int, number: int) -> Attempt:
        """One attempt of a task, with its cost so far."""
        ...


class RecordedCallLike(Protocol):
    """One stored call as `Store.recorded_calls` returns it."""

    @property
    def role(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def attempt(self) -> int | None: ...
    @property
    def turn(self) -> int: ...
    @property
    def request(self) -> dict[str, Any]: ...
    @property
    def response(self) -> dict[str, Any]: ...


class RecordingSource(Protocol):
    """Where a replay reads a recorded run's calls."""

    async def recorded_calls(self, run_id: int) -> Sequence[RecordedCallLike]:
        """Every call recorded for `run_id`."""
        ...
