"""Recovery on start: pick up every live run where the last daemon left it.

Git first (the git plane already finished or dropped journaled merges and reconciled
worktrees when it started). Then, per live run: the graph is rebuilt from the board;
active tasks — their leases name a dead boot — become failed attempts (the attempt is
closed as `crashed`, opened first if the crash came before it was), so a crash loop
still spends retries and reaches a human — unless the attempt had ended with a question
(journaled before the attempt was closed): that task waits for a human with it, the
attempt closed as it would have been (so too a task awaiting QA whose interrupt or
"QA could not run" question was journaled); tasks awaiting QA are judged again (or merged,
if QA had passed); failed tasks go through Phoenix; planned tasks are checked for
promotion; open prompts come back from the journal (a tool approval, whose waiting
attempt died, and a prompt whose task moved on are closed with a notice instead); a
complete task's worktree left by the crash is removed; a run that was landing lands
again. Dispatch then resumes by itself through the usual board notices.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bosun_protocol.engine import HumanPrompt, PromptKind
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import AttemptOutcome, Profile, Run, RunState, Task, TaskState

from bosun.agents.api import AttemptReport
from bosun.engine.core import LIVE_RUN_STATES, ActiveAttempt
from bosun.engine.humans import CLOSING, PROMPTS
from bosun.engine.merging import MERGERS, REPORTS
from bosun.errors import BosunError, ConflictError, InvalidTransitionError

if TYPE_CHECKING:
    from bosun.engine.core import Engine

log = logging.getLogger(__name__)
EXPIRED = "expired: the daemon restarted"  # who closed a prompt that could not survive
STORAGE_PAUSED = "interrupted: the board could not be written (storage paused); not counted"
_S = TaskState
_O = AttemptOutcome


async def _live_runs(engine: Engine) -> list[Run]:
    found: list[Run] = []
    before: int | None = None
    while True:
        page = await engine.store.list_runs(limit=500, before_id=before)
        found += [r for r in page if r.state in LIVE_RUN_STATES]
        if len(page) < 500:
            return found
        before = page[-1].id


async def recover(engine: Engine) -> None:
    """Rebuild the engine's view and restart whatever was interrupted."""
    e = engine
    await e.phoenix.load()
    runs = await _live_runs(e)
    by_run: dict[int, list[Task]] = {}
    for run in runs:
        e.runs[run.id] = run
        by_run[run.id] = await e.store.list_tasks(run.id)
        for task in by_run[run.id]:
            e.graph.apply(task)
    asked = await _restore_prompts(e)
    for run in runs:
        tasks = by_run[run.id]
        if run.state is RunState.PENDING:
            e.runs.pop(run.id, None)
            e.spawn(e.lifecycle.start_run(run.id), f"restart-run-{run.id}")
            continue
        if not tasks and run.state is RunState.RUNNING:
            # Started, but the crash came before its director task: nothing is behind it.
            e.spawn(e.lifecycle.create_director(run), f"director-{run.id}")
            continue
        planned: list[int] = []
        for task in tasks:
            if task.state is _S.ACTIVE:
                e.spawn(_crashed(e, task, asked.get(task.id)), f"recover-{task.id}")
            elif task.state is _S.AWAITING_QA and task.id in asked:
                e.spawn(_asked_in_qa(e, run, task, asked[task.id]), f"recover-{task.id}")
            elif task.state is _S.AWAITING_QA:
                e.spawn(_requalify(e, run, task), f"recover-{task.id}")
            elif task.state is _S.FAILED:
                e.spawn(e.phoenix.after_failure(task), f"recover-{task.id}")
            elif task.state is _S.WAITING_HUMAN and e.humans.task_prompt(task.id) is None:
                e.spawn(_reask(e, task), f"recover-{task.id}")
            elif task.state is _S.COMPLETE and task.worktree is not None:
                # Killed between completing it and removing its worktree: finish that.
                e.spawn(_release(e, task), f"recover-{task.id}")
            elif task.state is _S.PLANNED:
                if task.profile is Profile.MERGER and task.parent_id is not None:
                    e.spawn(_resume_merger(e, task), f"recover-{task.id}")
                else:
                    planned.append(task.id)
        if planned:
            e.dispatcher.promote_later(planned)
        if run.state is RunState.LANDING:
            if not any(p.kind is PromptKind.LANDING for p in e.humans.queue(run.id)):
                e.spawn(e.lifecycle.land(run.id), f"reland-{run.id}")
        else:
            e.spawn(e.lifecycle.settle(run.id), f"settle-{run.id}")


# An active (or awaiting_qa) task's question journaled just before the crash, with how
# its attempt is to be closed (None: as crashed, unless it was closed already).
Asked = tuple[HumanPrompt, dict[str, Any] | None]
# The states a task asks from: an agent's question, a human's interrupt (also during
# QA), QA that could not run. A journaled prompt of such a task was not delivered yet.
_ASKING = (_S.ACTIVE, _S.AWAITING_QA)


async def _restore_prompts(e: Engine) -> dict[int, Asked]:
    """Reopen the journal's prompts; the questions of active tasks are returned instead.

    Those were journaled just before the crash, their tasks not yet waiting: the move to
    waiting_human is finished by _crashed, and only then is the prompt open. Open any
    earlier, a client could answer it while its task is still active (the answer fails
    and the prompt is briefly out of the open set), and recovery would miss it."""
    asked: dict[int, Asked] = {}
    for key, data in await e.store.journal_list(PROMPTS):
        closing = data.pop(CLOSING, None)
        try:
            prompt = HumanPrompt.model_validate(data)
        except ValueError:
            await e.store.journal_delete(PROMPTS, key)
            continue
        node = e.graph.nodes.get(prompt.task_id) if prompt.task_id is not None else None
        run = e.runs.get(prompt.run_id)
        # An active task's prompt is a question asked just before the crash: the move
        # to waiting_human is finished below (_crashed) instead of failing the task.
        keep = (
            prompt.kind is PromptKind.LANDING and run is not None
            if prompt.task_id is None
            else node is not None
            and node.state in (_S.WAITING_HUMAN, *_ASKING)
            and prompt.kind is not PromptKind.TOOL_APPROVAL
        )
        if keep and node is not None and node.state in _ASKING:
            asked[node.id] = (prompt, closing if isinstance(closing, dict) else None)
            continue
        e.humans.prompts[prompt.prompt_id] = prompt
        if not keep:
            # Never silently: clients that showed it are told it is gone (promptResolved,
            # and a human.answered event for those that reconnect and read the log). A
            # tool approval's waiting attempt died with the daemon; its task's next
            # attempt asks again when it reaches the same call.
            action = A.DENY if prompt.kind is PromptKind.TOOL_APPROVAL else A.ABANDON
            await e.humans.close(prompt, EXPIRED, action)
    return asked


async def _release(e: Engine, task: Task) -> None:
    try:
        await e.git.release_task(task.id)
    except BosunError as exc:  # gc removes it later
        log.warning("releasing task %d's worktree failed: %s", task.id, exc)


async def _crashed(e: Engine, task: Task, asked: Asked | None) -> None:
    n = task.attempt
    attempts = {a.number: a for a in await e.store.list_attempts(task.id)}
    if asked is not None:
        prompt, closing = asked
        if n in attempts and attempts[n].outcome is not _O.RUNNING:
            await _finish_asking(e, task, prompt)
            return
        if closing is not None and n > 0:
            # The attempt ended with this question; the crash came before it was closed.
            await _close_as_asked(e, task, n, closing, opened=n in attempts)
            await _finish_asking(e, task, prompt)
            return
        await e.store.journal_delete(PROMPTS, prompt.prompt_id)
    if task.lease is not None and task.lease.boot_id == e.boot_id:
        await _requeue_after_pause(e, task, attempts)
        return
    if n > 0:
        if n not in attempts:
            await e.store.start_attempt(task.id, n)  # crashed before it was opened: count it
        if n not in attempts or attempts[n].outcome is _O.RUNNING:
            boot = task.lease.boot_id if task.lease else "?"
            await e.store.finish_attempt(
                task.id, n, _O.CRASHED, error=f"the daemon stopped during this attempt ({boot})"
            )
    holder = task.lease.holder if task.lease else None
    try:
        failed = await e.store.transition(
            task.id, expected=_S.ACTIVE, to=_S.FAILED, holder=holder, reason="crashed"
        )
    except (ConflictError, InvalidTransitionError) as exc:
        log.info("recovering task %d: %s", task.id, exc)
        return
    await e.phoenix.after_failure(failed)


async def _requeue_after_pause(e: Engine, task: Task, attempts: dict[int, Any]) -> None:
    """A task this daemon leased before its storage pause: closed as interrupted and
    ready again, no retry spent (the disk failed, not the attempt)."""
    n = task.attempt
    if n > 0:
        if n not in attempts:
            await e.store.start_attempt(task.id, n)
        if n not in attempts or attempts[n].outcome is _O.RUNNING:
            await e.store.finish_attempt(task.id, n, _O.INTERRUPTED, error=STORAGE_PAUSED)
    holder = task.lease.holder if task.lease else None
    try:
        await e.store.transition(
            task.id, expected=_S.ACTIVE, to=_S.READY, holder=holder, reason=STORAGE_PAUSED
        )
    except (ConflictError, InvalidTransitionError) as exc:
        log.info("re-queueing task %d after the storage pause: %s", task.id, exc)


async def _close_as_asked(
    e: Engine, task: Task, n: int, closing: dict[str, Any], *, opened: bool
) -> None:
    """Close attempt n as AttemptDriver.close_and_ask would have, from what it journaled."""
    if not opened:
        await e.store.start_attempt(task.id, n)
    try:
        outcome = _O(str(closing.get("outcome")))
    except ValueError:
        outcome = _O.INTERRUPTED
    error, summary = closing.get("error"), closing.get("summary")
    await e.store.finish_attempt(
        task.id,
        n,
        outcome,
        error=str(error) if error is not None else None,
        summary=str(summary) if summary is not None else None,
        files_changed=[str(f) for f in closing.get("files") or ()],
    )


async def _asked_in_qa(e: Engine, run: Run, task: Task, asked: Asked) -> None:
    """A task awaiting QA whose question (interrupt, QA unable to run) was journaled
    before the crash: close its attempt as the engine would have, then ask."""
    prompt, closing = asked
    n = task.attempt
    attempts = {a.number: a for a in await e.store.list_attempts(task.id)}
    still_open = n in attempts and attempts[n].outcome is _O.RUNNING
    if still_open and closing is None:  # nothing says how it ended: judge it again
        await e.store.journal_delete(PROMPTS, prompt.prompt_id)
        await _requalify(e, run, task)
        return
    if still_open and closing is not None:
        await _close_as_asked(e, task, n, closing, opened=True)
    await _finish_asking(e, task, prompt)


async def _finish_asking(e: Engine, task: Task, prompt: HumanPrompt) -> None:
    """The attempt had ended and its question was recorded: put the task in front of a human."""
    holder = task.lease.holder if task.lease else None
    try:
        task = await e.store.transition(
            task.id,
            expected=task.state,  # active, or awaiting_qa
            to=_S.WAITING_HUMAN,
            holder=holder,
            reason=prompt.reason,
            event_data={"kind": prompt.kind.value, "promptId": prompt.prompt_id},
        )
    except (ConflictError, InvalidTransitionError) as exc:
        log.info("recovering task %d: %s", task.id, exc)
        e.humans.prompts[prompt.prompt_id] = prompt  # so that closing it tells clients
        await e.humans.close(prompt, "engine", A.ABANDON)
        return
    e.humans.prompts[prompt.prompt_id] = prompt  # answerable now that the task waits
    await e.humans.announce(prompt, task)


async def _requalify(e: Engine, run: Run, task: Task) -> None:
    attempts = {a.number: a for a in await e.store.list_attempts(task.id)}
    last = attempts.get(task.attempt)
    outcome = last.outcome if last is not None else _O.RUNNING
    if outcome is _O.QA_PASSED:
        record = await e.store.journal_get(MERGERS, str(task.id))
        if task.profile is Profile.MERGER:
            await e.merging._complete(task)
            await e.merging.finish_original(task)
        elif record is not None:
            await e.merging.start_merger(task, record)
        else:
            await e.merging.merge(task.id)
        return
    if outcome is _O.QA_FAILED:
        failed = await e.store.transition(task.id, expected=_S.AWAITING_QA, to=_S.FAILED)
        await e.phoenix.after_failure(failed)
        return
    if outcome is not _O.RUNNING or task.profile is Profile.MERGER:
        if outcome is _O.RUNNING:
            await e.store.finish_attempt(task.id, task.attempt, _O.CRASHED, error="crashed")
        failed = await e.store.transition(task.id, expected=_S.AWAITING_QA, to=_S.FAILED)
        await e.phoenix.after_failure(failed)
        return
    saved = await e.store.journal_get(REPORTS, str(task.id)) or {}
    report = AttemptReport(
        outcome=_O.FINISHED,
        summary=str(saved.get("summary", "")),
        files_changed=list(saved.get("files", [])),
    )
    now = e.loop_time()
    handle = ActiveAttempt(task.id, run.id, task.attempt, holder="", started=now, last_activity=now)
    e.active[task.id] = handle
    try:
        await e.merging.after_finish(run, task, handle, report)
    except BosunError as exc:
        log.warning("re-checking task %d failed: %s", task.id, exc)
    finally:
        e.active.pop(task.id, None)
        handle.finished.set()


async def _reask(e: Engine, task: Task) -> None:
    prompt = await e.humans.open(
        task.run_id,
        task.id,
        PromptKind.NEEDS_HUMAN,
        task.reason or "waiting for a human",
        [A.RETRY, A.ABANDON, A.SPAWN],
    )
    await e.humans.announce(prompt, task)


async def _resume_merger(e: Engine, merger: Task) -> None:
    assert merger.parent_id is not None
    record = await e.store.journal_get(MERGERS, str(merger.parent_id))
    if record is None:  # its conflict was settled otherwise: schedule it like any task
        node = e.graph.nodes.get(merger.id)
        if node is not None:
            node.held = False
        e.dispatcher.promote_later([merger.id])
        return
    original = await e.store.get_task(merger.parent_id)
    await e.merging.start_merger(original, record)
