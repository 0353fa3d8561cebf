"""After a worker finishes: QA, the review gate, merging, and merge conflicts.

awaiting_qa → QA (deterministic checks, then a verdict per criterion) → failed (Phoenix)
or, with the review gate on, awaiting_review (the attempt stays open until the decision)
or merged into the run branch → complete. A merge that conflicts becomes a merger task:
its worktree holds the conflict markers, its finished work is checked and published by
the git plane, and then both it and the task it merged are complete. Until then the
original task keeps its state (its dependents wait); if the merger is abandoned, the
original goes to a human (`merge_conflict`), where retry redoes it on the run's head.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bosun_protocol.engine import PromptKind
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import AttemptOutcome, Profile, Run, Task, TaskState
from bosun_protocol.review import (
    ApproveDecision,
    ApproveHunksDecision,
    RejectDecision,
    RequestChangesDecision,
    ReviewDecision,
)

from bosun.agents.api import AttemptReport, QAReport, QARequest
from bosun.board.models import TaskSpec
from bosun.engine import points
from bosun.engine.end_causes import RUN_CANCELLED_DATA
from bosun.engine.phoenix import Review
from bosun.errors import BosunError, ConflictError, InvalidTransitionError, NotFoundError
from bosun.git.merges import ConflictFile, MergeOutcome

if TYPE_CHECKING:
    from bosun.engine.core import ActiveAttempt, Engine

log = logging.getLogger(__name__)
_S = TaskState
_O = AttemptOutcome
MERGERS = "merger"  # journal: original task id → the conflict its merger resolves
REPORTS = "report"  # journal: task id → the after-action report awaiting review


class Merging:
    """QA, review, merge and conflict handling."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def after_finish(
        self,
        run: Run,
        task: Task,
        handle: ActiveAttempt,
        report: AttemptReport,
        judged: tuple[QAReport | None, str] | None = None,
    ) -> None:
        """A finished attempt (task awaiting_qa): judge it (unless `judged` already),
        then review or merge."""
        e = self.engine
        if task.profile is Profile.MERGER:
            await self._publish(task, handle, report)
            return
        qa, error = judged or await self.judge(run, task, handle, report)
        if handle.stop_reason is not None:
            await self._stopped(task, handle, report)
            return
        handle.free_slot()  # the verdict is in: what follows is bookkeeping and git
        n = handle.number
        if qa is None or qa.cannot_run is not None:
            # QA itself kept failing, or the tests cannot run at all (the environment,
            # not the work): asked once, the attempt closed as finished (Phoenix does not
            # count it). Retry runs the task again.
            if qa is None:
                kind, reason = PromptKind.NEEDS_HUMAN, f"QA could not run: {error}"
                report.error = reason
            else:
                kind, reason = PromptKind.TESTS_CANNOT_RUN, qa.cannot_run or ""
                report.error = f"the tests could not run: {reason}"
            await e.drivers.close_and_ask(
                task, handle, report, _O.FINISHED, kind, reason, [A.RETRY, A.ABANDON],
                expected=_S.AWAITING_QA,
            )  # fmt: skip
            return
        points.failpoint(points.QA_JUDGED)
        if not qa.passed:
            failing = [v.criterion for v in qa.verdicts if not v.passed]
            report.error = "QA failed: " + (qa.summary or "; ".join(failing) or "checks failed")
            await e.drivers.finish(task.id, n, report, _O.QA_FAILED, qa.verdicts)
            failed = await self._move(task.id, _S.AWAITING_QA, _S.FAILED, verdicts=qa.verdicts)
            if failed is not None:
                await e.phoenix.after_failure(failed)
            return
        if e.review_gate_for(run):
            await self._move(task.id, _S.AWAITING_QA, _S.AWAITING_REVIEW, verdicts=qa.verdicts)
            return
        await self.merge(task.id, e.drivers.finish(task.id, n, report, _O.QA_PASSED, qa.verdicts))

    async def judge(
        self, run: Run, task: Task, handle: ActiveAttempt, report: AttemptReport
    ) -> tuple[QAReport | None, str]:
        """QA's report (retrying QA's own errors), or None and the last error."""
        e = self.engine
        error = ""
        worktree = handle.worktree
        if worktree is None:  # re-checking after a restart: the git plane knows it
            found = (await e.git.acquire_worktree(task.id)).worktree
            worktree = Path(found) if found else None
        if worktree is None:
            # QA must never run in the daemon's directory (the user's own checkout).
            return None, f"task #{task.id} has no worktree to check"
        if task.base_commit is None:  # read before its worktree was made: QA diffs from it
            task = await e.store.get_task(task.id)
        request = QARequest(
            run=run,
            task=task,
            attempt=handle.number,
            worktree=worktree,
            report=report,
            test_command=e.settings.test_command,
            cancel=handle.cancel,
            baseline=lambda: e.baselines.of(run),
            approver=e.humans.approver(task, handle),
        )
        for _ in range(e.settings.qa_retries + 1):
            try:
                qa = await asyncio.wait_for(e.runner.run_qa(request), e.settings.task_time_limit_s)
            except TimeoutError:
                error = f"QA took longer than {e.settings.task_time_limit_s:.0f} s"
                continue
            except Exception as exc:
                log.warning("QA of task %d failed: %s", task.id, exc)
                error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                continue
            if handle.stop_reason is not None or qa.error is None:
                return qa, ""
            error = qa.error
        return None, error

    async def _stopped(self, task: Task, handle: ActiveAttempt, report: AttemptReport) -> None:
        e = self.engine
        if handle.stop_reason == "shutdown":
            return  # stays awaiting_qa; recovery judges it again
        if handle.stop_reason == "cancel":  # the whole run goes: no cascade to ask about
            await e.drivers.finish(task.id, handle.number, report, _O.INTERRUPTED)
            await self._move(
                task.id, _S.AWAITING_QA, _S.ABANDONED, reason=handle.stop_note,
                event_data=RUN_CANCELLED_DATA,
            )  # fmt: skip
            return
        # Journaled before the attempt closes, as an agent's question is: a crash in
        # between leaves the human's interrupt to recovery instead of a blind retry.
        await e.drivers.close_and_ask(
            task, handle, report, _O.INTERRUPTED, PromptKind.INTERRUPTED,
            handle.stop_note or "interrupted", [A.RETRY, A.ABANDON, A.SPAWN],
            expected=_S.AWAITING_QA,
        )  # fmt: skip

    async def _move(
        self, task_id: int, frm: TaskState, to: TaskState, **fields: Any
    ) -> Task | None:
        try:
            return await self.engine.store.transition(task_id, expected=frm, to=to, **fields)
        except (ConflictError, InvalidTransitionError) as exc:
            log.info("task %d not moved %s → %s: %s", task_id, frm, to, exc)
            return None

    # -- merging ----------------------------------------------------------------------------

    async def merge(self, task_id: int, closing: Awaitable[None] | None = None) -> Task | None:
        """Merge a task that passed QA (and review) into its run branch, then complete it.

        `closing` (closing the attempt's record) runs alongside: its write is queued first,
        so the board commits it no later than the completion (the writer is first in,
        first out), and a crash in between leaves a closed attempt on a task recovery
        merges again — never a complete task with an open attempt.
        """
        if closing is None:
            return await self._merge_and_complete(task_id)
        _, done = await asyncio.gather(closing, self._merge_and_complete(task_id))
        return done

    async def _merge_and_complete(self, task_id: int) -> Task | None:
        e = self.engine
        task = await e.store.get_task(task_id)
        try:
            outcome = await e.git.merge_task(task.id)
        except BosunError as exc:
            await e.humans.ask(
                task.id, PromptKind.NEEDS_HUMAN, f"merging failed: {exc.message}",
                [A.RETRY, A.ABANDON], expected=task.state,
            )  # fmt: skip
            return None
        if outcome.status == "conflict":
            await self._conflict(task, outcome)
            return None
        points.failpoint(points.MERGE_DONE)
        return await self._complete(task)

    async def _complete(self, task: Task) -> Task | None:
        # Dependents whose only unfinished dependency is this task are promoted in the
        # same group commit, right behind it: one durable write less on the chain.
        e = self.engine
        graph = e.graph
        follow = [
            d
            for d in graph.dependents.get(task.id, ())
            if (node := graph.nodes.get(d)) is not None
            and node.state is _S.PLANNED
            and not node.held
            and all(
                x == task.id or graph.nodes[x].state is _S.COMPLETE
                for x in node.deps
                if x in graph.nodes
            )
        ]
        done, _, *_promoted = await asyncio.gather(
            self._move(task.id, task.state, _S.COMPLETE, reason=None),
            e.store.journal_delete(REPORTS, str(task.id)),
            *[self._move(d, _S.PLANNED, _S.READY) for d in follow],
        )
        if done is None:
            return None
        points.failpoint(points.TASK_COMPLETED)
        try:
            await e.git.release_task(task.id)
        except BosunError as exc:  # gc cleans up what is left
            log.warning("releasing task %d's worktree failed: %s", task.id, exc)
        return done

    async def _conflict(self, task: Task, outcome: MergeOutcome) -> None:
        e = self.engine
        files = [c.path for c in outcome.conflicts]
        record = {"run_head": outcome.run_head, "source": outcome.source, "files": files}
        await e.store.journal_put(MERGERS, str(task.id), record)
        await self.start_merger(task, record)

    async def start_merger(self, task: Task, record: dict[str, Any]) -> None:
        """Create (or find) the merger task of a conflict and give it its worktree."""
        e = self.engine
        key = f"merge-{task.key}"[:180] + f"-a{task.attempt}"
        try:
            merger = await e.store.get_task_by_key(task.run_id, key)
        except NotFoundError:
            shown = ", ".join(record["files"][:20])
            spec = TaskSpec(
                key=key,
                title=f"Resolve the merge conflict of {task.key}",
                description=(
                    f"Merging task #{task.id} ({task.title}) into the run branch conflicts in: "
                    f"{shown}. The worktree holds the merge with conflict markers. Resolve "
                    "every conflict so both sides' intent is kept; do not commit."
                ),
                profile=Profile.MERGER,
                phase=task.phase,
                acceptance_criteria=[f"No conflict markers remain in {shown}"],
                max_retries=task.max_retries,
                parent_id=task.id,
            )
            [merger] = await e.store.create_tasks(task.run_id, [spec])
        if merger.state is _S.PLANNED and merger.worktree is None:
            conflict = MergeOutcome(
                "conflict",
                run_head=str(record["run_head"]),
                source=str(record["source"]),
                conflicts=[ConflictFile(path=str(p)) for p in record["files"]],
            )
            await e.git.prepare_conflict_worktree(merger.id, conflict)
        node = e.graph.nodes.get(merger.id)
        if node is not None:
            node.held = False
        e.dispatcher.promote_later([merger.id])

    async def _publish(self, merger: Task, handle: ActiveAttempt, report: AttemptReport) -> None:
        e = self.engine
        n = handle.number
        try:
            outcome = await e.git.publish_resolution(merger.id, n)
        except BosunError as exc:
            report.error = exc.message
            await e.drivers.finish(merger.id, n, report, _O.ERROR)
            failed = await self._move(merger.id, _S.AWAITING_QA, _S.FAILED, reason=exc.message)
            if failed is not None:
                await e.phoenix.after_failure(failed)
            return
        if outcome.status == "conflict":
            report.error = "the run branch moved and the merge conflicts again"
            await e.drivers.finish(merger.id, n, report, _O.ERROR)
            await e.humans.ask(
                merger.id, PromptKind.MERGE_CONFLICT, report.error, [A.ABANDON],
                expected=_S.AWAITING_QA,
            )  # fmt: skip
            return
        await e.drivers.finish(merger.id, n, report, _O.QA_PASSED)
        points.failpoint(points.MERGE_DONE)
        await self._complete(await e.store.get_task(merger.id))
        await self.finish_original(merger)

    async def finish_original(self, merger: Task) -> None:
        """The task a completed merger merged is complete too."""
        if merger.parent_id is None:
            return
        original = await self.engine.store.get_task(merger.parent_id)
        if original.state in (_S.AWAITING_QA, _S.AWAITING_REVIEW):
            await self._complete(original)
        await self.engine.store.journal_delete(MERGERS, str(original.id))

    async def on_abandoned(self, task: Task) -> None:
        """An abandoned merger sends the task it was merging to a human."""
        if task.profile is not Profile.MERGER or task.parent_id is None:
            return
        e = self.engine
        original = await e.store.get_task(task.parent_id)
        if original.state not in (_S.AWAITING_QA, _S.AWAITING_REVIEW):
            return
        record = await e.store.journal_get(MERGERS, str(original.id)) or {}
        await e.store.journal_delete(MERGERS, str(original.id))
        files = ", ".join(record.get("files", [])[:10])
        await e.humans.ask(
            original.id, PromptKind.MERGE_CONFLICT,
            f"merging it into the run branch conflicts ({files}) and the merge task "
            f"#{task.id} was abandoned; retry redoes it on the run's current head",
            [A.RETRY, A.ABANDON, A.SPAWN], expected=original.state,
        )  # fmt: skip

    # -- review ---------------------------------------------------------------------------

    async def apply_review(self, task_id: int, decision: ReviewDecision) -> Task:
        """Approve (merge), request changes (Phoenix with the comments) or reject."""
        e = self.engine
        task = await e.store.get_task(task_id)
        if task.state is not _S.AWAITING_REVIEW:
            raise InvalidTransitionError(f"task {task_id} is {task.state.value}, not in review")
        saved = await e.store.journal_get(REPORTS, str(task_id)) or {}
        report = AttemptReport(
            outcome=_O.FINISHED,
            summary=str(saved.get("summary", "")),
            files_changed=list(saved.get("files", [])),
        )
        if isinstance(decision, ApproveDecision | ApproveHunksDecision):
            await e.drivers.finish(task_id, task.attempt, report, _O.QA_PASSED, task.verdicts)
            await self.merge(task_id)
        elif isinstance(decision, RequestChangesDecision):
            text = "\n".join(c.render() for c in decision.comments)  # path:line: body
            notes = await e.phoenix.notes(task_id)
            notes.reviews.append(Review(attempt=task.attempt, text=text))
            await e.phoenix.save_notes(task_id, notes)
            report.error = f"changes requested: {text}"
            outcome = _O.CHANGES_REQUESTED
            await e.drivers.finish(task_id, task.attempt, report, outcome, task.verdicts)
            failed = await self._move(task_id, _S.AWAITING_REVIEW, _S.FAILED, reason=report.error)
            if failed is not None:
                await e.phoenix.after_failure(failed)
        elif isinstance(decision, RejectDecision):
            report.error = f"rejected in review: {decision.reason or 'no reason given'}"
            outcome = _O.CHANGES_REQUESTED
            await e.drivers.finish(task_id, task.attempt, report, outcome, task.verdicts)
            await e.decisions.abandon(task_id, _S.AWAITING_REVIEW, report.error)
        return await e.store.get_task(task_id)
