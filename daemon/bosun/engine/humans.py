"""Humans in the loop: open prompts, their answers (first one wins), tool approvals.

A prompt is journaled (kind "prompt") before the task moves to waiting_human, so a
crash in between leaves a prompt recovery can match to the task (or drop); an attempt's
question is journaled even before the attempt is closed, so it is never lost with it.
Answers are applied one at a time per prompt: the prompt leaves the open set before the
first `await`, so a second answer finds it gone and is told who answered first.

Tool approvals (an `ask` policy rule) are prompts too, but the task stays `active`: the
attempt is alive, holding its worktree and lease, and simply waits inside the tool call.
Its time limit and stall clock stop while it waits; `task.reason` says what it waits
for, and `bosun/humanQueue` lists it. Stopping the attempt withdraws the prompt (deny).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bosun_protocol.engine import (
    HumanPrompt,
    PromptKind,
    PromptResolved,
    ResolveAction,
    ResolveTaskParams,
    ResolveTaskResult,
    ToolApprovalInfo,
)
from bosun_protocol.entities import Task, TaskState

from bosun.board.errors import InvalidBoardInputError
from bosun.engine import points
from bosun.engine.approvals import TaskApprover
from bosun.errors import ConflictError, InvalidTransitionError, NotFoundError
from bosun.tools.context import ApprovalChoice, ApprovalDecision

if TYPE_CHECKING:
    from bosun.engine.core import ActiveAttempt, Engine

PROMPTS = "prompt"
CLOSING = "closingAttempt"  # in a prompt's journal entry: see Humans.open
_ANSWERS_KEPT = 1000
# Prompts whose cause a retry alone cannot change: what the person must fix first.
FIX_FIRST = {
    PromptKind.MODEL_UNUSABLE: (
        "fix the model's configuration named in the reason (API key, model name, "
        "scenario or recording; `bosun doctor` checks it)."
    ),
    PromptKind.SETUP_FAILED: (
        "fix the worktree's set-up (`[worktree] setup` in .bosun/config.toml, or what it "
        "needs on this machine; `bosun doctor` runs it)."
    ),
    PromptKind.STALLED_AGAIN: (
        "say how the next attempt should go about the task differently (guidance), or "
        "change a setting (a model, a watchdog limit)."
    ),
}
_A = ResolveAction


class Humans:
    """The open prompts of the daemon and what answering them does."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.prompts: dict[str, HumanPrompt] = {}
        self.waiters: dict[str, asyncio.Future[ApprovalDecision]] = {}
        self.answered: OrderedDict[str, PromptResolved] = OrderedDict()
        # The engine's settings generation when each prompt was opened (see FIX_FIRST).
        self.generation_at: dict[str, int] = {}

    def queue(self, run_id: int | None = None) -> list[HumanPrompt]:
        """Open prompts (of one run when given), oldest first."""
        found = [p for p in self.prompts.values() if run_id is None or p.run_id == run_id]
        return sorted(found, key=lambda p: p.created_at)

    def task_prompt(self, task_id: int) -> HumanPrompt | None:
        """The open prompt about a task (a waiting task's, or an approval)."""
        return next((p for p in self.prompts.values() if p.task_id == task_id), None)

    # -- asking ---------------------------------------------------------------------------

    async def open(
        self,
        run_id: int,
        task_id: int | None,
        kind: PromptKind,
        reason: str,
        options: list[ResolveAction],
        approval: ToolApprovalInfo | None = None,
        choices: list[str] | None = None,
        closing: Mapping[str, Any] | None = None,
    ) -> HumanPrompt:
        """Record a prompt durably (not yet announced).

        `closing` (kept in the journal entry only, under CLOSING) is how the attempt that
        asked is to be closed, for recovery when the crash comes before it was."""
        prompt = HumanPrompt(
            prompt_id=uuid.uuid4().hex[:12],
            run_id=run_id,
            task_id=task_id,
            kind=kind,
            reason=reason,
            options=options,
            choices=list(dict.fromkeys(c for c in choices or () if c.strip())),
            approval=approval,
            fix_first=FIX_FIRST.get(kind),
            created_at=datetime.now(UTC),
        )
        self.generation_at[prompt.prompt_id] = self.engine.settings_generation
        entry = prompt.model_dump(mode="json")
        if closing is not None:
            entry[CLOSING] = dict(closing)
        await self.engine.store.journal_put(PROMPTS, prompt.prompt_id, entry)
        self.prompts[prompt.prompt_id] = prompt
        return prompt

    async def announce(self, prompt: HumanPrompt, task: Task | None) -> None:
        """Tell every client (bosun/humanPrompt, window/showMessageRequest)."""
        event = await self.engine.store.append_event(
            "human.prompt",
            run_id=prompt.run_id,
            task_id=prompt.task_id,
            data={
                "promptId": prompt.prompt_id,
                "kind": prompt.kind.value,
                "reason": prompt.reason,
                "options": [o.value for o in prompt.options],
                "choices": prompt.choices,
            },
        )
        self.engine.notifier.prompt_opened(prompt, task, event.seq)

    async def ask(
        self,
        task_id: int,
        kind: PromptKind,
        reason: str,
        options: list[ResolveAction],
        *,
        expected: TaskState,
        holder: str | None = None,
        choices: list[str] | None = None,
    ) -> Task | None:
        """Put the task in waiting_human with a prompt; None when the task moved first.

        `choices` are the agent's suggested answers (ask_human), offered to the human."""
        prompt = await self.record(task_id, kind, reason, options, choices=choices)
        return await self.deliver(prompt, expected=expected, holder=holder)

    async def record(
        self,
        task_id: int,
        kind: PromptKind,
        reason: str,
        options: list[ResolveAction],
        *,
        choices: list[str] | None = None,
        closing: Mapping[str, Any] | None = None,
    ) -> HumanPrompt:
        """The first half of ask: journal the question, superseding the task's older ones.

        Journaled (a crash from here on leaves it to recovery) but not listed until
        deliver has moved the task: an answer before the move would find it still active.
        An attempt's question is recorded before the attempt is closed (see attempts.py),
        so the question is durable whenever the attempt's end is."""
        task = await self.engine.store.get_task(task_id)
        for old in [p for p in self.prompts.values() if p.task_id == task_id]:
            await self.close(old, "engine", _A.ABANDON)  # superseded by this question
        prompt = await self.open(
            task.run_id, task_id, kind, reason, options, choices=choices, closing=closing
        )
        del self.prompts[prompt.prompt_id]
        return prompt

    async def deliver(
        self, prompt: HumanPrompt, *, expected: TaskState, holder: str | None = None
    ) -> Task | None:
        """The second half of ask: move the task to waiting_human, then list and announce."""
        assert prompt.task_id is not None
        points.failpoint(points.HUMAN_ASKED)
        try:
            task = await self.engine.store.transition(
                prompt.task_id,
                expected=expected,
                to=TaskState.WAITING_HUMAN,
                holder=holder,
                reason=prompt.reason,
                event_data={"kind": prompt.kind.value, "promptId": prompt.prompt_id},
            )
        except (ConflictError, InvalidTransitionError):
            self.prompts[prompt.prompt_id] = prompt
            await self.close(prompt, "engine", _A.ABANDON)
            return None
        self.prompts[prompt.prompt_id] = prompt
        await self.announce(prompt, task)
        return task

    def approver(self, task: Task, handle: ActiveAttempt) -> TaskApprover:
        """The Approver one attempt's tool calls ask through."""
        return TaskApprover(self, task, handle)

    # -- answering ------------------------------------------------------------------------

    async def resolve(self, params: ResolveTaskParams) -> ResolveTaskResult:
        """Apply a human's answer; the first answer to a prompt wins."""
        prompt = await self._find(params)
        if params.action not in prompt.options:
            shown = ", ".join(o.value for o in prompt.options)
            raise InvalidBoardInputError(
                f"{params.action.value} is not an option here; the options are: {shown}",
                data={"options": [o.value for o in prompt.options]},
            )
        self._check_fixed(prompt, params)
        answer = answer_record(params)
        params = chosen(prompt, params)
        by = params.by or "a client"
        note = PromptResolved(
            prompt_id=prompt.prompt_id,
            run_id=prompt.run_id,
            task_id=prompt.task_id,
            by=by,
            action=params.action,
        )
        del self.prompts[prompt.prompt_id]  # from here on, later answers lose
        self.answered[prompt.prompt_id] = note
        try:
            result = await self._apply(prompt, params, by)
        except BaseException:
            self.answered.pop(prompt.prompt_id, None)
            self.prompts[prompt.prompt_id] = prompt
            raise
        await self._closed(prompt, note, answer)
        points.failpoint(points.HUMAN_ANSWERED)
        return result

    def _check_fixed(self, prompt: HumanPrompt, params: ResolveTaskParams) -> None:
        """A plain retry of a failure that retrying cannot fix is refused: it would fail
        the same way (an auto-answering client looped 1,598 times on a broken model)."""
        if prompt.fix_first is None or params.action is not _A.RETRY:
            return
        said = params.guidance or params.description or params.acceptance_criteria
        # Unknown after a restart (settings were read again): no refusal then.
        then = self.generation_at.get(prompt.prompt_id, -1)
        if said or then != self.engine.settings_generation:
            return
        raise InvalidBoardInputError(
            f"retrying now would fail the same way: {prompt.fix_first} Then retry, with "
            "`guidance` saying what you fixed unless you changed a setting.",
            data={"fixFirst": prompt.fix_first, "kind": prompt.kind.value},
        )

    async def _find(self, params: ResolveTaskParams) -> HumanPrompt:
        if params.prompt_id is not None:
            prompt = self.prompts.get(params.prompt_id)
            if prompt is None:
                done = self.answered.get(params.prompt_id)
                if done is not None:
                    raise ConflictError(
                        f"that prompt was already answered by {done.by} ({done.action.value})",
                        data={"by": done.by, "action": done.action.value},
                    )
                raise NotFoundError(f"no open prompt {params.prompt_id}")
            if params.task_id is not None and prompt.task_id != params.task_id:
                raise InvalidBoardInputError(
                    f"prompt {prompt.prompt_id} is about task {prompt.task_id}, "
                    f"not {params.task_id}"
                )
            return prompt
        assert params.task_id is not None
        prompt = self.task_prompt(params.task_id)
        if prompt is not None:
            return prompt
        task = await self.engine.store.get_task(params.task_id)
        raise InvalidTransitionError(
            f"task {task.id} is {task.state.value}, not waiting for a human; nothing to answer",
            data={"state": task.state.value},
        )

    async def _apply(
        self, prompt: HumanPrompt, params: ResolveTaskParams, by: str
    ) -> ResolveTaskResult:
        e = self.engine
        if prompt.kind is PromptKind.TOOL_APPROVAL:
            choice = ApprovalChoice.DENY
            if params.action is _A.APPROVE:
                choice = ApprovalChoice.ALLOW_ALWAYS if params.always else ApprovalChoice.ALLOW_ONCE
            fut = self.waiters.get(prompt.prompt_id)
            if fut is not None and not fut.done():
                fut.set_result(ApprovalDecision(choice=choice, note=params.guidance or ""))
            assert prompt.task_id is not None
            task = await e.store.update_task(
                prompt.task_id,
                event="task.approval_answered",
                data={"promptId": prompt.prompt_id, "choice": choice.value, "by": by},
                reason=None,
            )
            return ResolveTaskResult(task=task)
        if prompt.kind is PromptKind.LANDING:
            run = await e.lifecycle.landing_answer(prompt.run_id, params.action, by)
            return ResolveTaskResult(run=run)
        if prompt.task_id is None and prompt.kind is PromptKind.TESTS_CANNOT_RUN:
            run = await e.store.get_run(prompt.run_id)  # the base's tests (baselines.py)
            await e.baselines.answered(run, params.action)
            return ResolveTaskResult(run=run)
        assert prompt.task_id is not None
        return await e.decisions.decide(prompt, params, by)

    async def close(self, prompt: HumanPrompt, by: str, action: ResolveAction) -> None:
        """Withdraw an open prompt (its task moved on, the run ended)."""
        if self.prompts.pop(prompt.prompt_id, None) is None:
            return
        fut = self.waiters.get(prompt.prompt_id)
        if fut is not None and not fut.done():
            fut.set_result(ApprovalDecision(choice=ApprovalChoice.DENY, note="the attempt stopped"))
        note = PromptResolved(
            prompt_id=prompt.prompt_id,
            run_id=prompt.run_id,
            task_id=prompt.task_id,
            by=by,
            action=action,
        )
        self.answered[prompt.prompt_id] = note
        await self._closed(prompt, note)

    async def _closed(
        self, prompt: HumanPrompt, note: PromptResolved, answer: dict[str, object] | None = None
    ) -> None:
        self.generation_at.pop(prompt.prompt_id, None)
        while len(self.answered) > _ANSWERS_KEPT:
            self.answered.popitem(last=False)
        await self.engine.store.journal_delete(PROMPTS, prompt.prompt_id)
        data = {"promptId": prompt.prompt_id, "by": note.by, "action": note.action.value}
        await self.engine.store.append_event(
            "human.answered",
            run_id=prompt.run_id,
            task_id=prompt.task_id,
            data={**data, "kind": prompt.kind.value, **(answer or {})},
        )
        self.engine.notifier.prompt_resolved(note)

    def withdraw_approvals(self, task_id: int) -> None:
        """Deny any approval the task's (ending) attempt still waits for."""
        for prompt in [p for p in self.prompts.values() if p.task_id == task_id]:
            if prompt.kind is PromptKind.TOOL_APPROVAL:
                self.engine.spawn(self.close(prompt, "engine", _A.DENY), "withdraw-approval")

    async def close_run(self, run_id: int) -> None:
        """Withdraw every open prompt of a run."""
        for prompt in self.queue(run_id):
            await self.close(prompt, "engine", _A.ABANDON)


def chosen(prompt: HumanPrompt, params: ResolveTaskParams) -> ResolveTaskParams:
    """An answer naming one of the prompt's choices becomes a retry whose guidance is
    that choice (then any guidance given with it): the agent gets it as the answer."""
    if params.choice is None:
        return params
    if params.choice not in prompt.choices:
        shown = " | ".join(prompt.choices) or "none"
        raise InvalidBoardInputError(
            f"{params.choice!r} is not one of this prompt's choices ({shown})",
            data={"choices": prompt.choices},
        )
    guidance = "\n\n".join(g for g in (params.choice, params.guidance) if g)
    return params.model_copy(update={"guidance": guidance})


def answer_record(params: ResolveTaskParams) -> dict[str, object]:
    """What a human's answer said, for the event log (and replaying a run's answers)."""
    fields = params.model_dump(
        mode="json",
        by_alias=True,
        exclude_none=True,
        include={"choice", "guidance", "description", "acceptance_criteria", "always"},
    )
    return {k: v for k, v in fields.items() if v is not False}
