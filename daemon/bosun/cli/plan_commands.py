"""`bosun task deps|edit|drop` and `bosun replan`: editing a live run's plan.

`bosun task deps TASK +DEP -DEP …` adds and removes dependencies in one atomic edit (a
cycle refuses all of it); `edit` changes title, description, criteria and, before the
task starts, its profile; `drop` removes a task that has not started and says what
became of its dependents; `replan RUN "guidance"` adds a planner task. A dependency is
named like any task (id, key, RUN/KEY); a bare key is looked up in TASK's run first.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bosun_protocol.entities import Profile

from bosun.board.errors import InvalidBoardInputError
from bosun.cli.common import EXIT_OK, guarded, print_json, run_async, with_client
from bosun.cli.display import visible
from bosun.cli.status_view import money
from bosun.cli.task_names import task_id
from bosun.errors import NotFoundError

_TASK_HELP = "the task: its id, its key, or RUN/KEY"
PROFILES = [p.value for p in Profile]


def add_parsers(sub: Any) -> None:
    """Register the plan-editing commands."""
    task = sub.add_parser("task", help="edit a live run's plan: dependencies, fields, drop")
    tsub = task.add_subparsers(dest="task_command", metavar="ACTION", required=True)

    deps = tsub.add_parser(
        "deps", help="add (+DEP) and remove (-DEP) dependencies in one edit",
        description="Example: bosun task deps docs +api -draft (docs waits for api, no "
        "longer for draft). A cycle refuses the whole edit.",
    )  # fmt: skip
    deps.add_argument("task", help=_TASK_HELP)
    deps.add_argument("changes", nargs="*", metavar="+DEP|-DEP", help="dependencies to change")
    deps.add_argument("--add", action="append", default=[], metavar="DEP", help=argparse.SUPPRESS)
    deps.add_argument(
        "--remove", action="append", default=[], metavar="DEP", help=argparse.SUPPRESS
    )
    deps.add_argument("--json", action="store_true")
    deps.set_defaults(func=guarded(cmd_deps))

    edit = tsub.add_parser("edit", help="change title, description, criteria, profile")
    edit.add_argument("task", help=_TASK_HELP)
    edit.add_argument("--title")
    edit.add_argument("--description")
    edit.add_argument(
        "--criterion", action="append", help="replaces the acceptance criteria (repeatable)"
    )
    edit.add_argument("--profile", choices=PROFILES, help="only before the task starts")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(func=guarded(cmd_edit))

    drop = tsub.add_parser("drop", help="remove a task that has not started from the plan")
    drop.add_argument("task", help=_TASK_HELP)
    drop.add_argument(
        "--dependents", choices=["rewire", "drop"], default="rewire",
        help="rewire (default): they wait for what it waited for; drop: drop them too",
    )  # fmt: skip
    drop.add_argument("--reason", default="dropped from the plan from the command line")
    drop.add_argument("--json", action="store_true")
    drop.set_defaults(func=guarded(cmd_drop))

    restart = sub.add_parser("restart", help="reopen a cancelled or failed run's work")
    restart.add_argument("run", type=int)
    restart.add_argument(
        "--from", dest="from_tasks", nargs="+", default=[], metavar="TASK",
        help="only these abandoned tasks and what was abandoned after them",
    )  # fmt: skip
    restart.add_argument("--json", action="store_true")
    restart.set_defaults(func=guarded(cmd_restart))

    replan = sub.add_parser("replan", help="ask for a new planning pass with your guidance")
    replan.add_argument("run", type=int)
    replan.add_argument("guidance")
    replan.add_argument("--json", action="store_true")
    replan.set_defaults(func=guarded(cmd_replan))


def rewrite_argv(words: Sequence[str]) -> list[str]:
    """`task deps TASK … -DEP …` with each -DEP as `--remove=DEP` (argparse would take
    it for an unknown flag) and each +DEP as `--add=DEP`."""
    out = list(words)
    try:
        at = next(i for i in range(len(out) - 1) if out[i] == "task" and out[i + 1] == "deps")
    except StopIteration:
        return out
    seen_task = False
    for i in range(at + 2, len(out)):
        word = out[i]
        if word.startswith("--") or word == "-h":
            continue
        if not seen_task:
            seen_task = True
        elif word.startswith("-") and len(word) > 1:
            out[i] = "--remove=" + word[1:]
        elif word.startswith("+") and len(word) > 1:
            out[i] = "--add=" + word[1:]
    return out


async def _dependency(client: Any, run_id: int, name: str) -> int:
    """A dependency's id: a bare key in the task's own run first."""
    if "/" not in name and not name.strip().isdigit():
        tasks = (await client.request("bosun/getRun", {"runId": run_id}))["tasks"]
        for t in tasks:
            if t["key"] == name:
                return int(t["id"])
        raise NotFoundError(f"run {run_id} has no task {name!r} to depend on")
    return await task_id(client, name)


def _deps_line(task: dict[str, Any], keys: dict[int, str]) -> str:
    after = ", ".join(visible(keys.get(d, f"#{d}")) for d in task["dependencies"]) or "nothing"
    return f"task {task['id']} ({visible(task['key'])}) waits for: {after}"


def cmd_deps(args: argparse.Namespace) -> int:
    """Add and remove dependencies in one atomic edit."""
    if args.changes:
        raise InvalidBoardInputError(
            f"{args.changes[0]!r} is not a dependency change: write +DEP to add, -DEP to remove"
        )
    if not args.add and not args.remove:
        raise InvalidBoardInputError("name dependencies to change: +DEP adds, -DEP removes")

    async def body(client: Any) -> int:
        tid = await task_id(client, args.task)
        run_id = (await client.request("bosun/getTask", {"taskId": tid}))["task"]["runId"]
        add = [await _dependency(client, run_id, n) for n in args.add]
        remove = [await _dependency(client, run_id, n) for n in args.remove]
        res = await client.request(
            "bosun/updateTask",
            {"taskId": tid, "addDependencies": add, "removeDependencies": remove},
        )
        if args.json:
            print_json(res)
            return EXIT_OK
        tasks = (await client.request("bosun/getRun", {"runId": run_id}))["tasks"]
        print(_deps_line(res["task"], {t["id"]: t["key"] for t in tasks}))
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_edit(args: argparse.Namespace) -> int:
    """Change a task's title, description, criteria or (before it starts) profile."""
    fields: dict[str, Any] = {}
    if args.title is not None:
        fields["title"] = args.title
    if args.description is not None:
        fields["description"] = args.description
    if args.criterion:
        fields["acceptanceCriteria"] = args.criterion
    if args.profile:
        fields["profile"] = args.profile
    if not fields:
        raise InvalidBoardInputError(
            "nothing to change: give --title, --description, --criterion or --profile"
        )

    async def body(client: Any) -> int:
        tid = await task_id(client, args.task)
        res = await client.request("bosun/updateTask", {"taskId": tid, **fields})
        if args.json:
            print_json(res)
            return EXIT_OK
        t = res["task"]
        print(f"task {t['id']} ({visible(t['key'])}) [{t['state']}] {visible(t['title'])}")
        print(f"  profile {t['profile']}, {len(t['acceptanceCriteria'])} criteria")
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_drop(args: argparse.Namespace) -> int:
    """Drop a task that has not started; say what became of its dependents."""

    async def body(client: Any) -> int:
        tid = await task_id(client, args.task)
        res = await client.request(
            "bosun/dropTask", {"taskId": tid, "dependents": args.dependents, "reason": args.reason}
        )
        if args.json:
            print_json(res)
            return EXIT_OK
        first, *others = res["dropped"]
        print(f"dropped task {first['id']} ({visible(first['key'])})")
        for t in others:
            print(f"  also dropped its dependent {t['id']} ({visible(t['key'])})")
        if res["rewired"]:
            tasks = (await client.request("bosun/getRun", {"runId": first["runId"]}))["tasks"]
            keys = {t["id"]: t["key"] for t in tasks}
            for t in res["rewired"]:
                print("  rewired: " + _deps_line(t, keys))
        elif not others:
            print("  no task was waiting for it")
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_restart(args: argparse.Namespace) -> int:
    """Reopen a stopped run's unfinished work and say what replaces what."""

    async def body(client: Any) -> int:
        chosen = [await _dependency(client, args.run, n) for n in args.from_tasks]
        res = await client.request("bosun/restartRun", {"runId": args.run, "fromTasks": chosen})
        if args.json:
            print_json(res)
            return EXIT_OK
        run = res["run"]
        print(f"run {run['id']} restarted [{run['state']}]; spent so far {money(run['cost'])}")
        for t in res["reopened"]:
            print(f"  reopened as {t['id']} ({visible(t['key'])}): {visible(t['title'])}")
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_replan(args: argparse.Namespace) -> int:
    """Add a planner task that sees the run as it is and your guidance."""

    async def body(client: Any) -> int:
        res = await client.request("bosun/replan", {"runId": args.run, "guidance": args.guidance})
        if args.json:
            print_json(res)
            return EXIT_OK
        t = res["task"]
        print(f"run {args.run}: planner task {t['id']} ({visible(t['key'])}) added [{t['state']}]")
        return EXIT_OK

    return run_async(with_client(args, body))
