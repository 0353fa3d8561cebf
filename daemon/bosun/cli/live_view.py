"""A run watched live in the terminal: task states, attempts, cost, and human prompts.

Spend shows as it grows: each task line carries the task's spend so far, and a
`spent …` line with the run's total and its costliest tasks follows whenever the total
changed, at most every `spend_every_s` seconds (a model call each second would
otherwise drown the task lines). A model call's cost reaches the client as one board
event told three ways, in this order: the run changed, the task changed, the event
itself. The `spent` line waits for the event, so its costliest tasks include the call
whose cost moved the total (drawn at the run's notification, they lagged one call).

Used by `bosun run` and `bosun demo`. Prompts are answered by an `Answerer` (the demo's
automatic one, or a person at the terminal); any other client may answer first, and
then the terminal is told who did.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from bosun.client import Client, RpcError

log = logging.getLogger(__name__)

ENDED = {"completed", "failed", "cancelled"}

# answer(prompt) -> resolveTask params (without ids), or None to leave it to another client.
Answerer = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def cost_text(cost: dict[str, Any]) -> str:
    """Tokens and money in one short phrase."""
    usd = cost.get("usd")
    money = "price unknown" if usd is None else f"${usd:.4f}"
    tokens = cost.get("inputTokens", 0) + cost.get("outputTokens", 0)
    text = f"{tokens} tokens, {cost.get('calls', 0)} calls, {money}"
    if cost.get("cachedTokens"):
        text += f", {cost['cachedTokens']} from cache"
    if cost.get("estimatedTokens"):
        text += f", {cost['estimatedTokens']} estimated"
    return text


def _tokens(cost: dict[str, Any]) -> int:
    return int(cost.get("inputTokens", 0) + cost.get("outputTokens", 0))


def _spend(cost: dict[str, Any]) -> str:
    """A task's spend, short (`$0.0123`, or tokens when unpriced); "" before any."""
    tokens = _tokens(cost)
    if not tokens:
        return ""
    usd = cost.get("usd")
    return f"{tokens:,} tok" if usd is None else f"${usd:.4f}"


class LiveView:
    """Prints what happens to one run and answers its prompts until it ends."""

    def __init__(
        self,
        client: Client,
        answer: Answerer | None = None,
        *,
        out: TextIO | None = None,
        spend_every_s: float = 5.0,
    ) -> None:
        self.client = client
        self.spend_every_s = spend_every_s
        self._spent: tuple[int, float | None] | None = None  # last total shown
        self._spent_at: float | None = None
        self._task_costs: dict[int, tuple[str, dict[str, Any]]] = {}
        self._unshown: dict[str, Any] | None = None  # the run, until its event's task came
        self.answer = answer
        self.out = out or sys.stdout
        self.run_id: int | None = None
        self.started = time.monotonic()
        self.ended: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._early: list[tuple[str, dict[str, Any]]] = []
        self._seen: dict[int, tuple[str, int]] = {}
        self._state: str | None = None
        self._answered: set[str] = set()
        self._jobs: set[asyncio.Task[None]] = set()
        client.on_notification(self.on_notification)

    def say(self, text: str) -> None:
        """One line of progress, stamped with the seconds since the start."""
        print(f"{time.monotonic() - self.started:6.1f}s  {text}", file=self.out, flush=True)

    def follow(self, run_id: int) -> None:
        """Watch `run_id` (notifications that came before are replayed)."""
        self.run_id = run_id
        early, self._early = self._early, []
        for method, params in early:
            self.on_notification(method, params)

    def on_notification(self, method: str, params: dict[str, Any]) -> None:
        """Route one daemon notification."""
        if self.run_id is None:
            self._early.append((method, params))
            return
        if method == "bosun/taskChanged":
            self._task(params["task"])
        elif method == "bosun/runChanged":
            self._run(params["run"])
        elif method == "bosun/event" and self._unshown is not None:
            run, self._unshown = self._unshown, None
            self._spend_line(run)
        elif method == "bosun/humanPrompt":
            prompt = params["prompt"]
            if prompt.get("runId") == self.run_id:
                job = asyncio.get_running_loop().create_task(self._prompt(prompt))
                self._jobs.add(job)
                job.add_done_callback(self._jobs.discard)
        elif method == "bosun/promptResolved" and params.get("runId") == self.run_id:
            self._resolved(params)

    def _resolved(self, params: dict[str, Any]) -> None:
        if params["promptId"] not in self._answered:
            self.say(f"prompt {params['promptId']} answered by {params['by']}: {params['action']}")

    def _task(self, task: dict[str, Any]) -> None:
        if task["runId"] != self.run_id:
            return
        self._task_costs[task["id"]] = (task["key"], task.get("cost") or {})
        now = (task["state"], task["attempt"])
        if self._seen.get(task["id"]) == now:
            return
        self._seen[task["id"]] = now
        extra = f" — {task['reason'][:90]}" if task.get("reason") else ""
        spent = _spend(task.get("cost") or {})
        self.say(
            f"#{task['id']:<3} {task['key']:<12} {task['profile']:<10} "
            f"{task['state']:<15} attempt {task['attempt']}{', ' + spent if spent else ''}{extra}"
        )

    def _spend_line(self, run: dict[str, Any]) -> None:
        """`spent …` when the run's total moved, throttled."""
        cost = run.get("cost") or {}
        total = (cost.get("inputTokens", 0) + cost.get("outputTokens", 0), cost.get("usd"))
        if total == self._spent or total[0] == 0:
            return
        now = time.monotonic()
        if self._spent_at is not None and now - self._spent_at < self.spend_every_s:
            return
        self._spent, self._spent_at = total, now
        ranked = sorted(
            ((k, c) for k, c in self._task_costs.values() if _spend(c)),
            key=lambda kc: (kc[1].get("usd") or 0, _tokens(kc[1])),
            reverse=True,
        )
        top = ", ".join(f"{k} {_spend(c)}" for k, c in ranked[:3])
        self.say(f"spent {cost_text(cost)}" + (f" ({top})" if top else ""))

    def _run(self, run: dict[str, Any]) -> None:
        if run["id"] != self.run_id:
            return
        if run["state"] != self._state and run["state"] not in ENDED:
            self._state = run["state"]  # planning, running, paused, landing
            self.say(f"run {run['id']} {run['state']}")
        if run["state"] not in ENDED:
            self._unshown = run  # shown at its event, after its task's notification
        if run["state"] in ENDED and not self.ended.done():
            self.say(f"run {run['id']} {run['state']} ({cost_text(run['cost'])})")
            self.ended.set_result(run)

    async def _prompt(self, prompt: dict[str, Any]) -> None:
        where = f"task #{prompt['taskId']}" if prompt.get("taskId") else "the run"
        self.say(f"HUMAN NEEDED for {where} ({prompt['kind']}): {prompt['reason']}")
        if self.answer is None:
            self.say("  answer it with `bosun resolve` or from your editor")
            return
        try:
            reply = await self.answer(prompt)
        except (EOFError, KeyboardInterrupt):
            reply = None
        if reply is None:
            return
        params = {"promptId": prompt["promptId"], "taskId": prompt.get("taskId"), **reply}
        try:
            await self.client.request("bosun/resolveTask", params)
            self._answered.add(prompt["promptId"])
            said = reply.get("choice") or reply.get("guidance")
            shown = f" ({said})" if said else ""
            self.say(f"  answered: {reply['action']}{shown}")
        except RpcError as exc:
            self.say(f"  not sent: {exc.message}")

    async def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """The run once it has ended."""
        return await asyncio.wait_for(asyncio.shield(self.ended), timeout)

    async def close(self) -> None:
        """Stop answering prompts."""
        for job in list(self._jobs):
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)


def terminal_answerer(lock: asyncio.Lock | None = None) -> Answerer:
    """Ask the person at the terminal, one prompt at a time."""
    guard = lock or asyncio.Lock()

    async def answer(prompt: dict[str, Any]) -> dict[str, Any] | None:
        async with guard:
            options = list(prompt.get("options") or ["retry", "abandon"])
            if prompt["kind"] == "ask_human":
                choices = list(prompt.get("choices") or [])
                for i, choice in enumerate(choices, 1):
                    print(f"  {i}) {choice}", flush=True)
                hint = f"1-{len(choices)} or your own; " if choices else ""
                text = await asyncio.to_thread(input, f"  your answer ({hint}empty: abandon) > ")
                text = text.strip()
                if text.isdigit() and 1 <= int(text) <= len(choices):
                    return {"action": "retry", "choice": choices[int(text) - 1], "by": "terminal"}
                if text:
                    return {"action": "retry", "guidance": text, "by": "terminal"}
                return {"action": "abandon", "by": "terminal"}
            choice = await asyncio.to_thread(input, f"  choose {'/'.join(options)} > ")
            action = choice.strip().split(" ", 1)
            if not action[0] or action[0] not in options:
                print("  left unanswered (answer later with `bosun resolve`)", flush=True)
                return None
            reply: dict[str, Any] = {"action": action[0], "by": "terminal"}
            if len(action) > 1:
                reply["guidance"] = action[1]
            return reply

    return answer
