"""`Agents`: the engine's `AgentRunner` — one attempt of a task, or one QA check.

Outcomes of `run_attempt` (the engine maps them to transitions):

- FINISHED: the worker called `finish`; QA comes next.
- INTERRUPTED with `needs_human`: the worker called `ask_human` (question in
  `needs_human`, suggested answers in `human_options`); a human's answer comes back
  as the next attempt's `guidance`.
- INTERRUPTED without `needs_human`: the request's cancel event was set.
- ERROR: the model failed for good (after the gateway's retries) or the board failed;
  with `needs_human` when a person must act (authentication, unknown model).
- BUDGET_EXCEEDED (always with `needs_human`): a token/money budget or provider quota.
- TIMEOUT: the attempt's time limit. STALLED: the turn limit, answers without tool calls,
  or the watchdog (agents/watchdog.py) seeing a loop after its one warning.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bosun_protocol.entities import AttemptOutcome, Profile, Run

from bosun.agents import reviewer
from bosun.agents.api import AttemptReport, AttemptRequest, CheckResult, QAReport, QARequest
from bosun.agents.brief import build_brief
from bosun.agents.context import ConversationWindow
from bosun.agents.loop import WorkerLoop
from bosun.agents.prepare import PREPARED_EVENT, Preparer, environment_note
from bosun.agents.profiles import AgentProfile, profile_of
from bosun.agents.progress import WorktreeWatch
from bosun.agents.qa import Strategist
from bosun.agents.qa_tools import QaTools, mcp_specs
from bosun.agents.spend import RunSpend, SpendWatch
from bosun.agents.transcript import DeltaSink, Transcript
from bosun.agents.watchdog import Watchdog
from bosun.board.store import Store
from bosun.config import Settings
from bosun.errors import BosunError, ClusterUnavailableError, WorkerLostError
from bosun.executors.place import Executor, LocalExecutor, Place
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage
from bosun.llm.model import CallContext
from bosun.observe.spans import attempt_span
from bosun.tools.context import ToolContext
from bosun.tools.executor import ToolExecutor
from bosun.tools.sandbox import Sandbox
from bosun.tools.sandbox_session import attempt_sandbox

if TYPE_CHECKING:
    from bosun.tools.mcp.attempt import AttemptMcp

log = logging.getLogger(__name__)
PLACED_EVENT = "attempt.placed"


def _mcp_scope(
    ctx: ToolContext, settings: Settings
) -> contextlib.AbstractAsyncContextManager[AttemptMcp | None]:
    """The attempt's MCP servers; the SDK is imported only where some are configured."""
    if not settings.mcp.servers:
        return contextlib.nullcontext(None)
    from bosun.tools.mcp.attempt import attempt_mcp

    return attempt_mcp(ctx, settings.mcp)


def _usable(path: Path) -> bool:
    return path.is_absolute() and path.is_dir()


class Agents:
    """Runs worker attempts and QA checks for the engine."""

    def __init__(
        self,
        gateway: ModelGateway,
        executor: ToolExecutor,
        store: Store,
        settings: Settings,
        *,
        on_delta: DeltaSink | None = None,
        sandbox: Sandbox | None = None,
        hidden_paths: Sequence[Path] = (),
        context_chars: int | None = None,
        max_tokens: int | None = None,
        qa_max_asks: int = 3,
        preparer: Preparer | None = None,
        placement: Executor | None = None,
    ) -> None:
        self.gateway = gateway
        self.executor = executor
        self.store = store
        self.settings = settings
        self.on_delta = on_delta
        self.sandbox = sandbox
        self.hidden_paths = list(hidden_paths)
        self.preparer = preparer  # None: worktrees are used as they are (no set-up)
        self.placement: Executor = placement or LocalExecutor()  # where tools and checks run
        self.run_spend: dict[int, RunSpend] = {}  # per run: its calls' tokens (watchdog)
        # The arguments win over `[agents]` (tests and benchmarks set them directly).
        agents = settings.agents
        self.context_chars = context_chars or agents.context_chars
        self.max_tokens = max_tokens or agents.max_tokens
        self.strategist = Strategist(
            gateway, settings, sandbox=sandbox, hidden=self.hidden_paths, max_asks=qa_max_asks
        )

    def tool_context(self, request: AttemptRequest) -> ToolContext:
        """The tools' view of an attempt: its worktree, profile, seams and limits."""
        return ToolContext(
            run_id=request.run.id,
            task_id=request.task.id,
            attempt=request.attempt,
            worktree_path=request.worktree,
            branch=request.branch,
            profile=request.task.profile,
            settings=self.settings.tools,
            approver=request.approver,
            events=self.store,
            host=request.host,
            sandbox=self.sandbox,
            hidden_paths=self.hidden_paths,
        )

    @contextlib.asynccontextmanager
    async def _qa_tools(self, tool_ctx: ToolContext) -> AsyncIterator[QaTools | None]:
        """The strategist's MCP servers, for as long as it judges (as a worker's run for
        its attempt); None when no server with tools applies to it."""
        async with _mcp_scope(tool_ctx, self.settings) as mcp:
            yield QaTools(self.executor, tool_ctx) if mcp and mcp.names() else None

    def qa_tool_context(self, request: QARequest) -> ToolContext:
        """The tools' view of a QA check: the strategist's profile in the task's worktree."""
        return ToolContext(
            run_id=request.run.id,
            task_id=request.task.id,
            attempt=request.attempt,
            worktree_path=request.worktree,
            branch=request.task.branch or "",
            profile=Profile.STRATEGIST,
            settings=self.settings.tools,
            approver=request.approver,
            events=self.store,
            sandbox=self.sandbox,
            hidden_paths=self.hidden_paths,
        )

    async def run_attempt(self, request: AttemptRequest) -> AttemptReport:
        """Run the task's worker profile in its worktree until finish, failure or a limit."""
        profile = profile_of(request.task.profile)
        worktree = await self.worktree_of(request.task.id, request.worktree)
        if worktree is None:
            why = f"the task has no worktree (given {str(request.worktree)!r})"
            return AttemptReport(outcome=AttemptOutcome.ERROR, error=why)
        request = replace(request, worktree=worktree)  # the caller's request stays as given
        tool_ctx = self.tool_context(request)
        place: Place | None = None
        try:
            # A merger resolves conflict markers the daemon wrote into its own worktree:
            # it always works here.
            if request.task.profile is not Profile.MERGER:
                place = await self.placement.open_attempt(request)
            if place is not None:
                tool_ctx.place = place
                await self._placed(request, place)
            failed = await self._prepare(request) if place is None else None
            if failed is not None:
                return failed
            brief = await build_brief(self.store, request)
            note = environment_note(worktree, self.settings)
            brief = f"{brief}\n\n{note}" if note else brief
            # One sandbox for the whole attempt (built at its first command), closed
            # however the attempt ends; its span is current for its model and tool calls.
            with attempt_span(request.run.id, request.task, request.attempt):
                async with attempt_sandbox(tool_ctx), _mcp_scope(tool_ctx, self.settings) as mcp:
                    notice = mcp.notice() if mcp is not None else ""  # the agent's to know
                    brief = f"{brief}\n\n{notice}" if notice else brief
                    return await self._work(request, profile, tool_ctx, brief, place)
        except ClusterUnavailableError:
            raise  # not the attempt's: the engine pauses dispatch (engine/service.py)
        except WorkerLostError as exc:
            log.warning("attempt %s of task %s lost its node: %s", request.attempt,
                        request.task.id, exc.message)  # fmt: skip
            return AttemptReport(
                outcome=AttemptOutcome.CRASHED, error=exc.message, worker_lost=True
            )
        except BosunError as exc:  # the board (transcript, events) failed under the attempt
            log.warning("attempt %s of task %s failed: %s", request.attempt, request.task.id, exc)
            return AttemptReport(outcome=AttemptOutcome.ERROR, error=exc.message)
        finally:
            if place is not None:
                await place.close()

    async def _placed(self, request: AttemptRequest, place: Place) -> None:
        """Say where the attempt runs (clients and tests read it from the event)."""
        await self.store.append_event(
            PLACED_EVENT,
            run_id=request.run.id,
            task_id=request.task.id,
            data={"attempt": request.attempt, "where": place.where},
        )

    async def _prepare(self, request: AttemptRequest) -> AttemptReport | None:
        """Run the worktree's set-up if it needs one; a failure waits for a human once,
        as an environment problem (no attempt can fix the set-up, so none is spent)."""
        if self.preparer is None or request.task.profile is Profile.MERGER:
            return None
        run_id, task_id = request.run.id, request.task.id
        done = await self.preparer.ensure(request.worktree, run_id=run_id, task_id=task_id)
        if done.ran:
            await self.store.append_event(
                PREPARED_EVENT, run_id=run_id, task_id=task_id, data=done.event()
            )
        if done.ok:
            return None
        return AttemptReport(
            outcome=AttemptOutcome.ERROR,
            error=f"the worktree's set-up `{done.command}` failed (an environment problem)",
            needs_human=done.problem(),
            human_kind="setup_failed",
        )

    async def _work(
        self,
        request: AttemptRequest,
        profile: AgentProfile,
        tool_ctx: ToolContext,
        brief: str,
        place: Place | None = None,
    ) -> AttemptReport:
        """The worker loop of one attempt, in its sandbox."""
        window = self.window(profile, brief)
        watchdog = self.watchdog(request, brief, local=place is None)
        if reviewer.configured(self.settings.llm, request.run.options):
            watchdog.reviewer = self.make_reviewer(request, profile, brief, window)
        loop = WorkerLoop(
            self.gateway,
            self.executor,
            request,
            profile=profile,
            tool_ctx=tool_ctx,
            tools=profile.tools(self.executor.registry) + mcp_specs(tool_ctx),
            window=window,
            transcript=Transcript(
                self.store,
                request.task.id,
                request.attempt,
                self.on_delta,
                limit_chars=self.settings.agents.transcript_chars,
            ),
            max_tokens=self.max_tokens,
            watchdog=watchdog,
            settle=(lambda: place.settle(request.worktree)) if place is not None else None,
        )
        return await loop.run()

    def make_reviewer(
        self,
        request: AttemptRequest,
        profile: AgentProfile,
        brief: str,
        window: ConversationWindow,
    ) -> reviewer.Reviewer:
        """The attempt's reviewer (reviewer.py), reading the window's exchange."""
        ctx = CallContext(role=profile.role, run_id=request.run.id, task_id=request.task.id,
                          task_key=request.task.key, attempt=request.attempt)  # fmt: skip
        return reviewer.Reviewer(self.gateway, ctx, request.run.options, brief,
                                 lambda: window.exchange,
                                 every=self.settings.agents.review_every)  # fmt: skip

    def watchdog(self, request: AttemptRequest, brief: str, *, local: bool = True) -> Watchdog:
        """An attempt's watchdog, with the rules `[agents]` turns on (the worktree rules
        only where the attempt works in the local worktree: a placed one settles back at
        its end)."""
        agents = self.settings.agents
        registry, profile = self.executor.registry, request.task.profile
        writes = any(registry.allowed(profile, t) for t in ("write_file", "edit_file"))
        progress = WorktreeWatch(request.worktree, request.task.base_commit, brief,
                                 idle_turns=agents.idle_turns, scope_limit=agents.scope_files,
                                 writes=writes)  # fmt: skip
        run = self.run_spend.setdefault(request.run.id, RunSpend())
        spend = SpendWatch(run, factor=agents.spend_factor, min_calls=agents.spend_min_calls)
        return Watchdog(
            repeat_limit=agents.repeat_limit,
            error_limit=agents.error_limit,
            window=agents.watch_window,
            progress=progress if local else None,
            spend=spend,
        )

    def window(self, profile: AgentProfile, brief: str) -> ConversationWindow:
        """A new attempt's conversation, bounded as `[agents]` says."""
        agents = self.settings.agents
        budget = self.context_chars
        compact_at = min(agents.compact_at_chars, budget)
        return ConversationWindow(
            system=ChatMessage.system(profile.prompt),
            brief=ChatMessage.user(brief),
            budget_chars=budget,
            compact_at=compact_at,
            compact_to=min(agents.compact_to_chars, compact_at // 2),
            keep_recent=agents.keep_recent,
            message_chars=agents.message_chars,
            argument_chars=agents.argument_chars,
        )

    async def worktree_of(self, task_id: int, given: Path) -> Path | None:
        """The directory to work in: `given` when it is a real one, else the board's record.

        Never the daemon's own directory: a relative or missing path would otherwise
        send the agent (or QA's test run) into the user's checkout.
        """
        if _usable(given):
            return given
        try:
            recorded = (await self.store.get_task(task_id)).worktree
        except BosunError:
            return None
        if recorded and _usable(Path(recorded)):
            log.warning("task %s: worktree %r given, using %s from the board", task_id,
                        str(given), recorded)  # fmt: skip
            return Path(recorded)
        return None

    async def run_baseline(
        self, run: Run, worktree: Path, test_command: str | None
    ) -> CheckResult | None:
        """The test command's results on a checkout of the run's base (None: no tests,
        or the comparison with the base is turned off)."""
        suite = self.strategist.suite
        command = suite.command_for(worktree, test_command)
        if not self.settings.qa.baseline or command is None:
            return None
        setup = self.preparer.setup_command(worktree) if self.preparer else None
        if self.preparer is not None and setup is not None:
            # The base is tested with the project's environment, as the tasks are; the
            # checkout is thrown away afterwards, so nothing is recorded for it.
            done = await self.preparer.run(setup, worktree, run_id=run.id)
            if not done.ok:
                why = done.problem()
                return CheckResult(command, None, done.output[-4000:], cannot_run=why)
        return await suite.run(command, worktree, run)

    async def run_qa(self, request: QARequest) -> QAReport:
        """Deterministic checks first, then a verdict per acceptance criterion."""
        worktree = await self.worktree_of(request.task.id, request.worktree)
        if worktree is None:
            return QAReport(
                passed=False,
                error=f"the task has no worktree to check (given {str(request.worktree)!r})",
            )
        request = replace(request, worktree=worktree)
        tool_ctx = self.qa_tool_context(request)
        place: Place | None = None
        try:
            if request.task.profile is not Profile.MERGER:
                place = await self.placement.open_check(request)
            request = replace(request, place=place)
            with attempt_span(request.run.id, request.task, request.attempt, "bosun.qa"):
                return await self.strategist.judge(request, lambda: self._qa_tools(tool_ctx))
        except ClusterUnavailableError:
            raise
        except WorkerLostError as exc:
            return QAReport(passed=False, error=f"QA's node was lost: {exc.message}")
        except BosunError as exc:
            return QAReport(passed=False, error=f"QA failed: {exc.message}")
        except OSError as exc:
            return QAReport(passed=False, error=f"QA could not run: {exc}")
        finally:
            if place is not None:
                await place.close()
