"""Where model calls, tool calls, retries, dispatches and worktree acquisitions are
reported, for whoever observes them.

The gateway, the tool executor, the scheduler and the worktree maker call these after
the fact with plain records; observers (the metrics) are registered by the daemon. With
no observer registered, a report costs a loop over an empty tuple. An observer that
raises is logged and never breaks the call it observes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelCallRecord:
    """One finished (or failed) model call."""

    provider: str
    model: str
    role: str
    seconds: float
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0  # the part of output_tokens spent reasoning
    usd: float | None = None
    stop_reason: str = ""
    error: str | None = None  # the error's kind (transient, rate_limit, …) when it failed
    # From the request sent to its first streamed chunk (the whole answer's time where
    # the model streamed nothing); None when the call failed before any answer.
    first_token_seconds: float | None = None


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call through the pipeline."""

    tool: str
    outcome: str
    seconds: float
    mcp_server: str | None = None


class Observer(Protocol):
    """Receives every report (each method must be quick and must not block)."""

    def model_call(self, record: ModelCallRecord) -> None: ...

    def tool_call(self, record: ToolCallRecord) -> None: ...

    def retry(self, error_kind: str) -> None: ...

    def board_commit(self, seconds: float, writes: int) -> None: ...

    def task_dispatched(self, waited: float) -> None: ...

    def worktree_acquired(self, seconds: float, source: str) -> None: ...


_observers: tuple[Observer, ...] = ()


def add_observer(observer: Observer) -> Callable[[], None]:
    """Register `observer`; returns the function that removes it."""
    global _observers
    _observers = (*_observers, observer)

    def remove() -> None:
        global _observers
        _observers = tuple(o for o in _observers if o is not observer)

    return remove


def _each(call: Callable[[Observer], None]) -> None:
    for observer in _observers:
        try:
            call(observer)
        except Exception:
            log.exception("observer %r failed", observer)


def model_call(record: ModelCallRecord) -> None:
    """Report a model call."""
    if _observers:
        _each(lambda o: o.model_call(record))


def tool_call(record: ToolCallRecord) -> None:
    """Report a tool call."""
    if _observers:
        _each(lambda o: o.tool_call(record))


def retry(error_kind: str) -> None:
    """Report a retried model error."""
    if _observers:
        _each(lambda o: o.retry(error_kind))


def board_commit(seconds: float, writes: int) -> None:
    """Report a committed board transaction (called from the board's writer thread)."""
    if _observers:
        _each(lambda o: o.board_commit(seconds, writes))


def task_dispatched(waited: float) -> None:
    """Report a ready task given a worker slot after `waited` seconds in the ready queue."""
    if _observers:
        _each(lambda o: o.task_dispatched(waited))


def worktree_acquired(seconds: float, source: str) -> None:
    """Report a task worktree made (`source`: `pool` or `new`; called from a thread)."""
    if _observers:
        _each(lambda o: o.worktree_acquired(seconds, source))
