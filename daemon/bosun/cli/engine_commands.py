"""`bosun run`, `log`, `resolve`, `interrupt`, `cancel`, `pause`, `resume`, `replay`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bosun.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    fail,
    guarded,
    print_json,
    print_json_line,
    run_async,
    with_client,
    workspace_of,
)
from bosun.cli.live_view import LiveView, cost_text, terminal_answerer
from bosun.cli.task_names import task_id
from bosun.errors import BosunError

if TYPE_CHECKING:
    from bosun.config import Settings
    from bosun.llm.settings import LlmSettings

_ENDED_TASK = {"complete", "abandoned"}


def add_parsers(sub: Any) -> None:
    """Register the commands that drive runs."""
    run = sub.add_parser("run", help="work on an objective in this repository")
    run.add_argument("objective")
    run.add_argument("--model", help="provider:model for every role (e.g. openai:gpt-4.1)")
    run.add_argument("--workers", type=int, help="attempts running at once in this run")
    run.add_argument("--review", choices=["on", "off"], help="review each task before merging")
    run.add_argument(
        "--base", metavar="BRANCH", help="build on this branch and land on it (default: HEAD's)"
    )
    run.add_argument("--budget-tokens", type=int, help="this run's token limit (input + output)")
    run.add_argument("--budget-usd", type=float, help="this run's money limit in USD")
    run.add_argument("--detach", action="store_true", help="start the run and return")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=guarded(cmd_run))

    log = sub.add_parser("log", help="a task's transcript")
    log.add_argument("task", help="the task: its id, its key, or RUN/KEY")
    log.add_argument("--attempt", type=int, help="one attempt (default: all)")
    log.add_argument("--follow", "-f", action="store_true", help="keep printing live output")
    log.add_argument("--json", action="store_true")
    log.set_defaults(func=guarded(cmd_log))

    res = sub.add_parser("resolve", help="answer a task waiting for a human")
    res.add_argument(
        "task", nargs="?", help="the task: its id, its key, or RUN/KEY (none with --prompt)"
    )
    res.add_argument("action", choices=["retry", "abandon", "spawn", "approve", "deny"])
    res.add_argument("--guidance", "-g", help="added instructions (retry), reason (deny)")
    res.add_argument("--choice", help="retry: one of the agent's suggested answers, as yours")
    res.add_argument("--description", help="a new description (retry, spawn)")
    res.add_argument("--criterion", action="append", help="replace the acceptance criteria")
    res.add_argument("--always", action="store_true", help="approve: for the rest of the run")
    res.add_argument("--prompt", help="answer this prompt id exactly")
    res.add_argument("--json", action="store_true")
    res.set_defaults(func=guarded(cmd_resolve))

    intr = sub.add_parser("interrupt", help="stop an active task and ask a human")
    intr.add_argument("task", help="the task: its id, its key, or RUN/KEY")
    intr.add_argument("--reason", default="interrupted from the command line")
    intr.add_argument("--json", action="store_true")
    intr.set_defaults(func=guarded(cmd_interrupt))

    for name, method, text in (
        ("cancel", "bosun/cancelRun", "abandon a run's unfinished work"),
        ("pause", "bosun/pauseRun", "start no new attempts in a run"),
        ("resume", "bosun/resumeRun", "dispatch a paused run's tasks again"),
    ):
        ctl = sub.add_parser(name, help=text)
        ctl.add_argument("run", type=int)
        ctl.add_argument("--reason", default="")
        ctl.add_argument("--json", action="store_true")
        ctl.set_defaults(func=guarded(_run_control(method)))

    rep = sub.add_parser("replay", help="run a recorded run again from its recorded answers")
    rep.add_argument("run", type=int)
    rep.add_argument(
        "--base",
        choices=["recorded", "head"],
        default="recorded",
        help="start at the recorded run's base commit (default) or the base branch's head",
    )
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=guarded(cmd_replay))


# --- bosun run -----------------------------------------------------------------------------


def missing_key(
    model: str | None, settings: LlmSettings, env: dict[str, str] | None = None
) -> str | None:
    """Why the models of a run cannot be reached (no API key…), or None when they can.

    `model` is the run's `--model` (every role uses it); None means the configured ones.
    """
    from bosun.llm.providers import OFFLINE, resolve_endpoint, split_name
    from bosun.llm.roles import configured_models

    for name in [model] if model else configured_models(settings):
        try:
            provider, _ = split_name(name)
            if provider not in OFFLINE:
                resolve_endpoint(provider, settings, env if env is not None else dict(os.environ))
        except BosunError as exc:
            return (
                f"{exc.message}.\nSet the key in your environment (for example "
                f"`export OPENAI_API_KEY=...` or `export ANTHROPIC_API_KEY=...`) or in "
                f".bosun/config.toml under [llm.providers.<name>]. To try bosun offline, "
                f"`--model scripted:demo` works without any key (and `bosun demo` shows a "
                f"whole run)."
            )
    return None


def budget_line(
    settings: LlmSettings, model: str, tokens: int | None = None, usd: float | None = None
) -> str:
    """The budgets a run starts with, in one line (config, then the run's own limits)."""
    from bosun_protocol.entities import RunOptions

    from bosun.llm.budget import BudgetLimits, describe_limits
    from bosun.llm.pricing import price_for

    limits = BudgetLimits.of(settings.budget, RunOptions(budget_tokens=tokens, budget_usd=usd))
    return describe_limits(limits, priced=price_for(model, settings.prices) is not None)


def _load_settings(args: argparse.Namespace) -> Settings:
    from bosun.config import load_settings

    return load_settings(workspace_of(args).config_path)


async def summarize(client: Any, run_id: int) -> dict[str, Any]:
    """A run with its tasks and their attempts, for the end of `bosun run`."""
    detail = await client.request("bosun/getRun", {"runId": run_id})
    tasks = []
    for task in detail["tasks"]:
        res = await client.request("bosun/getTask", {"taskId": task["id"]})
        tasks.append({**task, "attempts": res["attempts"]})
    return {"run": detail["run"], "tasks": tasks}


def print_summary(summary: dict[str, Any]) -> None:
    """The end-of-run table for people."""
    run = summary["run"]
    print(f"\nrun {run['id']} {run['state']}: {run['objective'][:80]}")
    if run.get("reason"):
        print(f"  {run['reason']}")
    for t in summary["tasks"]:
        tries = ", ".join(f"{a['number']}: {a['outcome']}" for a in t["attempts"]) or "-"
        print(f"  #{t['id']:<4} {t['key']:<16} {t['state']:<15} {tries}")
    print(f"  cost: {cost_text(run['cost'])}")
    if run.get("runBranch"):
        print(f"  branch: {run['runBranch']}")


async def watch_run(client: Any, run: dict[str, Any], args: argparse.Namespace) -> int:
    """Follow `run` to its end with live progress, answering prompts at the terminal."""
    out = sys.stderr if args.json else sys.stdout
    answer = terminal_answerer() if sys.stdin.isatty() else None
    view = LiveView(client, answer, out=out)
    view.follow(run["id"])
    # Prompts opened before we listened (another client started it, or a restart).
    queue = await client.request("bosun/humanQueue", {"runId": run["id"]})
    for prompt in queue["prompts"]:
        view.on_notification("bosun/humanPrompt", {"prompt": prompt})
    current = (await client.request("bosun/getRun", {"runId": run["id"]}))["run"]
    view.on_notification("bosun/runChanged", {"run": current})
    try:
        ended = await view.wait()
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(
            f"\nstopped watching; run {run['id']} goes on in the daemon "
            f"(`bosun cancel {run['id']}` stops it)",
            file=sys.stderr,
        )
        return 130
    finally:
        await view.close()
    summary = await summarize(client, run["id"])
    if args.json:
        print_json(summary)
    else:
        print_summary(summary)
    return EXIT_OK if ended["state"] == "completed" else EXIT_ERROR


def cmd_run(args: argparse.Namespace) -> int:
    """Start a run on the objective and follow it."""
    settings = _load_settings(args)
    model = args.model or settings.llm.default_model
    problem = missing_key(args.model, settings.llm)
    if problem is not None:
        return fail(problem)
    options: dict[str, Any] = {}
    if args.model:
        options["model"] = args.model
    if args.workers:
        options["workers"] = args.workers
    if args.review:
        options["reviewGate"] = args.review == "on"
    if args.base:
        options["baseBranch"] = args.base
    if args.budget_tokens is not None:
        options["budgetTokens"] = args.budget_tokens
    if args.budget_usd is not None:
        options["budgetUsd"] = args.budget_usd
    budget = budget_line(settings.llm, model, args.budget_tokens, args.budget_usd)

    async def body(client: Any) -> int:
        created = await client.request(
            "bosun/createRun", {"objective": args.objective, "options": options}
        )
        run = created["run"]
        if args.detach:
            if args.json:
                print_json(run)
            else:
                print(f"run {run['id']} started; follow it with `bosun status` or your editor")
            return EXIT_OK
        out = sys.stderr if args.json else sys.stdout
        print(f"run {run['id']} started with {model}", file=out)
        print(f"budget: {budget}", file=out)
        return await watch_run(client, run, args)

    return run_async(with_client(args, body))


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a recorded run (bosun.cli.replay_command)."""
    from bosun.cli.replay_command import cmd_replay as replay

    return replay(args)


# --- transcripts ---------------------------------------------------------------------------


def _show_message(m: dict[str, Any]) -> None:
    head = f"[{m['role']}" + (f" {m['name']}" if m.get("name") else "") + f" #{m['attempt']}]"
    print(head, m.get("content", "").rstrip())
    for call in m.get("toolCalls", []):
        print(f"  → {call.get('name')} {str(call.get('arguments', ''))[:400]}")


def cmd_log(args: argparse.Namespace) -> int:
    """A task's transcript, page by page; with --follow, then its live output."""

    async def body(client: Any) -> int:
        live: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        done = asyncio.get_running_loop().create_future()
        tid = await task_id(client, args.task)

        def on_note(method: str, params: dict[str, Any]) -> None:
            if method == "bosun/transcriptDelta" and params.get("taskId") == tid:
                live.put_nowait(params)
            elif method == "bosun/taskChanged" and params["task"]["id"] == tid:
                state = params["task"]["state"]
                if state in _ENDED_TASK and not done.done():
                    done.set_result(state)

        if args.follow:
            client.on_notification(on_note)
        after = 0
        while True:
            page = await client.request(
                "bosun/transcript",
                {"taskId": tid, "attempt": args.attempt, "afterId": after, "limit": 500},
            )
            for m in page["messages"]:
                print_json_line(m) if args.json else _show_message(m)
                after = m["id"]
            if not page["more"]:
                break
        if not args.follow:
            return EXIT_OK
        task = (await client.request("bosun/getTask", {"taskId": tid}))["task"]
        if task["state"] in _ENDED_TASK:
            return EXIT_OK
        while not done.done():
            getter = asyncio.ensure_future(live.get())
            await asyncio.wait({getter, done}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                break
            delta = getter.result()
            if args.json:
                print_json_line(delta)
            else:
                print(delta["delta"], end="", flush=True)
        if args.json:
            print_json_line({"taskId": tid, "state": done.result()})
        else:
            print(f"\ntask {tid} is {done.result()}")
        return EXIT_OK

    return run_async(with_client(args, body))


# --- decisions -----------------------------------------------------------------------------


def _act(
    args: argparse.Namespace,
    method: str,
    params: dict[str, Any],
    describe: Callable[[dict[str, Any]], str],
) -> int:
    """Send one request (with `taskId` named by `args.task` when the command takes a
    task); print its result as JSON or as `describe` words it."""

    async def body(client: Any) -> int:
        if getattr(args, "task", None) is not None:
            args.task_id = await task_id(client, args.task)
            params["taskId"] = args.task_id
        res = await client.request(method, params)
        if args.json:
            print_json(res)
        else:
            print(describe(res))
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_resolve(args: argparse.Namespace) -> int:
    """Answer the prompt a task waits on (or, with --prompt alone, any open prompt)."""
    if args.task is None and not args.prompt:
        return fail("name the task (its id, key or RUN/KEY), or the prompt with --prompt ID")
    args.task_id = None
    params: dict[str, Any] = {"action": args.action, "by": "cli"}
    if args.prompt:
        params["promptId"] = args.prompt
    if args.guidance:
        params["guidance"] = args.guidance
    if args.choice:
        params["choice"] = args.choice
    if args.description:
        params["description"] = args.description
    if args.criterion:
        params["acceptanceCriteria"] = args.criterion
    if args.always:
        params["always"] = True

    def describe(res: dict[str, Any]) -> str:
        state = (res.get("task") or {}).get("state", "done")
        spawned = res.get("spawned")
        extra = f"\n  replacement: #{spawned['id']} {spawned['key']}" if spawned else ""
        if args.task_id is None:
            run = res.get("run") or {}
            what = f"run {run['id']} is {run['state']}" if run else state
            return f"prompt {args.prompt}: {args.action} → {what}{extra}"
        return f"task {args.task_id}: {args.action} → {state}{extra}"

    return _act(args, "bosun/resolveTask", params, describe)


def cmd_interrupt(args: argparse.Namespace) -> int:
    """Stop an active task now (its processes are killed) and ask a human."""
    return _act(
        args,
        "bosun/interruptTask",
        {"reason": args.reason},
        lambda res: f"task {args.task_id} interrupted: {res['task']['state']}",
    )


def _run_control(method: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        return _act(
            args,
            method,
            {"runId": args.run, "reason": args.reason},
            lambda res: f"run {args.run}: {res['run']['state']}",
        )

    return command
