"""`bosun prompts` and `bosun answer`: the open questions to people, from a terminal.

`bosun prompts [RUN]` lists every open prompt (of one run) with its id, whom it is
about, what it asks, its suggested answers and the command that answers it.
`bosun answer PROMPT ACTION …` answers one by its id alone: a task's or a run's (a
landing prompt has no task, so `bosun resolve TASK` cannot name it).
"""

from __future__ import annotations

import argparse
from typing import Any

from bosun.cli.common import EXIT_OK, guarded, print_json, run_async, with_client
from bosun.cli.engine_commands import cmd_resolve
from bosun.cli.status_view import prompt_lines


def add_parsers(sub: Any) -> None:
    """Register `prompts` and `answer`."""
    prompts = sub.add_parser("prompts", help="open questions to people, with their ids")
    prompts.add_argument("run", type=int, nargs="?", help="only this run's")
    prompts.add_argument("--json", action="store_true")
    prompts.set_defaults(func=guarded(cmd_prompts))

    answer = sub.add_parser("answer", help="answer an open prompt by its id")
    answer.add_argument("prompt", help="the prompt's id (`bosun prompts` lists them)")
    answer.add_argument("action", choices=["retry", "abandon", "spawn", "approve", "deny"])
    answer.add_argument("--guidance", "-g", help="added instructions (retry), reason (deny)")
    answer.add_argument("--choice", help="retry: one of the agent's suggested answers")
    answer.add_argument("--description", help="a new description (retry, spawn)")
    answer.add_argument("--criterion", action="append", help="replace the acceptance criteria")
    answer.add_argument("--always", action="store_true", help="approve: for the rest of the run")
    answer.add_argument("--json", action="store_true")
    answer.set_defaults(func=guarded(cmd_answer))


def cmd_prompts(args: argparse.Namespace) -> int:
    """Every open prompt, grouped by run."""

    async def body(client: Any) -> int:
        params = {"runId": args.run} if args.run is not None else {}
        prompts = (await client.request("bosun/humanQueue", params))["prompts"]
        if args.json:
            print_json({"prompts": prompts})
            return EXIT_OK
        if not prompts:
            print("no open prompts")
            return EXIT_OK
        runs = sorted({p["runId"] for p in prompts})
        for i, run_id in enumerate(runs):
            detail = await client.request("bosun/getRun", {"runId": run_id})
            if i:
                print()
            print(f"run {run_id} [{detail['run']['state']}]")
            mine = [p for p in prompts if p["runId"] == run_id]
            print("\n".join(prompt_lines(mine, detail["tasks"])))
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_answer(args: argparse.Namespace) -> int:
    """`bosun resolve --prompt ID ACTION`, by another name."""
    args.task = None
    return cmd_resolve(args)
