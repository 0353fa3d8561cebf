"""One attempt of one task, from taking the lease to handing the result on.

ready → active (lease with the daemon's boot id, attempt n) → attempt row opened →
worktree → the agent runs under supervision → work committed → then one of: QA
(awaiting_qa, see merging.py), a human (ask_human, budget, interrupt), Phoenix (failed),
re-queued (daemon shutdown, not counted) or abandoned (run cancelled).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bosun_protocol.engine import PromptKind
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import (
    AttemptOutcome,
    Lease,
    Profile,
    Run,
    RunState,
    Task,
    TaskState,
    Verdict,
)

from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.board.errors import BoardUnwritableError
from bosun.engine import points
from bosun.engine.core import ActiveAttempt
from bosun.engine.end_causes import RUN_CANCELLED_DATA
from bosun.engine.host import EngineHost
from bosun.engine.merging import REPORTS
from bosun.engine.supervision import supervise
from bosun.errors import (
    BosunError,
    BudgetExceededError,
    ClusterUnavailableError,
    ConflictError,
    GitError,
    InvalidTransitionError,
)
from bosun.git.pinned import WorktreeTamperedError

if TYPE_CHECKING:
    from bosun.engine.core import Engine

log = logging.getLogger(__name__)
_S = TaskState
_O = AttemptOutcome
HUMAN_OPTIONS = [A.RETRY, A.ABANDON, A.SPAWN]


async def _nothing() -> None:
    return None


class AttemptDriver:
    """Drives tasks through their attempts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def drive(self, task_id: int, free_slot: Callable[[], None] = lambda: None) -> None:
        """Take a ready task and carry one attempt of it as far as it goes."""
        e = self.engine
        node = e.graph.nodes.get(task_id)
        run = e.runs.get(node.run_id) if node is not None else None
        if node is None or run is None or run.state not in (RunState.PLANNING, RunState.RUNNING):
            return
        n = node.attempt + 1
        holder = f"{e.boot_id}:{task_id}:{n}"
        lease = Lease(boot_id=e.boot_id, holder=holder, acquired_at=datetime.now(UTC))
        try:
            task = await e.store.transition(
                task_id,
                expected=_S.READY,
                to=_S.ACTIVE,
                lease=lease,
                attempt=n,
                reason=None,
                event_data={"holder": holder},
            )
        except (ConflictError, InvalidTransitionError):
            return  # someone moved it first (cancel, edit): nothing to do
        # The handle is registered before the next await, so cancel and interrupt always
        # find a leased task's attempt and stop it instead of moving the task under it.
        now = e.loop_time()
        handle = ActiveAttempt(task_id, run.id, n, holder, started=now, last_activity=now)
        handle.free_slot = free_slot
        e.active[task_id] = handle
        try:
            points.failpoint(points.TASK_LEASED)
            # The attempt row is written while the attempt starts (one durable write less
            # on the slot's path); recovery opens it if a crash comes first.
            opening = asyncio.ensure_future(self._open(task_id, n))
            live = e.runs.get(run.id)
            if live is None or live.state is RunState.CANCELLED:
                handle.stop("cancel", "the run was cancelled")
            try:
                report = await self._attempt(run, task, handle)
            finally:
                await opening
            await self._conclude(run, task, handle, report)
            if handle.pause_for is not None:  # closed and ready again: now pause dispatch
                e.on_task_failure(handle.pause_for)
        finally:
            e.active.pop(task_id, None)
            e.humans.withdraw_approvals(task_id)
            handle.finished.set()

    async def _open(self, task_id: int, number: int) -> None:
        await self.engine.store.start_attempt(task_id, number)
        points.failpoint(points.ATTEMPT_STARTED)

    async def _attempt(self, run: Run, task: Task, handle: ActiveAttempt) -> AttemptReport:
        e = self.engine
        try:
            if task.profile is not Profile.MERGER and await e.phoenix.should_reset(task):
                await e.git.reset_worktree(task.id)
            task = await e.git.acquire_worktree(task.id)
            if not task.worktree:
                # Never fall back to the daemon's own directory: that is the user's tree.
                raise GitError(f"task #{task.id} has no worktree after acquiring one")
            handle.worktree = Path(task.worktree)
            notes = await e.phoenix.notes(task.id)
            request = AttemptRequest(
                run=run,
                task=task,
                attempt=handle.number,
                worktree=handle.worktree,
                branch=task.branch or "",
                history=await e.phoenix.history(task),
                guidance=notes.guidance,
                approver=e.humans.approver(task, handle),
                host=EngineHost(e),
                cancel=handle.cancel,
                max_turns=e.settings.max_turns,
                time_limit_s=e.settings.task_time_limit_s,
            )
            return await supervise(
                e.runner.run_attempt(request),
                handle,
                time_limit_s=e.settings.task_time_limit_s,
                stall_s=e.settings.stall_timeout_s,
                grace_s=e.settings.cancel_grace_s,
                now=e.loop_time,
            )
        except BudgetExceededError as exc:
            return AttemptReport(outcome=_O.BUDGET_EXCEEDED, error=exc.message)
        except BoardUnwritableError:
            raise  # the disk, not the attempt: the storage pause re-queues the task
        except ClusterUnavailableError as exc:
            # Nor the attempt's fault: it is closed as at a shutdown (the task ready again,
            # no retry spent) and the cluster pause stops dispatch (engine/cluster_pause.py).
            handle.stop("shutdown", exc.message)
            handle.pause_for = exc
            return AttemptReport(outcome=_O.INTERRUPTED, error=exc.message)
        except BosunError as exc:
            return AttemptReport(outcome=_O.ERROR, error=exc.message)
        except Exception as exc:
            log.exception("attempt %d of task %d failed", handle.number, task.id)
            return AttemptReport(outcome=_O.ERROR, error=f"{type(exc).__name__}: {exc}")

    async def _commit(self, task: Task, handle: ActiveAttempt, report: AttemptReport) -> None:
        if task.profile is Profile.MERGER:
            return  # a merger's resolution is committed by publish_resolution
        git = self.engine.git
        try:
            await git.commit(task.id, handle.number, report.summary or task.title)
        except WorktreeTamperedError as exc:
            # Said as it is (Phoenix and the human read it): the attempt broke the
            # boundary, and its worktree has been rebuilt.
            report.outcome, report.error = _O.ERROR, exc.message
        except BosunError as exc:
            report.outcome, report.error = _O.ERROR, f"committing the work failed: {exc.message}"
        note = git.left_out(task.id)
        if note:  # nested repositories the commit did not take: the next attempt learns why
            report.summary = f"{report.summary}\n\n{note}".strip()
        points.failpoint(points.ATTEMPT_COMMITTED)

    async def _conclude(
        self, run: Run, task: Task, handle: ActiveAttempt, report: AttemptReport
    ) -> None:
        e = self.engine
        reason = handle.stop_reason
        if reason in ("shutdown", "cancel"):
            await self.finish(task.id, handle.number, report, _O.INTERRUPTED)
            to = _S.READY if reason == "shutdown" else _S.ABANDONED
            await self._move(task.id, handle, to, handle.stop_note, RUN_CANCELLED_DATA)
            return
        await self._commit(task, handle, report)
        if reason == "interrupt":
            note = handle.stop_note or "interrupted by a human"
            await self.close_and_ask(
                task, handle, report, _O.INTERRUPTED, PromptKind.INTERRUPTED, note
            )
            return
        if report.outcome is _O.FINISHED and report.needs_human is None:
            # The report is kept until the attempt closes (QA after a restart, and review,
            # read it). Both writes go at once (group commit makes them one transaction)
            # and QA starts with them: its verdict is used only if the move succeeded.
            judging = task.profile is not Profile.MERGER
            _, moved, judged = await asyncio.gather(
                e.store.journal_put(
                    REPORTS,
                    str(task.id),
                    {"summary": report.summary, "files": report.files_changed},
                ),
                self._move(task.id, handle, _S.AWAITING_QA),
                e.merging.judge(run, task, handle, report) if judging else _nothing(),
            )
            if moved is not None:
                await e.merging.after_finish(run, moved, handle, report, judged)
            else:  # the task was moved under us (cancelled): close the attempt anyway
                await self.finish(task.id, handle.number, report, _O.INTERRUPTED)
            return
        if report.outcome is _O.BUDGET_EXCEEDED:
            why = f"the budget is spent: {report.error or 'no detail'}"
            kind, options = PromptKind.BUDGET_SPENT, [A.RETRY, A.ABANDON]
            await self.close_and_ask(task, handle, report, report.outcome, kind, why, options)
        elif report.needs_human is not None:
            # The agent's question, or a failure only a person can fix, said as such: a
            # client that answers questions by itself must not retry a broken model.
            kind = PromptKind(report.human_kind or PromptKind.ASK_HUMAN)
            options = HUMAN_OPTIONS if kind is PromptKind.ASK_HUMAN else [A.RETRY, A.ABANDON]
            await self.close_and_ask(
                task, handle, report, report.outcome, kind, report.needs_human, options
            )
        else:
            if report.worker_lost:  # recorded before the close, so a crash keeps it
                await e.phoenix.forgive(task.id, handle.number)
            await self.finish(task.id, handle.number, report, report.outcome)
            failed = await self._move(task.id, handle, _S.FAILED, report.error)
            if failed is not None:
                await e.phoenix.after_failure(failed)

    async def close_and_ask(
        self,
        task: Task,
        handle: ActiveAttempt,
        report: AttemptReport,
        outcome: AttemptOutcome,
        kind: PromptKind,
        reason: str,
        options: list[A] = HUMAN_OPTIONS,
        *,
        expected: TaskState = _S.ACTIVE,
    ) -> None:
        """Close the attempt and put its question to a human (the task is `expected`:
        active, or awaiting_qa when QA was interrupted or could not run).

        The question is journaled before the attempt is closed, with how to close it:
        whenever a crash comes, recovery finds the question (and closes the attempt as
        this would have), instead of a closed attempt whose question died with the daemon."""
        humans = self.engine.humans
        closing = {
            "outcome": outcome.value,
            "error": report.error,
            "summary": report.summary or None,
            "files": report.files_changed,
        }
        choices = report.human_options if kind is PromptKind.ASK_HUMAN else None
        prompt = await humans.record(
            task.id, kind, reason, options, choices=choices, closing=closing
        )
        await self.finish(task.id, handle.number, report, outcome)
        # A lease is only held while active (not awaiting QA).
        holder = handle.holder if expected is _S.ACTIVE else None
        await humans.deliver(prompt, expected=expected, holder=holder)

    async def finish(
        self,
        task_id: int,
        number: int,
        report: AttemptReport,
        outcome: AttemptOutcome,
        verdicts: list[Verdict] | None = None,
    ) -> None:
        """Close attempt `number` with its outcome and after-action report (idempotent)."""
        try:
            await self.engine.store.finish_attempt(
                task_id,
                number,
                outcome,
                error=report.error,
                summary=report.summary or None,
                files_changed=report.files_changed,
                verdicts=verdicts or (),
            )
        except ConflictError:
            return  # already closed (recovery got there first)
        # Labelled with the outcome, so a test can arm it for one path only (failpoints.py).
        points.failpoint(points.ATTEMPT_FINISHED, outcome.value)

    async def _move(
        self,
        task_id: int,
        handle: ActiveAttempt,
        to: TaskState,
        reason: str | None = None,
        event_data: Mapping[str, Any] | None = None,
    ) -> Task | None:
        try:
            return await self.engine.store.transition(
                task_id, expected=_S.ACTIVE, to=to, holder=handle.holder, reason=reason,
                event_data=event_data,
            )  # fmt: skip
        except (ConflictError, InvalidTransitionError) as exc:
            log.info("task %d left active without us: %s", task_id, exc)
            return None
