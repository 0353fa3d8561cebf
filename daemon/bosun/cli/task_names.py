"""Naming a task on the command line: its id (`12`), its key (`stubborn`) or both run
and key (`4/stubborn`).

Every display leads with the key, so every command that takes a task takes a key too.
A key is unique within its run, not across runs (every run has a `director`): a bare key
names the one task of that key among all runs; when several runs have it, the one among
the live runs (planning, running, paused, landing) if exactly one is live; otherwise the
command refuses and lists the `RUN/KEY` names to choose from.
"""

from __future__ import annotations

import re
from typing import Any

from bosun.board.errors import InvalidBoardInputError
from bosun.errors import NotFoundError

ENDED_RUNS = frozenset({"completed", "failed", "cancelled"})
_RUN_KEY = re.compile(r"^(\d+)/(.+)$")
_PAGE = 200


async def _runs(client: Any) -> list[dict[str, Any]]:
    """Every run, newest first."""
    runs: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": _PAGE}
        if before is not None:
            params["beforeId"] = before
        page = (await client.request("bosun/listRuns", params))["runs"]
        runs += page
        if len(page) < _PAGE:
            return runs
        before = page[-1]["id"]


async def task_id(client: Any, name: str | int) -> int:
    """The id of the task `name` names (an id, a key, or RUN/KEY), or a clear error."""
    text = str(name).strip()
    if text.isdigit():
        return int(text)
    if not text:
        raise InvalidBoardInputError("name a task by its id, its key, or RUN/KEY")
    pair = _RUN_KEY.match(text)
    if pair is not None:
        run_id, key = int(pair.group(1)), pair.group(2)
        tasks = (await client.request("bosun/getRun", {"runId": run_id}))["tasks"]
        for task in tasks:
            if task["key"] == key:
                return int(task["id"])
        keys = ", ".join(t["key"] for t in tasks) or "none yet"
        raise NotFoundError(f"run {run_id} has no task {key!r} (its tasks: {keys})")
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for run in await _runs(client):
        for task in (await client.request("bosun/getRun", {"runId": run["id"]}))["tasks"]:
            if task["key"] == text:
                found.append((run, task))
    if not found:
        raise NotFoundError(
            f"no task has the key {text!r}; `bosun status` lists the tasks of live runs"
        )
    live = [(r, t) for r, t in found if r["state"] not in ENDED_RUNS]
    if len(found) == 1 or len(live) == 1:
        return int((found[0] if len(found) == 1 else live[0])[1]["id"])
    names = ", ".join(f"{r['id']}/{text} (run {r['state']})" for r, _ in found[:8])
    more = f" and {len(found) - 8} more" if len(found) > 8 else ""
    raise InvalidBoardInputError(
        f"the key {text!r} names a task in several runs: {names}{more}; name one as RUN/KEY"
    )
