"""Phoenix: a failed attempt becomes attempt n+1, told what the earlier ones learned.

Failures counted against `max_retries` are the attempts, since a human last granted a
fresh start, that ended in error, timeout, stall, crash, QA failure or changes
requested. Interruptions (a daemon shutdown, a human's interrupt) are recorded but do
not count. When the count passes `max_retries` the task waits for a human with every
counted failure in the reason.

Per-task notes a human or reviewer adds (guidance, review comments, the attempt a retry
was granted at) live in the board's journal under kind "notes", so they survive restarts.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bosun_protocol.engine import PromptKind
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import Attempt, AttemptOutcome, Task, TaskState
from pydantic import BaseModel, Field

from bosun.engine import points
from bosun.errors import ConflictError, InvalidTransitionError

if TYPE_CHECKING:
    from bosun.engine.core import Engine

log = logging.getLogger(__name__)
_O = AttemptOutcome
NOTES = "notes"
COUNTED = frozenset(
    {_O.ERROR, _O.TIMEOUT, _O.STALLED, _O.CRASHED, _O.QA_FAILED, _O.CHANGES_REQUESTED}
)


class Review(BaseModel):
    """A reviewer's comments on one attempt."""

    attempt: int
    text: str


class TaskNotes(BaseModel):
    """What humans added to a task, kept across attempts and restarts."""

    guidance: str | None = None
    granted_at: int = 0  # failures before this attempt number are forgiven
    reviews: list[Review] = Field(default_factory=list)
    reset_next: bool = False
    # Attempts that crashed because their worker node was lost: not the task's fault.
    forgiven: list[int] = Field(default_factory=list)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marking the cut."""
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REVIEW_LINES = 20


def _review_lines(text: str) -> list[str]:
    """One indented line per reviewer comment (a request carries one per line, as
    `path:line: body`): clipping the whole text would squash them onto one line."""
    notes = [n for n in text.splitlines() if n.strip()] or [text]
    out = [f"  reviewer: {clip(n, 400)}" for n in notes[:_REVIEW_LINES]]
    if len(notes) > _REVIEW_LINES:
        out.append(f"  reviewer: (+{len(notes) - _REVIEW_LINES} more comments)")
    return out


_WARNED = " (after one warning)"  # how the watchdog's stop reasons end (watchdog.py)
_OVER_BUDGET = "attempt budget of"  # an attempt's own budget spent (the worker loop)


def stall_key(attempt: Attempt) -> str | None:
    """What the watchdog (or the attempt's budget) stopped a stalled attempt for,
    comparable between attempts (numbers blanked: "called 3 times" and "called 4 times"
    are the same loop); None for any other ending, a supervision stall (no sign of
    life: a hung provider may well recover) included."""
    error = attempt.error or ""
    if attempt.outcome is not _O.STALLED or not (
        error.endswith(_WARNED) or error.startswith(_OVER_BUDGET)
    ):
        return None
    return re.sub(r"\d+", "N", error.removesuffix(_WARNED).strip().lower())


def repeated_stall(failures: list[Attempt], times: int) -> str | None:
    """The reason when the last `times` counted failures all stalled for it, else None."""
    if times <= 0 or len(failures) < times:
        return None
    keys = {stall_key(a) for a in failures[-times:]}
    if len(keys) != 1 or None in keys:
        return None
    return failures[-1].error


def describe_attempt(attempt: Attempt, reviews: list[Review]) -> str:
    """One attempt as the next one should read it."""
    lines = [f"Attempt {attempt.number} ended: {attempt.outcome.value}"]
    if attempt.summary:
        lines.append(f"  tried: {clip(attempt.summary, 600)}")
    if attempt.error and stall_key(attempt) is not None:
        # The watchdog's reason, said as what not to do again: a retry that starts the
        # same way ends the same way (and two such in a row go to a human).
        lines.append(f"  stopped by the watchdog: {clip(attempt.error, 800)}")
        lines.append("  do not repeat that pattern: take a different approach from the start")
    elif attempt.error:
        lines.append(f"  error: {clip(attempt.error, 800)}")
    for v in attempt.verdicts:
        mark = "pass" if v.passed else "FAIL"
        lines.append(f"  QA {mark}: {clip(v.criterion, 200)} — {clip(v.evidence, 300)}")
    for r in reviews:
        if r.attempt == attempt.number:
            lines.extend(_review_lines(r.text))
    if attempt.files_changed:
        shown = ", ".join(attempt.files_changed[:20])
        more = len(attempt.files_changed) - 20
        lines.append(f"  files: {shown}" + (f" (+{more} more)" if more > 0 else ""))
    return "\n".join(lines)


def bounded_history(blocks: list[str], limit: int) -> str:
    """Newest attempts in full, older ones by their first line, oldest dropped: ≤ limit."""
    kept: list[str] = []
    used = 0
    omitted = 0
    for block in reversed(blocks):
        text = block if used + len(block) + 2 <= limit else block.splitlines()[0]
        if used + len(text) + 2 > limit - 60:
            omitted += 1
            continue
        kept.append(text)
        used += len(text) + 2
    if omitted:
        kept.append(f"({omitted} earlier attempt(s) omitted)")
    return "\n\n".join(reversed(kept))


class Phoenix:
    """Retries with accumulated context, and the point where a human takes over."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.noted: set[int] = set()  # tasks with notes (loaded at start, kept current)

    async def load(self) -> None:
        """Learn which tasks have notes, so the others skip reading them."""
        self.noted = {int(key) for key, _ in await self.engine.store.journal_list(NOTES)}

    async def notes(self, task_id: int) -> TaskNotes:
        """The task's notes (empty when none)."""
        if task_id not in self.noted:
            return TaskNotes()
        data = await self.engine.store.journal_get(NOTES, str(task_id))
        return TaskNotes.model_validate(data) if data else TaskNotes()

    async def save_notes(self, task_id: int, notes: TaskNotes) -> None:
        """Write the task's notes durably."""
        await self.engine.store.journal_put(NOTES, str(task_id), notes.model_dump())
        self.noted.add(task_id)

    async def history(self, task: Task) -> str:
        """The bounded account of every finished earlier attempt ("" on attempt 1)."""
        if task.attempt <= 1:
            return ""
        attempts = [
            a
            for a in await self.engine.store.list_attempts(task.id)
            if a.outcome is not _O.RUNNING and a.number < task.attempt
        ]
        if not attempts:
            return ""
        notes = await self.notes(task.id)
        blocks = [describe_attempt(a, notes.reviews) for a in attempts]
        return bounded_history(blocks, self.engine.settings.history_chars)

    async def should_reset(self, task: Task) -> bool:
        """Whether this attempt starts from a fresh worktree on the run's head."""
        notes = await self.notes(task.id)
        if notes.reset_next:
            notes.reset_next = False
            await self.save_notes(task.id, notes)
            return task.attempt > 1
        return self.engine.settings.worktree_between_attempts == "reset" and task.attempt > 1

    async def counted_failures(self, task: Task) -> list[Attempt]:
        """Failed attempts that count against max_retries."""
        notes = await self.notes(task.id)
        return [
            a
            for a in await self.engine.store.list_attempts(task.id)
            if a.number > notes.granted_at
            and a.outcome in COUNTED
            and a.number not in notes.forgiven
        ]

    async def forgive(self, task_id: int, attempt: int) -> None:
        """Attempt `attempt` does not count against the task's retries (its node was lost)."""
        notes = await self.notes(task_id)
        if attempt not in notes.forgiven:
            notes.forgiven.append(attempt)
            await self.save_notes(task_id, notes)

    async def after_failure(self, task: Task) -> None:
        """A failed task: its next attempt, or a human when retries are spent."""
        e = self.engine
        failures = await self.counted_failures(task)
        repeats = e.settings.stall_repeats
        again = repeated_stall(failures, repeats) if len(failures) <= task.max_retries else None
        if again is not None:
            numbers = ", ".join(str(a.number) for a in failures[-repeats:])
            await e.humans.ask(
                task.id,
                PromptKind.STALLED_AGAIN,
                f"attempts {numbers} were each stopped by the watchdog for the same reason, "
                f"so another retry would most likely do the same: {clip(again, 600)}\n"
                "Retry with instructions that change the approach, abandon the task, or "
                "spawn a different one.",
                [A.RETRY, A.ABANDON, A.SPAWN],
                expected=TaskState.FAILED,
            )
            return
        if len(failures) > task.max_retries:
            lines = [
                f"{len(failures)} attempt(s) failed and its {task.max_retries} retries are spent:"
            ]
            lines += [
                f"attempt {a.number}: {a.outcome.value}: {clip(a.error or 'no detail', 300)}"
                for a in failures[-5:]
            ]
            await e.humans.ask(
                task.id,
                PromptKind.RETRIES_SPENT,
                "\n".join(lines),
                [A.RETRY, A.ABANDON, A.SPAWN],
                expected=TaskState.FAILED,
            )
            return
        try:
            await e.store.transition(
                task.id,
                expected=TaskState.FAILED,
                to=TaskState.READY,
                event_data={
                    "phoenix": task.attempt + 1,
                    "failures": len(failures),
                    "after": failures[-1].outcome.value if failures else None,
                },
            )
        except (ConflictError, InvalidTransitionError) as exc:
            log.info("task %d not re-queued: %s", task.id, exc)
            return
        points.failpoint(points.PHOENIX_REQUEUED)
