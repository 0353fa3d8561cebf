"""`bosun replay RUN`: run a recorded run again and say whether, and where, it diverged.

The replay is a new run of the same objective and options with the model `replay:RUN`
(bosun.llm.replay), started at the recorded run's base commit — the repository may have
moved on since, and a replay is only deterministic from the same tree (`--base head`
replays on the base branch's current head instead, to see whether the recording still
holds). The recorded run's human answers (its `human.answered` events) are given again,
in order per task and prompt kind. A replay never lands; its work stays on its branch.

It diverged when:
- the replay model met a call whose request differs from the recording, or that the
  recording does not hold: the attempt stops and asks a human with the model's error,
  which names the call and what differed; the replay is cancelled there;
- it asked a human something the recorded run was not asked;
- it ended having made fewer model calls than were recorded.
Last, the trees of the two runs' heads are compared: a faithful replay lands the same.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from bosun.cli.common import EXIT_ERROR, EXIT_OK, print_json, run_async, with_client, workspace_of
from bosun.cli.live_view import LiveView
from bosun.errors import InvalidStateError
from bosun.llm.replay import divergence_of

ENDED = ("completed", "failed", "cancelled")
_ANSWER_FIELDS = ("choice", "guidance", "description", "acceptanceCriteria", "always")


async def recorded_answers(
    client: Any, run_id: int
) -> dict[tuple[str, str], deque[dict[str, Any]]]:
    """The run's human answers, in order, by (task key, prompt kind)."""
    tasks = (await client.request("bosun/getRun", {"runId": run_id}))["tasks"]
    keys = {t["id"]: t["key"] for t in tasks}
    answers: dict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(deque)
    after = 0
    while True:
        page = await client.request(
            "bosun/eventsSince", {"after": after, "limit": 5000, "runId": run_id}
        )
        for event in page["events"]:
            after = max(after, event["seq"])
            data = event["data"]
            if event["kind"] != "human.answered" or data.get("by") == "engine":
                continue  # the engine withdrawing a prompt is no answer
            key = keys.get(event.get("taskId"), "")
            reply = {"action": data["action"], **{f: data[f] for f in _ANSWER_FIELDS if f in data}}
            answers[(key, data.get("kind", ""))].append(reply)
        if not page["more"]:
            return answers


class RecordedAnswerer:
    """Answers the replay's prompts as the recorded run was answered; anything else is
    a divergence, and the replay is cancelled there."""

    def __init__(self, client: Any, answers: dict[tuple[str, str], deque[dict[str, Any]]]):
        self.client = client
        self.answers = answers
        self.run_id: int | None = None
        self.divergences: list[dict[str, Any]] = []

    async def __call__(self, prompt: dict[str, Any]) -> dict[str, Any] | None:
        key = ""
        if prompt.get("taskId") is not None:
            task = await self.client.request("bosun/getTask", {"taskId": prompt["taskId"]})
            key = task["task"]["key"]
        found = divergence_of(prompt["reason"])
        queue = self.answers.get((key, prompt["kind"]))
        if found is None and queue:
            return {**queue.popleft(), "by": "replay"}
        if found is None:
            found = {
                "call": f"task={key or '-'}",
                "difference": f"asked a human ({prompt['kind']}) what the recorded run was "
                f"not asked: {prompt['reason'][:300]}",
            }
        self.divergences.append({"task": key, **found})
        if self.run_id is not None:
            reason = f"replay diverged at {found['call']}"
            await self.client.request("bosun/cancelRun", {"runId": self.run_id, "reason": reason})
        return None


def _tree(root: Path, commit: str | None) -> str | None:
    if not commit:
        return None
    out = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", commit + "^{tree}"],
        cwd=root, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return out.stdout.strip() or None


async def replay(client: Any, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Replay run `args.run` to its end; the report."""
    old = (await client.request("bosun/getRun", {"runId": args.run}))["run"]
    if old["state"] not in ENDED:
        raise InvalidStateError(f"run {args.run} is {old['state']}; replay a run that has ended")
    if not old.get("baseCommit"):
        raise InvalidStateError(f"run {args.run} never started (it has no base commit)")
    answerer = RecordedAnswerer(client, await recorded_answers(client, args.run))
    options = {**old["options"], "model": f"replay:{args.run}", "models": {}}
    options["baseBranch"] = old.get("baseBranch") or options.get("baseBranch")
    options["baseCommit"] = old["baseCommit"] if args.base == "recorded" else None
    out = sys.stderr if args.json else sys.stdout
    view = LiveView(client, answerer, out=out)
    created = await client.request(
        "bosun/createRun", {"objective": old["objective"], "options": options}
    )
    run = created["run"]
    answerer.run_id = run["id"]
    view.follow(run["id"])
    for prompt in (await client.request("bosun/humanQueue", {"runId": run["id"]}))["prompts"]:
        view.on_notification("bosun/humanPrompt", {"prompt": prompt})
    current = (await client.request("bosun/getRun", {"runId": run["id"]}))["run"]
    view.on_notification("bosun/runChanged", {"run": current})
    try:
        await view.wait()
    finally:
        await view.close()
    new = (await client.request("bosun/getRun", {"runId": run["id"]}))["run"]
    recorded, replayed = old["cost"]["calls"], new["cost"]["calls"]
    if not answerer.divergences and new["state"] == "completed" and replayed < recorded:
        answerer.divergences.append(
            {"task": "", "call": "-", "difference": f"the replay made {replayed} model calls, "
             f"the recording holds {recorded}"}
        )  # fmt: skip
    trees = [await asyncio.to_thread(_tree, root, r.get("headCommit")) for r in (old, new)]
    return {
        "original": args.run,
        "replay": new["id"],
        "state": new["state"],
        "baseCommit": new.get("baseCommit"),
        "divergences": answerer.divergences,
        "calls": {"recorded": recorded, "replayed": replayed},
        "tree": {"original": trees[0], "replay": trees[1], "same": trees[0] == trees[1]},
    }


def faithful(report: dict[str, Any]) -> bool:
    """Completed, no divergence, the same tree."""
    return report["state"] == "completed" and not report["divergences"] and report["tree"]["same"]


def print_report(report: dict[str, Any]) -> None:
    """The outcome for people."""
    print(f"replay of run {report['original']} is run {report['replay']}: {report['state']}")
    for d in report["divergences"]:
        print(f"  diverged at {d['call']}: {d['difference']}")
    calls = report["calls"]
    print(f"  model calls: {calls['replayed']} replayed of {calls['recorded']} recorded")
    tree = report["tree"]
    same = "the same tree" if tree["same"] else f"a different tree ({tree['replay']})"
    print(f"  it landed {same} as run {report['original']} ({tree['original']})")


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a recorded run; exit status 0 only when it was faithful."""
    root = workspace_of(args).root

    async def body(client: Any) -> int:
        report = await replay(client, args, root)
        print_json(report) if args.json else print_report(report)
        return EXIT_OK if faithful(report) else EXIT_ERROR

    return run_async(with_client(args, body))
