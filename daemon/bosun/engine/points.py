"""The names of every failpoint in the engine, in the order a task meets them.

Crash-safety tests arm each in turn, SIGKILL the daemon there, restart it and check
that no attempt is lost, retry counts are intact and the run still completes.
"""

from __future__ import annotations

from bosun.failpoints import failpoint

RUN_STARTED = "engine.run.started"
TASK_PROMOTED = "engine.task.promoted"
TASK_LEASED = "engine.task.leased"
ATTEMPT_STARTED = "engine.attempt.started"
ATTEMPT_COMMITTED = "engine.attempt.committed"
ATTEMPT_FINISHED = "engine.attempt.finished"
QA_JUDGED = "engine.qa.judged"
MERGE_DONE = "engine.merge.done"
TASK_COMPLETED = "engine.task.completed"
PHOENIX_REQUEUED = "engine.phoenix.requeued"
HUMAN_ASKED = "engine.human.asked"
HUMAN_ANSWERED = "engine.human.answered"
RUN_LANDING = "engine.run.landing"
RUN_FINISHED = "engine.run.finished"

FAILPOINTS: tuple[str, ...] = (
    RUN_STARTED,
    TASK_PROMOTED,
    TASK_LEASED,
    ATTEMPT_STARTED,
    ATTEMPT_COMMITTED,
    ATTEMPT_FINISHED,
    QA_JUDGED,
    MERGE_DONE,
    TASK_COMPLETED,
    PHOENIX_REQUEUED,
    HUMAN_ASKED,
    HUMAN_ANSWERED,
    RUN_LANDING,
    RUN_FINISHED,
)

__all__ = ["FAILPOINTS", "failpoint"]
