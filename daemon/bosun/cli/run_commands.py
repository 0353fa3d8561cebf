"""`bosun status`, `bosun show TASK`, `bosun events`: reading the board."""

from __future__ import annotations

import argparse
from typing import Any

from bosun.cli.common import EXIT_OK, guarded, print_json, run_async, with_client


def add_parsers(sub: Any) -> None:
    """Register the board-reading commands."""
    st = sub.add_parser("status", help="runs in this workspace and their tasks")
    st.add_argument("--json", action="store_true")
    st.add_argument("--limit", type=int, default=10)
    st.set_defaults(func=guarded(cmd_status))

    show = sub.add_parser("show", help="one task: state, attempts, verdicts, cost")
    show.add_argument("task", type=int)
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
    if cost.get("estimatedTokens"):  # the provider reported no usage for some calls
        text += f", {cost['estimatedTokens']} tok estimated"
    return text


def cmd_status(args: argparse.Namespace) -> int:
    """Runs, newest first, each with its task counts by state."""

    async def body(client: Any) -> int:
        runs = (await client.request("bosun/listRuns", {"limit": args.limit}))["runs"]
        details = [await client.request("bosun/getRun", {"runId": r["id"]}) for r in runs]
        if args.json:
            print_json(details)
            return EXIT_OK
        if not runs:
            print('no runs yet — start one with `bosun run "OBJECTIVE"`')
        for d in details:
            run, tasks = d["run"], d["tasks"]
            counts: dict[str, int] = {}
            for t in tasks:
                counts[t["state"]] = counts.get(t["state"], 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no tasks"
            print(f"run {run['id']} [{run['state']}] {run['objective'][:70]}")
            print(f"    {summary}; {_cost(run['cost'])}")
        return EXIT_OK

    return run_async(with_client(args, body))


def cmd_show(args: argparse.Namespace) -> int:
    """One task in detail."""

    async def body(client: Any) -> int:
        res = await client.request("bosun/getTask", {"taskId": args.task})
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
            print(f"  {'PASS' if v['passed'] else 'FAIL'} {v['criterion']}: {v['evidence'][:100]}")
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
