"""One ACP session: a conversation in one workspace whose prompts start and steer runs.

A turn (`session/prompt`) follows the session's run until it ends, or until it waits for
an answer the user put off: everything the daemon says about the run goes through one
inbox and is translated by `mapping` in order. Questions become permission requests;
one answered from another client is withdrawn (its tool call says who answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Literal

from acp import schema as acp
from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction
from bosun_protocol.entities import Run, Task, TaskState
from bosun_protocol.review import TaskDiffResult

from bosun.acp import mapping as m
from bosun.acp import review
from bosun.acp.calls import AttemptCalls
from bosun.acp.daemons import GONE, DaemonLink
from bosun.client import RpcError
from bosun.server.plain_text import end_message

log = logging.getLogger(__name__)

StopReason = Literal["end_turn", "cancelled"]
ANSWER_COMMANDS = frozenset({"/abandon", "/approve", "/reject"})
_DIFF_STATES = frozenset({TaskState.COMPLETE, TaskState.AWAITING_REVIEW})


class Session:
    """A session's state and its turns."""

    def __init__(self, session_id: str, link: DaemonLink, editor: Any) -> None:
        self.id = session_id
        self.link = link
        self.editor = editor  # the ACP client connection (session_update, request_permission)
        self.run_id: int | None = None
        self.tasks: dict[int, Task] = {}
        self._started: set[str] = set()  # tool call ids the editor has seen start
        self._diffed: set[int] = set()
        self._asking: dict[str, asyncio.Task[None]] = {}  # prompt id → its permission request
        self._reviewing: dict[int, asyncio.Task[None]] = {}  # task id → its review request
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._calls = AttemptCalls(link, self.send, self._started)
        self.in_turn = False
        self.by = f"ACP session {session_id}"  # how this session's answers are signed
        link.listeners.add(self._on_daemon)

    def rebind(self, link: DaemonLink) -> None:
        """Listen to a new connection to the workspace's daemon (after it restarted)."""
        self.link.listeners.discard(self._on_daemon)
        self.link = link
        self._calls.link = link
        link.listeners.add(self._on_daemon)

    def close(self) -> None:
        """Stop listening (the run goes on in the daemon)."""
        self.link.listeners.discard(self._on_daemon)
        for task in [*self._asking.values(), *self._reviewing.values()]:
            task.cancel()

    # -- what the daemon says --------------------------------------------------------------

    def _on_daemon(self, method: str, params: dict[str, Any]) -> None:
        if self.run_id is None or not self.in_turn:
            return
        if method == GONE:
            self._inbox.put_nowait((GONE, None))
            return
        if method == "bosun/transcriptDelta":
            if params.get("taskId") in self.tasks:
                self._inbox.put_nowait((method, params))
            return
        run_id = (params.get("task") or params.get("run") or params.get("prompt") or params).get(
            "runId", (params.get("run") or {}).get("id")
        )
        if run_id == self.run_id:
            self._inbox.put_nowait((method, params))

    async def send(self, update: Any) -> None:
        """One session/update to the editor."""
        await self.editor.session_update(session_id=self.id, update=update)

    # -- turns -----------------------------------------------------------------------------

    async def prompt(self, text: str) -> StopReason:
        """Start an objective, or answer the run's waiting question, then follow the run."""
        self.in_turn = True
        try:
            run = await self._current_run()
            if run is not None and run.state not in m.FINISHED_RUNS:
                await self._answer_with(text)
                return await self._follow(run.id)
            command = text.strip().split(maxsplit=1)[0]
            if command in ANSWER_COMMANDS:  # never an objective by accident
                await self.send(m.agent_text(f"Nothing waits for {command}: no run is live.\n"))
                return "end_turn"
            result = await self.link.request("bosun/createRun", {"objective": text})
            run = Run.model_validate(result["run"])
            self.run_id, self.tasks, self._diffed = run.id, {}, set()
            branch = f" on {run.run_branch}" if run.run_branch else ""
            await self.send(m.agent_text(f"Bosun run {run.id} started{branch}.\n"))
            return await self._follow(run.id)
        finally:
            self.in_turn = False
            self._calls.speaker = None

    def cancel(self) -> None:
        """session/cancel: the turn's run is cancelled; the turn ends `cancelled`."""
        if self.in_turn:
            self._inbox.put_nowait(("_cancel", None))

    async def _current_run(self) -> Run | None:
        if self.run_id is None:
            return None
        found = await self.link.request("bosun/getRun", {"runId": self.run_id})
        return Run.model_validate(found["run"])

    async def _answer_with(self, text: str) -> None:
        """A message while the run waits: the first open question's free-text answer, or
        else the review of a task awaiting one."""
        queue = await self.link.request("bosun/humanQueue", {"runId": self.run_id})
        prompts = [HumanPrompt.model_validate(p) for p in queue["prompts"]]
        words = text.strip()
        target = next((p for p in prompts if ResolveAction.RETRY in p.options), None)
        if target is not None and words:
            action, guidance = ResolveAction.RETRY, words
            if words.startswith("/abandon"):
                action, guidance = ResolveAction.ABANDON, words.removeprefix("/abandon").strip()
            await self._resolve(target, action, None, guidance=guidance or None)
            return
        found = await self.link.request("bosun/getRun", {"runId": self.run_id})
        waiting = [t for t in found["tasks"] if t["state"] == TaskState.AWAITING_REVIEW.value]
        if waiting and words:
            await self._review(int(waiting[0]["id"]), review.reply_decision(words))
        elif not prompts:
            note = f"Run {self.run_id} is still working; following it again.\n"
            await self.send(m.agent_text(note))
        # else: the turn asks the open questions again

    async def _follow(self, run_id: int) -> StopReason:
        """Show the run as it goes until it ends (or waits on an answer put off)."""
        await self._refresh(run_id)
        queue = await self.link.request("bosun/humanQueue", {"runId": run_id})
        for raw in queue["prompts"]:
            self._ask(HumanPrompt.model_validate(raw))
        while True:
            kind, params = await self._inbox.get()
            if kind == "_cancel":
                with contextlib.suppress(RpcError):
                    await self.link.request(
                        "bosun/cancelRun", {"runId": run_id, "reason": "cancelled in the editor"}
                    )
                await self.send(m.agent_text(f"Run {run_id} cancelled.\n"))
                return "cancelled"
            if kind == "_later":
                prompt: HumanPrompt = params
                await self.send(
                    m.agent_text(
                        f"Run {run_id} waits for your answer: {m.prompt_title(prompt, None)}\n"
                        "Reply with your answer (it goes to the agent as guidance), or "
                        "/abandon to give the task up.\n"
                    )
                )
                return "end_turn"
            if kind == GONE:
                note = (
                    f"Bosun's daemon went away; run {run_id} goes on when it is back. "
                    "Send a message to follow it again.\n"
                )
                await self.send(m.agent_text(note))
                return "end_turn"
            if kind == "_review_later":
                await self.send(m.agent_text(review.waiting_text(params)))
                return "end_turn"
            ended = await self._take(kind, params)
            if ended is not None:
                return ended

    async def _refresh(self, run_id: int) -> None:
        found = await self.link.request("bosun/getRun", {"runId": run_id})
        for raw in found["tasks"]:
            await self._task_changed(Task.model_validate(raw), plan=False)
        await self.send(m.plan_update(list(self.tasks.values())))

    async def _take(self, method: str, params: dict[str, Any]) -> StopReason | None:
        if method == "bosun/taskChanged":
            await self._task_changed(Task.model_validate(params["task"]))
        elif method == "bosun/runChanged":
            run = Run.model_validate(params["run"])
            if run.state in m.FINISHED_RUNS:
                await self.send(m.agent_text(self._ending(run)))
                return m.stop_reason(run)
        elif method == "bosun/humanPrompt":
            self._ask(HumanPrompt.model_validate(params["prompt"]))
        elif method == "bosun/promptResolved":
            await self._resolved_elsewhere(params)
        elif method == "bosun/transcriptDelta":
            await self._calls.delta(self.tasks[params["taskId"]], params)
        return None

    # -- tasks and their tool calls --------------------------------------------------------

    async def _task_changed(self, task: Task, *, plan: bool = True) -> None:
        known = task.id in self.tasks
        self.tasks[task.id] = task
        call = m.task_call_id(task.id)
        if call not in self._started:
            self._started.add(call)
            await self.send(m.task_call(task))
        content: list[Any] | None = None
        if task.state in _DIFF_STATES and task.id not in self._diffed:
            self._diffed.add(task.id)
            content = await self._diff(task)
        if known or content:
            await self.send(m.task_update(task, content))
        if task.state is TaskState.AWAITING_REVIEW and self.in_turn:
            self._ask_review(task)
        elif task.id in self._reviewing:  # reviewed elsewhere: stop waiting for the editor
            self._reviewing.pop(task.id).cancel()
        if plan:
            await self.send(m.plan_update(list(self.tasks.values())))

    async def _diff(self, task: Task) -> list[Any] | None:
        try:
            raw = await self.link.request("bosun/taskDiff", {"taskId": task.id})
        except RpcError as exc:
            log.info("no diff for task %d: %s", task.id, exc.message)
            return None
        files = TaskDiffResult.model_validate(raw).files
        return list(m.diff_content(files)) or None

    # -- questions as permission requests --------------------------------------------------

    def _ask(self, prompt: HumanPrompt) -> None:
        if prompt.prompt_id in self._asking:
            return
        task = asyncio.create_task(self._permission(prompt), name=f"acp-ask-{prompt.prompt_id}")
        self._asking[prompt.prompt_id] = task
        task.add_done_callback(lambda _: self._asking.pop(prompt.prompt_id, None))

    async def _permission(self, prompt: HumanPrompt) -> None:
        task = self.tasks.get(prompt.task_id) if prompt.task_id is not None else None
        call = m.prompt_call_id(prompt)
        if call not in self._started:  # the run's landing has no task of its own
            self._started.add(call)
            await self.send(
                acp.ToolCallStart(
                    session_update="tool_call", tool_call_id=call, title="Land the run",
                    kind="edit", status="pending",
                )
            )  # fmt: skip
        options, answers = m.permission_options(prompt)
        asked = acp.ToolCallUpdate(tool_call_id=call, title=m.prompt_title(prompt, task))
        try:
            reply = await self.editor.request_permission(
                session_id=self.id, tool_call=asked, options=options
            )
        except Exception as exc:  # the editor failed the request: the question stays open
            log.info("permission request for %s failed: %s", prompt.prompt_id, exc)
            self._inbox.put_nowait(("_later", prompt))
            return
        outcome = reply.outcome
        if isinstance(outcome, acp.DeniedOutcome) or outcome.option_id not in answers:
            self._inbox.put_nowait(("_later", prompt))  # put off: the next message answers
            return
        action, choice, always = answers[outcome.option_id]
        bare_retry = action is ResolveAction.RETRY and choice is None
        if bare_retry and prompt.kind is not PromptKind.LANDING:
            self._inbox.put_nowait(("_later", prompt))  # retry takes the user's next words
            return
        await self._resolve(prompt, action, choice, always=always)

    async def _resolve(
        self,
        prompt: HumanPrompt,
        action: ResolveAction,
        choice: str | None,
        *,
        always: bool = False,
        guidance: str | None = None,
    ) -> None:
        params: dict[str, Any] = {
            "promptId": prompt.prompt_id,
            "action": action.value,
            "by": self.by,
        }
        if choice is not None:
            params["choice"] = choice
        if always:
            params["always"] = True
        if guidance:
            params["guidance"] = guidance
        try:
            await self.link.request("bosun/resolveTask", params)
        except RpcError as exc:
            await self.send(m.agent_text(f"Your answer was not applied: {exc.message}\n"))

    async def _resolved_elsewhere(self, params: dict[str, Any]) -> None:
        asking = self._asking.pop(params["promptId"], None)
        if asking is None or params.get("by") == self.by:
            return
        asking.cancel()  # the editor's dialog is answered for it: its tool call says how
        call = (
            m.task_call_id(params["taskId"])
            if params.get("taskId") is not None
            else f"landing-{params['runId']}"
        )
        note = f"Answered by {params.get('by')} ({params.get('action')})."
        await self.send(
            acp.ToolCallProgress(
                session_update="tool_call_update",
                tool_call_id=call,
                content=[m.text_content(note)],
            )
        )

    # -- reviews -------------------------------------------------------------------------

    def _ask_review(self, task: Task) -> None:
        if task.id in self._reviewing:
            return
        job = asyncio.create_task(self._review_request(task), name=f"acp-review-{task.id}")
        self._reviewing[task.id] = job
        job.add_done_callback(lambda _: self._reviewing.pop(task.id, None))

    async def _review_request(self, task: Task) -> None:
        try:
            reply = await self.editor.request_permission(
                session_id=self.id,
                tool_call=review.review_call(task),
                options=review.review_options(),
            )
        except Exception as exc:
            log.info("review request for task %d failed: %s", task.id, exc)
            self._inbox.put_nowait(("_review_later", task))
            return
        outcome = reply.outcome
        chosen = None if isinstance(outcome, acp.DeniedOutcome) else outcome.option_id
        made = review.decision(chosen) if chosen else None
        if made is None:  # changes to write, or put off: the next message is the review
            self._inbox.put_nowait(("_review_later", task))
            return
        await self._review(task.id, made)

    async def _review(self, task_id: int, made: dict[str, Any]) -> None:
        try:
            await self.link.request("bosun/reviewTask", {"taskId": task_id, "decision": made})
        except RpcError as exc:
            await self.send(m.agent_text(f"Your review was not applied: {exc.message}\n"))

    def _ending(self, run: Run) -> str:
        counts: dict[str, int] = {}
        for t in self.tasks.values():
            counts[t.state.value] = counts.get(t.state.value, 0) + 1
        return f"Bosun {end_message(run, counts)}.{m.spend_text(run)}\n"

    # -- a run's history -------------------------------------------------------------------

    async def attach(self, run_id: int, *, replay: bool) -> None:
        """Make `run_id` this session's run (session/load, session/resume); with `replay`,
        tell the editor its history: the objective, the plan, each task with its diff, and
        how it ended (or that it waits)."""
        found = await self.link.request("bosun/getRun", {"runId": run_id})
        run = Run.model_validate(found["run"])
        self.run_id = run.id
        if not replay:
            for raw in found["tasks"]:
                task = Task.model_validate(raw)
                self.tasks[task.id] = task
                self._started.add(m.task_call_id(task.id))
            return
        await self.send(m.user_text(run.objective))
        for raw in found["tasks"]:
            await self._task_changed(Task.model_validate(raw), plan=False)
        await self.send(m.plan_update(list(self.tasks.values())))
        if run.state in m.FINISHED_RUNS:
            await self.send(m.agent_text(self._ending(run)))
            return
        queue = await self.link.request("bosun/humanQueue", {"runId": run.id})
        for raw in queue["prompts"]:
            prompt = HumanPrompt.model_validate(raw)
            await self.send(
                m.agent_text(
                    f"Run {run.id} waits for your answer: {m.prompt_title(prompt, None)}\n"
                    "Reply with your answer, or /abandon.\n"
                )
            )
