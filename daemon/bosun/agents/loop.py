"""The worker loop: model ↔ tools in the task's worktree until finish, failure or a limit.

Each turn sends the bounded conversation to the model, then runs every tool call it
asked for through the tools pipeline (validation, policy, limits, redaction, events).
A malformed call becomes a tool error the model can read. Cancellation wins at once:
the model call or the running tool is cancelled (a command's whole process tree is
killed) before the loop returns.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bosun_protocol.entities import AttemptOutcome

from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.agents.context import ConversationWindow
from bosun.agents.profiles import AgentProfile
from bosun.agents.race import Interrupted, unless_cancelled
from bosun.agents.report import Trace, after_action
from bosun.agents.transcript import Transcript
from bosun.agents.watchdog import Alarm, Watchdog
from bosun.errors import BosunError, BudgetExceededError
from bosun.llm.errors import (
    AuthenticationError,
    ContextTooLongError,
    ModelError,
    QuotaExceededError,
    ScenarioError,
    UnknownModelError,
)
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest, ModelResponse, ToolCall, ToolSpec
from bosun.llm.model import CallContext
from bosun.secrets import redact
from bosun.tools.context import ApprovalDecision, ApprovalRequest, Approver, ToolContext
from bosun.tools.executor import ToolExecutor
from bosun.tools.results import AskHuman, Finish

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_COMPACTIONS = 3  # compactions of one call's context after context-too-long errors
_IDLE_TURNS = 3  # answers without a tool call in a row before the attempt is stalled
_NUDGE = (
    "Your answer called no tool. Work through the tools; when every acceptance criterion "
    "is met, call `finish` with a summary. If you cannot go on, call `ask_human`."
)
_CUT = "Your answer was cut at the output limit. Continue with a shorter answer or a tool call."


class _Stopped(Exception):
    """The attempt was cancelled or ran out of time while waiting."""

    def __init__(self, outcome: AttemptOutcome, why: str) -> None:
        super().__init__(why)
        self.outcome = outcome
        self.why = why


@dataclass
class _Ending:
    outcome: AttemptOutcome
    error: str | None = None
    needs_human: str | None = None
    human_options: list[str] | None = None
    human_kind: str | None = None
    finish: Finish | None = None


class WorkerLoop:
    """One attempt of one task by one worker profile."""

    def __init__(
        self,
        gateway: ModelGateway,
        executor: ToolExecutor,
        request: AttemptRequest,
        *,
        profile: AgentProfile,
        tool_ctx: ToolContext,
        tools: list[ToolSpec],
        window: ConversationWindow,
        transcript: Transcript,
        max_tokens: int = 4096,
        watchdog: Watchdog | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.executor = executor
        self.request = request
        self.profile = profile
        self.tool_ctx = tool_ctx
        self.tools = tools
        self.window = window
        self.transcript = transcript
        self.max_tokens = max_tokens
        self.watchdog = watchdog or Watchdog()
        # Brings work done elsewhere into request.worktree before the report reads it.
        self.settle = settle
        self.trace = Trace()
        self.turn = 0
        self.deadline = time.monotonic() + request.time_limit_s
        self.paused_at: float | None = None
        if tool_ctx.approver is not None:
            tool_ctx.approver = _ClockStoppingApprover(tool_ctx.approver, self)

    async def run(self) -> AttemptReport:
        """Run to an ending and write the after-action report."""
        await self.transcript.record(self.window.system)
        await self.transcript.record(self.window.brief)
        try:
            await self.watchdog.begin()
            ending = await self._turns()
        except _Stopped as stop:
            ending = _Ending(stop.outcome, error=stop.why)
            await self._note(stop.why)
        if self.settle is not None:
            await self.settle()
        return await self._report(ending)

    # --- the loop ---------------------------------------------------------------------

    async def _turns(self) -> _Ending:
        idle = 0
        while self.turn < self.request.max_turns:
            self._check_stop()
            self.turn += 1
            failed = await self._ask_model()
            if isinstance(failed, _Ending):
                return failed
            response = failed
            self.trace.last_text = response.text or self.trace.last_text
            message = response.message()
            self.window.add(message)
            await self.transcript.record(message)
            if not response.tool_calls:
                idle += 1
                if idle >= _IDLE_TURNS:
                    why = f"no tool call in {idle} answers in a row"
                    return _Ending(AttemptOutcome.STALLED, error=why)
                nudge = _CUT if response.stop_reason == "max_tokens" else _NUDGE
                await self._add(ChatMessage.user(nudge))
                continue
            idle = 0
            ending = await self._run_calls(response.tool_calls, response.usage.total)
            if ending is not None:
                return ending
        why = f"turn limit reached: {self.request.max_turns} model calls without `finish`"
        await self._note(why)
        return _Ending(AttemptOutcome.STALLED, error=why)

    async def _ask_model(self) -> ModelResponse | _Ending:
        """One model call; a too-long context is compacted and retried while that shrinks it."""
        compactions = 0
        while True:
            try:
                return await self._guard(self._complete())
            except ContextTooLongError as exc:
                before = self.window.size()
                if compactions >= _MAX_COMPACTIONS or not self.window.compact():
                    return _Ending(AttemptOutcome.ERROR, error=self._too_long(exc, compactions))
                compactions += 1
                await self._note(
                    "the context was too long for the model; compacted from "
                    f"{before} to {self.window.size()} characters and retried"
                )
            except BudgetExceededError as exc:
                if (exc.data or {}).get("scope") == "attempt":
                    # This attempt's share is spent, not the task's: Phoenix retries (and
                    # asks a human when attempts keep ending so; see phoenix.py).
                    return _Ending(AttemptOutcome.STALLED, error=exc.message)
                return _Ending(
                    AttemptOutcome.BUDGET_EXCEEDED, error=exc.message, needs_human=exc.message
                )
            except QuotaExceededError as exc:
                why = f"the provider's quota is spent: {exc.message}"
                return _Ending(AttemptOutcome.BUDGET_EXCEEDED, error=why, needs_human=why)
            except (AuthenticationError, UnknownModelError, ScenarioError) as exc:
                # No retry can succeed (a key, a name, a script or a recording is wrong).
                why = f"the model cannot be used: {exc.message}"
                return _Ending(
                    AttemptOutcome.ERROR, error=why, needs_human=why, human_kind="model_unusable"
                )
            except ModelError as exc:
                # Transient failures were already retried by the gateway: this one stays.
                return _Ending(AttemptOutcome.ERROR, error=f"model call failed: {exc.message}")

    def _too_long(self, exc: ContextTooLongError, compactions: int) -> str:
        """Why the attempt stops: the provider's words and what could not be cut."""
        pinned, exchange = self.window.pinned_size(), self.window.size()
        if compactions >= _MAX_COMPACTIONS:
            why = f"still too long after {compactions} compactions"
        else:
            why = "nothing left to cut"
        return (
            f"context too long: {exc.message} ({why}: the system prompt and brief are "
            f"{pinned} characters, the rest of the conversation {exchange})"
        )

    async def _complete(self) -> ModelResponse:
        ctx = CallContext(
            role=self.profile.role,
            run_id=self.request.run.id,
            task_id=self.request.task.id,
            task_key=self.request.task.key,
            attempt=self.request.attempt,
            turn=self.turn,
        )
        model_request = ModelRequest(
            messages=self.window.messages(),
            tools=self.tools,
            max_tokens=self.max_tokens,
            cache_marks=self.window.cache_marks(),
        )
        return await self.gateway.complete(
            model_request, ctx, options=self.request.run.options, on_delta=self.transcript.stream
        )

    async def _run_calls(self, calls: list[ToolCall], tokens: int) -> _Ending | None:
        alarm: Alarm | None = None
        for call in calls:
            self._check_stop()
            # A call whose arguments did not parse goes through the pipeline as raw text:
            # the executor names the problem and records the call like any other.
            arguments: str | dict[str, Any] = (
                call.raw_arguments if call.error is not None else call.arguments
            )
            result = await self._guard(self.executor.call(self.tool_ctx, call.name, arguments))
            self.trace.note(call.name, call.arguments, result.is_error)
            await self._add(ChatMessage.tool(call, result.content, is_error=result.is_error))
            seen = self.watchdog.observe(call, result.content if result.is_error else None)
            control = result.control
            if isinstance(control, Finish):
                return _Ending(AttemptOutcome.FINISHED, finish=control)
            if isinstance(control, AskHuman):
                return _Ending(
                    AttemptOutcome.INTERRUPTED,
                    error="waiting for a human's answer",
                    needs_human=_question(control),
                    human_options=control.options,
                )
            if seen is not None and seen.action == "stop":
                await self._note(f"watchdog: {seen.reason()}")
                return _Ending(AttemptOutcome.STALLED, error=seen.reason())
            alarm = alarm or seen
        if alarm is None:  # the rules that look at the whole turn
            alarm = await self.watchdog.after_turn(self.turn, tokens)
            if alarm is not None and alarm.action == "stop":
                await self._note(f"watchdog: {alarm.reason()}")
                return _Ending(AttemptOutcome.STALLED, error=alarm.reason())
        if alarm is not None:  # a nudge: once, after the turn's results
            await self._note(f"watchdog warned the model: {alarm.seen}")
            await self._add(ChatMessage.user(alarm.nudge_text()))
        return None

    # --- limits and cancellation ----------------------------------------------------------

    def _deadline(self) -> float:
        # While a human considers an approval, the attempt's clock stands still.
        return math.inf if self.paused_at is not None else self.deadline

    def _check_stop(self) -> None:
        if self.request.cancel.is_set():
            raise _Stopped(AttemptOutcome.INTERRUPTED, "interrupted")
        if time.monotonic() >= self._deadline():
            raise _Stopped(
                AttemptOutcome.TIMEOUT, f"time limit of {self.request.time_limit_s:g} s reached"
            )

    async def _guard(self, work: Awaitable[T]) -> T:
        """Await `work` unless cancellation or the deadline comes first; then stop it."""
        self._check_stop()
        try:
            return await unless_cancelled(work, self.request.cancel, self._deadline)
        except Interrupted:
            self._check_stop()
            raise _Stopped(AttemptOutcome.TIMEOUT, "time limit reached") from None

    # --- output -----------------------------------------------------------------------------

    async def _add(self, message: ChatMessage) -> None:
        self.window.add(message)
        await self.transcript.record(message)

    async def _note(self, text: str) -> None:
        try:
            await self.transcript.note(text)
        except BosunError as exc:  # the board is failing too; the report still goes out
            log.warning("cannot store transcript note for task %s: %s", self.request.task.id, exc)

    async def _report(self, ending: _Ending) -> AttemptReport:
        finish = ending.finish
        action = await after_action(
            self.trace,
            self.request.worktree,
            self.request.task.base_commit,
            finished_summary=finish.summary if finish else None,
            claimed_files=finish.files_changed if finish else [],
            ending=ending.error or ending.outcome.value,
        )
        report = AttemptReport(
            outcome=ending.outcome,
            summary=redact(action.summary),
            files_changed=action.files_changed,
            decisions=action.decisions,
            error=_redacted(ending.error),
            needs_human=_redacted(ending.needs_human),
            human_options=ending.human_options or [],
            human_kind=ending.human_kind,
            turns=self.turn,
        )
        await self._note(_render(report))
        return report


def _question(ask: AskHuman) -> str:
    """The question as a human sees it, with the agent's suggested answers."""
    if not ask.options:
        return ask.question
    return f"{ask.question}\n(suggested answers: {' | '.join(ask.options)})"


def _render(report: AttemptReport) -> str:
    """The after-action report as the transcript's last message."""
    lines = [f"After-action report: {report.outcome.value} after {report.turns} turn(s)"]
    if report.error:
        lines.append(f"error: {report.error}")
    lines.append(f"summary: {report.summary}")
    lines.append(f"files changed: {', '.join(report.files_changed) or 'none'}")
    lines += [f"decision: {d}" for d in report.decisions]
    if report.needs_human:
        lines.append(f"needs a human: {report.needs_human}")
    return "\n".join(lines)


def _redacted(text: str | None) -> str | None:
    return None if text is None else redact(text)


class _ClockStoppingApprover:
    """Passes approval requests on; the time a human takes does not count against the attempt."""

    def __init__(self, inner: Approver, loop: WorkerLoop) -> None:
        self.inner = inner
        self.loop = loop

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        """The human's decision on `request`."""
        self.loop.paused_at = started = time.monotonic()
        try:
            return await self.inner.request_approval(request)
        finally:
            self.loop.paused_at = None
            self.loop.deadline += time.monotonic() - started
