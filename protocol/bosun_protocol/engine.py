"""Engine requests and notifications: humans in the loop, interrupts, run control.

A task that needs a person is `waiting_human` with a *prompt*: why (the reason), what
kind of decision it is, and the actions that make sense. An agent's question
(`ask_human`) may come with suggested answers, the prompt's *choices*: answering with one
(`action: retry`, `choice`) gives that text back to the agent as the human's answer and
the task goes on with it. Any client may answer with
`bosun/resolveTask`; the first answer wins, everyone is told by `bosun/promptResolved`,
and a late answer gets a CONFLICT error naming who answered first. A prompt about the
run itself (landing consent) has no task: answer it by `promptId`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from bosun_protocol.base import WireModel
from bosun_protocol.entities import Run, Task


class ResolveAction(StrEnum):
    """What a human can decide about a waiting task (or the run's landing)."""

    RETRY = "retry"  # run it again (with changed description, criteria or guidance)
    ABANDON = "abandon"  # give it up; its dependents are asked about next
    SPAWN = "spawn"  # a replacement task takes over its dependents
    APPROVE = "approve"  # tool approval: allow the call (once, or `always` for the run)
    DENY = "deny"  # tool approval: refuse the call; the agent is told why (guidance)


class PromptKind(StrEnum):
    """Why a human is asked."""

    RETRIES_SPENT = "retries_spent"
    BUDGET_SPENT = "budget_spent"
    ASK_HUMAN = "ask_human"
    TOOL_APPROVAL = "tool_approval"
    DEPENDENCY_ABANDONED = "dependency_abandoned"
    MERGE_CONFLICT = "merge_conflict"
    LANDING = "landing"
    INTERRUPTED = "interrupted"
    NEEDS_HUMAN = "needs_human"  # anything else a person must look at (merging failed…)
    # The project's tests could not run at all (runner or tool missing, exit 127, the
    # worktree's set-up failed): the environment needs a person, not the work.
    TESTS_CANNOT_RUN = "tests_cannot_run"
    # The model cannot be used (a key refused, an unknown model, a broken scenario or
    # recording): not a question, and no attempt can succeed until that is fixed.
    MODEL_UNUSABLE = "model_unusable"
    # The worktree's set-up command failed: the environment needs a person.
    SETUP_FAILED = "setup_failed"
    # Attempts in a row were stopped by the watchdog for the same reason: another retry
    # would most likely do the same, so a person decides (new instructions, or not).
    STALLED_AGAIN = "stalled_again"


class ToolApprovalInfo(WireModel):
    """The tool call a `tool_approval` prompt is about."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    rule: str = ""
    attempt: int = 0


class HumanPrompt(WireModel):
    """One open question to a human."""

    prompt_id: str
    run_id: int
    task_id: int | None = None
    kind: PromptKind
    reason: str
    options: list[ResolveAction]
    choices: list[str] = Field(
        default_factory=list,
        description="Suggested answers to an ask_human question; answer one with "
        "`action: retry` and `choice` to give it to the agent as the human's answer.",
    )
    approval: ToolApprovalInfo | None = None
    fix_first: str | None = Field(
        default=None,
        description="Set when a retry with nothing changed would fail the same way: what "
        "to fix first. A plain `retry` is refused until a setting changed or the answer "
        "says what was fixed (`guidance`, `description` or `acceptanceCriteria`).",
    )
    created_at: datetime


# --- requests -------------------------------------------------------------------------


class ResolveTaskParams(WireModel):
    """A human's answer to a prompt: name the task, or the prompt (landing has no task)."""

    task_id: int | None = None
    prompt_id: str | None = Field(
        default=None, description="Answer this exact prompt; refused if already answered."
    )
    action: ResolveAction
    guidance: str | None = Field(
        default=None,
        max_length=20_000,
        description="Added instructions on retry; the reason given to the agent on deny.",
    )
    description: str | None = Field(default=None, max_length=100_000)
    acceptance_criteria: list[str] | None = Field(default=None, max_length=100)
    always: bool = Field(
        default=False, description="With approve: allow matching calls for the rest of the run."
    )
    choice: str | None = Field(
        default=None,
        max_length=20_000,
        description="With retry: one of the prompt's `choices`, given to the agent as the "
        "human's answer (any `guidance` is added after it).",
    )
    by: str | None = Field(default=None, max_length=200, description="Who answers (shown).")

    @model_validator(mode="after")
    def _names_something(self) -> ResolveTaskParams:
        if self.task_id is None and self.prompt_id is None:
            raise ValueError("give taskId or promptId")
        if self.choice is not None and self.action is not ResolveAction.RETRY:
            raise ValueError("a choice is an answer to go on with: send it with action retry")
        return self


class ResolveTaskResult(WireModel):
    """What the answer did: the task after it, and a spawned replacement if any."""

    task: Task | None = None
    run: Run | None = None
    spawned: Task | None = None


class InterruptTaskParams(WireModel):
    """Stop a task now: its attempt is killed and recorded, then a human decides."""

    task_id: int
    reason: str = Field(default="interrupted by a human", max_length=2000)


class DropTaskParams(WireModel):
    """Remove a task that has not started from the plan (it is abandoned, never run).

    `dependents` says what happens to the unfinished tasks that wait for it: `rewire`
    (default) makes them wait for what it waited for instead, so the plan goes on
    without it; `drop` drops them too (each must not have started either).
    """

    task_id: int
    dependents: Literal["rewire", "drop"] = "rewire"
    reason: str = Field(default="dropped from the plan by a human", max_length=2000)


class DropTaskResult(WireModel):
    """The tasks dropped (the named one first) and the dependents rewired."""

    dropped: list[Task]
    rewired: list[Task] = Field(default_factory=list)


class RestartRunParams(WireModel):
    """Reopen a cancelled or failed run's unfinished work (replacement tasks `KEY-rN`
    on the run branch as it stands; attempt history and spend kept)."""

    run_id: int
    from_tasks: list[int] = Field(
        default_factory=list,
        description="Reopen these abandoned tasks and what was abandoned downstream of them "
        "(default: every task the run's end abandoned).",
    )


class RestartRunResult(WireModel):
    """The run, live again, and the tasks that replace the reopened ones."""

    run: Run
    reopened: list[Task]


class RunControlParams(WireModel):
    """Names a run to cancel, pause or resume."""

    run_id: int
    reason: str = Field(default="", max_length=2000)


class ReplanParams(WireModel):
    """Ask for a new planning pass on a running run, with a human's guidance."""

    run_id: int
    guidance: str = Field(min_length=1, max_length=20_000)


class HumanQueueParams(WireModel):
    """Open prompts, of one run when given."""

    run_id: int | None = None


class HumanQueueResult(WireModel):
    """Open prompts, oldest first."""

    prompts: list[HumanPrompt]


# --- notifications ---------------------------------------------------------------------


class HumanPromptNotification(WireModel):
    """A human is asked something; `seq` is the board event that opened the prompt."""

    seq: int
    prompt: HumanPrompt
    task: Task | None = None


class PromptResolved(WireModel):
    """A prompt was answered (first answer wins); clients close their copy of it."""

    prompt_id: str
    run_id: int
    task_id: int | None = None
    by: str
    action: ResolveAction


class TranscriptDelta(WireModel):
    """New transcript text of a live attempt: small pieces, never a whole transcript."""

    task_id: int
    attempt: int
    role: str = "assistant"
    delta: str = Field(max_length=16_384)
    message_id: int | None = Field(
        default=None,
        description="Set when the message is stored: the text streamed since the previous "
        "stored message, and this delta's (often empty: a marker), is that message.",
    )
    seq: int = Field(
        ge=1,
        description="Per attempt: 1 for its first delta, one more for each next; a gap "
        "means a delta was lost (re-fetch the transcript).",
    )
