"""Scripted runs for the executor tests: a director that creates coder tasks, each
recording where it ran (its worktree's path); the sample repository configured for the
`ray` executor; the daemon's events and tasks, read over the protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bosun.cli.demo_command import make_sample_repo
from bosun.client import Client


def scenario_text(keys: list[str], slow: dict[str, float]) -> str:
    """The director creates one coder task per key; each writes where it ran (its
    worktree's path, on the node) and finishes. A `slow` task's first attempt waits in
    its second model call, while the test kills something under it."""
    tasks = ", ".join(f'{{ key = "{k}", title = "Record where {k} ran", profile = "coder" }}'
                      for k in keys)  # fmt: skip
    out = [
        'name = "ray"',
        '[[reply]]\nrole = "director"\nturn = 1',
        f'[[reply.tool_calls]]\nname = "create_subtasks"\narguments = {{ tasks = [{tasks}] }}',
        '[[reply]]\nrole = "director"\nturn = 2',
        '[[reply.tool_calls]]\nname = "finish"\narguments = { summary = "planned", files_changed = [] }',
        # The director's two criteria, in order (the coder tasks have none: no QA call).
        '[[reply]]\nrole = "strategist"\ntask = "director"\ntext = \'\'\'{"verdicts": ['
        '{"criterion": "design", "passed": true}, {"criterion": "tasks", "passed": true}]}\'\'\'',
    ]
    for k in keys:
        out += [
            f'[[reply]]\nrole = "coder"\ntask = "{k}"\nturn = 1',
            f'[[reply.tool_calls]]\nname = "run_command"\narguments = {{ command = "pwd > where-{k}.txt" }}',
            f'[[reply]]\nrole = "coder"\ntask = "{k}"\nturn = 2',
            f'[[reply.tool_calls]]\nname = "finish"\narguments = {{ summary = "{k} done", files_changed = ["where-{k}.txt"] }}',
        ]
        if k in slow:
            out += [
                f'[[reply]]\nrole = "coder"\ntask = "{k}"\nturn = 3',
                f'[[reply.tool_calls]]\nname = "finish"\narguments = {{ summary = "{k} done", files_changed = ["where-{k}.txt"] }}',
            ]
            out += [
                f'[[reply]]\nrole = "coder"\ntask = "{k}"\nattempt = 1\nturn = 2\ndelay = {slow[k]}',
                '[[reply.tool_calls]]\nname = "run_command"\narguments = { command = "echo still here" }',
            ]
    return "\n".join(out) + "\n"


def make_repo(
    base: Path,
    address: str,
    keys: list[str],
    slow: dict[str, float],
    retries: int = 4,
    probe_s: float = 5.0,
) -> Path:
    """The demo's sample repository, its model scenario_text's, attempts on `address`."""
    repo = base / "sample"
    repo.mkdir()
    make_sample_repo(repo)
    scenario = repo / ".bosun" / "ray.toml"
    scenario.write_text(scenario_text(keys, slow))
    config = repo / ".bosun" / "config.toml"
    text = config.read_text()
    start = text.index('default_model = "scripted:')
    end = text.index("\n", start)
    text = text[:start] + f'default_model = "scripted:{scenario}"' + text[end:]
    text += (
        f'\n[executor]\nkind = "ray"\naddress = "{address}"\nconnect_timeout_s = 120\n'
        f"probe_s = {probe_s}\n"
        "[executor.placement]\nnum_cpus = 1\nresources = { bosun = 1 }\n"
    )
    text = text.replace("[engine]\n", f"[engine]\nmax_retries = {retries}\n", 1)
    config.write_text(text)
    return repo


async def events(c: Client, kind: str) -> list[tuple[int | None, dict[str, Any]]]:
    """The daemon's events of `kind`, over the protocol (reading the board's file while
    the daemon writes it is not safe)."""
    found, after = [], 0
    while True:
        page = await c.request("bosun/eventsSince", {"after": after, "limit": 10_000})
        found += [(e.get("taskId"), e["data"]) for e in page["events"] if e["kind"] == kind]
        after = page["lastSeq"] if not page["events"] else page["events"][-1]["seq"]
        if not page["more"]:
            return found


async def task_ids(c: Client, run_id: int) -> dict[str, int]:
    """The run's task ids by key."""
    tasks = (await c.request("bosun/getRun", {"runId": run_id}))["tasks"]
    return {t["key"]: t["id"] for t in tasks}
