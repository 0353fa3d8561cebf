"""`bosun diff`, `bosun review`, `bosun land`, `bosun gc`: the git plane from a terminal."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from bosun_protocol.review import (
    ApproveDecision,
    ApproveHunksDecision,
    GcParams,
    LandRunParams,
    RejectDecision,
    RequestChangesDecision,
    ReviewComment,
    ReviewTaskParams,
    TaskDiffParams,
)

from bosun.cli.common import EXIT_ERROR, EXIT_OK, guarded, print_json, run_async, with_client
from bosun.cli.task_names import task_id

Command = Callable[[Any, argparse.Namespace], Awaitable[int]]


def _bind(cmd: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return run_async(with_client(args, lambda client: cmd(client, args)))

    return guarded(run)


def add_parsers(sub: Any) -> None:
    """Register the git plane's commands."""
    diff = sub.add_parser("diff", help="a task's changes, file by file, hunk by hunk, with ids")
    diff.add_argument("task", help="the task: its id, its key, or RUN/KEY")
    diff.add_argument("--json", action="store_true")
    diff.set_defaults(func=_bind(cmd_diff))

    review = sub.add_parser("review", help="approve, approve some hunks, request changes, reject")
    review.add_argument("task", help="the task: its id, its key, or RUN/KEY")
    choice = review.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true", help="merge everything")
    choice.add_argument("--approve-hunks", nargs="+", metavar="ID", help="merge only these hunks")
    choice.add_argument("--request-changes", metavar="COMMENT", help="send back with a comment")
    choice.add_argument("--reject", action="store_true", help="abandon the task")
    review.add_argument("--reason", default="", help="why (with --reject)")
    review.add_argument("--path", help="the file the comment is about (with --request-changes)")
    review.add_argument(
        "--line", type=int, help="its 1-based line in the task's version (with --path)"
    )
    review.add_argument("--json", action="store_true")
    review.set_defaults(func=_bind(cmd_review))

    land = sub.add_parser("land", help="put a run's branch onto your branch (only when safe)")
    land.add_argument("run", type=int)
    land.add_argument("--json", action="store_true")
    land.set_defaults(func=_bind(cmd_land))

    gc = sub.add_parser("gc", help="remove finished worktrees and branches; reconcile with git")
    gc.add_argument("--dry-run", action="store_true", help="report only")
    gc.add_argument("--json", action="store_true")
    gc.set_defaults(func=_bind(cmd_gc))


def _terminal_line(line: str) -> str:
    """A hunk line as a terminal can show it: a CRLF line without its CR, and a CR inside
    a line as ␍ (printed raw it would move the cursor and hide the text before it)."""
    return line.removesuffix("\r").replace("\r", "\u240d")


async def cmd_diff(client: Any, args: argparse.Namespace) -> int:
    """Print a task's diff with hunk ids to approve by."""
    tid = await task_id(client, args.task)
    res = await client.request("bosun/taskDiff", TaskDiffParams(task_id=tid))
    if args.json:
        print_json(res)
        return EXIT_OK
    print(f"task {res['taskId']}: {res['baseCommit'][:12]}..{res['headCommit'][:12]}")
    if not res["files"]:
        print("  no changes")
    for f in res["files"]:
        print(f"\n{f['status']}: {f['path']}" + (" (binary)" if f["binary"] else ""))
        for h in f["hunks"]:
            print(f"  [{h['id']}] {_terminal_line(h['header'])}")
            for line in h["lines"]:
                print(f"    {_terminal_line(line)}")
    return EXIT_OK


def decision_of(args: argparse.Namespace, task: int) -> ReviewTaskParams:
    """The review decision the flags describe, for task id `task`."""
    decision: ApproveDecision | ApproveHunksDecision | RequestChangesDecision | RejectDecision
    if args.approve_hunks:
        decision = ApproveHunksDecision(hunk_ids=list(args.approve_hunks))
    elif args.request_changes is not None:
        comment = ReviewComment(body=args.request_changes, path=args.path, line=args.line)
        decision = RequestChangesDecision(comments=[comment])
    elif args.reject:
        decision = RejectDecision(reason=args.reason)
    else:
        decision = ApproveDecision()
    return ReviewTaskParams(task_id=task, decision=decision)


async def cmd_review(client: Any, args: argparse.Namespace) -> int:
    """Send a review decision for a task awaiting review."""
    params = decision_of(args, await task_id(client, args.task))
    res = await client.request("bosun/reviewTask", params)
    if args.json:
        print_json(res)
        return EXIT_OK
    task = res["task"]
    print(f"task {task['id']} ({task['key']}) is now {task['state']}")
    if res["approvedHunks"] or res["rejectedHunks"]:
        print(
            f"  approved hunks: {len(res['approvedHunks'])}, rejected: {len(res['rejectedHunks'])}"
        )
    return EXIT_OK


async def cmd_land(client: Any, args: argparse.Namespace) -> int:
    """Land a run; exit status 1 when a human must act, with the reason."""
    res = await client.request("bosun/landRun", LandRunParams(run_id=args.run))
    if args.json:
        print_json(res)
    elif res["outcome"] == "landed":
        print(f"run {args.run} landed on {res['branch']} ({res['mode']}) at {res['head'][:12]}")
    elif res["outcome"] == "already_landed":
        print(f"run {args.run} is already on {res['branch']}")
    else:
        print(f"run {args.run} was not landed: {res['reason']}")
    return EXIT_OK if res["outcome"] != "needs_human" else EXIT_ERROR


async def cmd_gc(client: Any, args: argparse.Namespace) -> int:
    """Reconcile and clean up; print what was (or would be) removed."""
    res = await client.request("bosun/gc", GcParams(dry_run=args.dry_run))
    if args.json:
        print_json(res)
        return EXIT_OK
    verb = "would remove" if args.dry_run else "removed"
    labels = {
        "removedWorktrees": f"{verb} worktree",
        "removedBranches": f"{verb} branch",
        "removedOwnFiles": f"{verb} own file",
        "reattachedWorktrees": "re-attached worktree",
        "repaired": "repaired",
        "recoveredMerges": "recovered merge",
        "kept": "kept",
    }
    said = False
    for key, label in labels.items():
        for item in res.get(key, []):
            print(f"{label}: {item}")
            said = True
    if not said:
        print("nothing to clean up")
    return EXIT_OK
