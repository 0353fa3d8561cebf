"""THE task state machine: the one table of allowed moves, enforced by the store.

DESIGN.md draws the main path; a careful reading adds the edges below marked (+).
Each entry says who makes the move and why, so the table doubles as documentation.

    planned         → ready            scheduler: every dependency is complete
                    → waiting_human    (+) a dependency was abandoned: a human decides
                    → abandoned        (+) run cancelled / human abandons
    ready           → active           scheduler: a worker takes the lease
                    → planned          (+) a dependency added that is not complete yet
                    → waiting_human    (+) a dependency was abandoned
                    → abandoned        (+) run cancelled / human abandons
    active          → awaiting_qa      worker finished; QA next
                    → failed           worker error, timeout, stall, crash found at boot
                    → waiting_human    (+) ask_human / approval / budget spent mid-attempt
                    → ready            (+) re-queue without a verdict: graceful shutdown or
                                       a human's interrupt. The attempt is recorded as
                                       `interrupted`; the engine decides whether it counts.
                                       A crash found at boot goes active → failed instead,
                                       so Phoenix sees it as a failed attempt.
                    → abandoned        (+) run cancelled (the worker is killed first)
    awaiting_qa     → complete         QA passed, no review gate
                    → awaiting_review  QA passed, review gate on
                    → failed           QA failed
                    → waiting_human    (+) QA cannot run / budget spent
                    → abandoned        (+) run cancelled
    awaiting_review → complete         approved (and merged)
                    → failed           changes requested
                    → waiting_human    (+) reviewer defers / merge needs a person
                    → abandoned        (+) run cancelled / rejected outright
    failed          → ready            Phoenix: attempt n+1
                    → waiting_human    retries or budget spent, or blocked
                    → abandoned        (+) run cancelled
    waiting_human   → ready            human: retry (maybe with new instructions)
                    → planned          (+) human retry while dependencies are not complete,
                                       or a replacement task took over its dependencies
                    → abandoned        human: abandon
    complete, abandoned                terminal: nothing leaves them

Every non-terminal state may go to `abandoned`: cancelling a run abandons all its
unfinished work, wherever it is. A move to the same state is never a transition.
"""

from __future__ import annotations

from collections.abc import Mapping

from bosun_protocol.entities import TaskState

from bosun.errors import InvalidTransitionError

_S = TaskState

TRANSITIONS: Mapping[TaskState, frozenset[TaskState]] = {
    _S.PLANNED: frozenset({_S.READY, _S.WAITING_HUMAN, _S.ABANDONED}),
    _S.READY: frozenset({_S.ACTIVE, _S.PLANNED, _S.WAITING_HUMAN, _S.ABANDONED}),
    _S.ACTIVE: frozenset({_S.AWAITING_QA, _S.FAILED, _S.WAITING_HUMAN, _S.READY, _S.ABANDONED}),
    _S.AWAITING_QA: frozenset(
        {_S.COMPLETE, _S.AWAITING_REVIEW, _S.FAILED, _S.WAITING_HUMAN, _S.ABANDONED}
    ),
    _S.AWAITING_REVIEW: frozenset({_S.COMPLETE, _S.FAILED, _S.WAITING_HUMAN, _S.ABANDONED}),
    _S.FAILED: frozenset({_S.READY, _S.WAITING_HUMAN, _S.ABANDONED}),
    _S.WAITING_HUMAN: frozenset({_S.READY, _S.PLANNED, _S.ABANDONED}),
    _S.COMPLETE: frozenset(),
    _S.ABANDONED: frozenset(),
}

TERMINAL: frozenset[TaskState] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


def allowed_targets(frm: TaskState) -> frozenset[TaskState]:
    """The states a task in `frm` may move to."""
    return TRANSITIONS[frm]


def is_allowed(frm: TaskState, to: TaskState) -> bool:
    """Whether the table allows `frm → to`."""
    return to in TRANSITIONS[frm]


def check_transition(frm: TaskState, to: TaskState) -> None:
    """Raise InvalidTransitionError unless the table allows `frm → to`."""
    if to in TRANSITIONS[frm]:
        return
    targets = sorted(t.value for t in TRANSITIONS[frm])
    allowed = ", ".join(targets) if targets else f"nothing: {frm.value} is terminal"
    raise InvalidTransitionError(
        f"a task cannot go from {frm.value} to {to.value}; from {frm.value} it may go to: "
        f"{allowed}",
        data={"from": frm.value, "to": to.value, "allowed": targets},
    )
