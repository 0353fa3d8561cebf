"""`bosun status`, `bosun show TASK`, `bosun events`: reading the board."""

from __future__ import annotations

import argparse
from typing import Any

from bosun.cli.common import EXIT_OK, guarded, print_json, run_async, with_client
from bosun.cli.status_view import ENDED_RUNS, render_run, run_header, state_counts
from bosun.cli.task_names import task_id


def add_parsers(sub: Any) -> None:
    """Register the board-reading commands."""
    st = sub.add_parser("status", help="runs in this workspace and their tasks")
    st.add_argument("run", type=int, nargs="?", help="one run in full (default: every run)")
    st.add_argument("--json", action="store_true")
    st.add_argument("--limit", type=int, default=10)
    st.set_defaults(func=guarded(cmd_status))

    show = sub.add_parser("show", help="one task: state, attempts, verdicts, cost")
    show.add_argument("task", help="the task: its id, its key, or RUN/KEY")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=guarded(cmd_show))

    ev = sub.add_parser("events", help="events after a sequence number")
    ev.add_argument("--after", type=int, default=0)
    ev.add_argument("--limit", type=int, default=100)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=guarded(cmd_events))


def _cost(cost: dict[str, Any]) -> str:
    usd = cost.get("usd")
    money = "cost unknown" if usd is None else f"${usd:.4f}"
    text = f"{cost.get('inputTokens', 0)}+{cost.get('outputTokens', 0)} tok, {money}"
    if cost.get("cachedTokens") or cost.get("cacheWriteTokens"):
        text += f" (cache: {cost.get('cachedTokens', 0)} read, {cost.get('cacheWriteTokens', 0)} written)"
    if cost.get("reasoningTokens"):  # part of the output, billed as output
        text += f", {cost['reasoningTokens']} tok reasoning"
    if cost.get("estimatedTokens"):  # the provider reported no usage for some calls
        text += f", {cost['estimatedTokens']} tok estimated"
    return text


_EVIDENCE_LINES = 30


def evidence_lines(evidence: str) -> str:
    """QA's evidence for a verdict, indented under it: all of it up to 30 lines (the
    failing assertion is rarely in the first), then how much more `--json` holds."""
    lines = evidence.rstrip().splitlines() or ["(no evidence given)"]
    shown = [f"      {line}" for line in lines[:_EVIDENCE_LINES]]
    if len(lines) > _EVIDENCE_LINES:
        shown.append(f"      … {len(lines) - _EVIDENCE_LINES} more lines (`bosun show --json`)")
    return "\n".join(shown)


def cmd_status(args: argparse.Namespace) -> int:
    """Runs, newest first: a table of tasks and open prompts for each live run (or for
    RUN), one line of counts for each ended one."""

    async def body(client: Any) -> int:
        if args.run is not None:
            runs = [(await client.request("bosun/getRun", {"runId": args.run}))["run"]]
        else:
            runs = (await client.request("bosun/listRuns", {"limit": args.limit}))["runs"]
        shown = []
        for r in runs:
            detail = await client.request("bosun/getRun", {"runId": r["id"]})
            queue = await client.request("bosun/humanQueue", {"runId": r["id"]})
            shown.append({**detail, "prompts": queue["prompts"]})
        if args.json:
            print_json(shown[0] if args.run is not None else shown)
            return EXIT_OK
        if not runs:
            print('no runs yet — start one with `bosun run "OBJECTIVE"`')
        for i, d in enumerate(shown):
            run = d["run"]
            if args.run is None and run["state"] in ENDED_RUNS:
                print(run_header(run, state_counts(d["tasks"])))
                continue
            if i:
                print()
            print("\n".join(render_run(d, d["prompts"])))
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_show(args: argparse.Namespace) -> int:
    """One task in detail."""

    async def body(client: Any) -> int:
        res = await client.request("bosun/getTask", {"taskId": await task_id(client, args.task)})
        if args.json:
            print_json(res)
            return EXIT_OK
        t = res["task"]
        print(f"task {t['id']} ({t['key']}) [{t['state']}] {t['title']}")
        print(f"  profile {t['profile']}, attempt {t['attempt']} of {t['maxRetries'] + 1}")
        if t.get("reason"):
            print(f"  reason: {t['reason']}")
        for c in t["acceptanceCriteria"]:
            print(f"  - criterion: {c}")
        for v in t["verdicts"]:
            print(f"  {'PASS' if v['passed'] else 'FAIL'} {v['criterion']}")
            print(evidence_lines(v["evidence"]))
        for a in res["attempts"]:
            err = f" — {a['error']}" if a.get("error") else ""
            print(f"  attempt {a['number']}: {a['outcome']}{err} ({_cost(a['cost'])})")
        print(f"  cost: {_cost(t['cost'])}")
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_events(args: argparse.Namespace) -> int:
    """A page of the event log."""

    async def body(client: Any) -> int:
        res = await client.request("bosun/eventsSince", {"after": args.after, "limit": args.limit})
        if args.json:
            print_json(res)
            return EXIT_OK
        for e in res["events"]:
            where = f"run {e.get('runId')}" + (f" task {e['taskId']}" if e.get("taskId") else "")
            print(f"#{e['seq']} {e['ts']} {e['kind']} ({where}) {e.get('data') or ''}")
        if res["more"]:
            print(f"… more after #{res['events'][-1]['seq']}")
        return EXIT_OK

    return run_async(with_client(args, body))
