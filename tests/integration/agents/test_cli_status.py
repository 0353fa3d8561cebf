"""`bosun status` as a person reads it (a table per run, the plan as an indented graph,
open prompts with their ids), and tasks named by key wherever a task is named."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE
from bosun.client import Client
from bosun.workspace import find_workspace

from tests.integration.agents.test_run_commands import bosun, sample  # noqa: F401

pytest.importorskip("bosun.engine.service")

ENDED = ("completed", "failed", "cancelled")


async def _question(client: Client) -> dict[str, Any]:
    """The run's ask_human prompt, approving tool calls on the way."""
    while True:
        for prompt in (await client.request("bosun/humanQueue", {}))["prompts"]:
            if prompt["kind"] == "ask_human":
                return dict(prompt)
            if prompt["kind"] == "tool_approval":
                await client.request(
                    "bosun/resolveTask", {"promptId": prompt["promptId"], "action": "approve"}
                )
        await client.notifications.get()


async def _ended(client: Client, run_id: int) -> dict[str, Any]:
    while True:
        run = (await client.request("bosun/getRun", {"runId": run_id}))["run"]
        if run["state"] in ENDED:
            return dict(run)
        await client.notifications.get()


def _row(out: str, key: str) -> str:
    """The table line of task `key`."""
    return next(line for line in out.splitlines() if line.split()[1:2] == [key])


async def test_status_shows_the_plan_as_a_table_with_the_open_question_and_keys_name_tasks(
    sample: Path,  # noqa: F811
) -> None:
    async with await Client.connect(find_workspace(sample).socket_path) as client:
        started = await asyncio.to_thread(bosun, sample, "run", OBJECTIVE, "--detach", "--json")
        run = json.loads(started.stdout)
        prompt = await asyncio.wait_for(_question(client), 120)

        out = await asyncio.to_thread(bosun, sample, "status", str(run["id"]))
        assert out.returncode == 0, out.stderr
        text = out.stdout
        lines = text.splitlines()
        assert lines[0].startswith(f"run {run['id']} [running] Add slugify()")
        header = lines[2].split()
        assert header == ["id", "task", "profile", "state", "try", "cost", "after", "title"]
        readme, slugify = _row(text, "readme"), _row(text, "slugify")
        # readme depends on both workers: it comes after them, one level deeper, naming them.
        assert lines.index(readme) > lines.index(slugify)
        indent = readme.index("readme") - slugify.index("slugify")
        assert indent == 2, text
        assert "plan,slugify,top-words" in readme.split()
        assert "waiting_human" in readme.split()
        assert "coder" in slugify.split() and "1/5" in slugify.split()
        assert f"    {prompt['promptId']}  task {prompt['taskId']} (readme) ask_human: " in text
        assert f"answer: bosun resolve {run['id']}/readme retry/abandon/spawn" in text

        everything = await asyncio.to_thread(bosun, sample, "status")
        assert _row(everything.stdout, "readme") == readme  # a live run gets its table
        as_json = json.loads(
            (await asyncio.to_thread(bosun, sample, "status", "1", "--json")).stdout
        )
        assert [p["promptId"] for p in as_json["prompts"]] == [prompt["promptId"]]

        listed = await asyncio.to_thread(bosun, sample, "prompts")
        assert listed.stdout.splitlines()[:2] == [
            f"run {run['id']} [running]",
            "  open prompts (1):",
        ]
        assert f"answer: bosun resolve {run['id']}/readme retry/abandon/spawn" in listed.stdout
        ids = json.loads((await asyncio.to_thread(bosun, sample, "prompts", "--json")).stdout)
        assert [p["promptId"] for p in ids["prompts"]] == [prompt["promptId"]]
        unknown = await asyncio.to_thread(bosun, sample, "answer", "0123456789ab", "retry")
        assert unknown.returncode == 1 and "no open prompt 0123456789ab" in unknown.stderr

        shown = await asyncio.to_thread(bosun, sample, "show", "readme")
        assert shown.stdout.startswith(f"task {prompt['taskId']} (readme) [waiting_human]")
        answered = await asyncio.to_thread(
            bosun, sample, "resolve", "readme", "retry", "-g", "plain code blocks"
        )
        assert answered.returncode == 0, answered.stderr
        assert answered.stdout.startswith(f"task {prompt['taskId']}: retry → ")
        done = await asyncio.wait_for(_ended(client, run["id"]), 120)
        assert done["state"] == "completed"

        assert (await asyncio.to_thread(bosun, sample, "prompts")).stdout == "no open prompts\n"
        ended = await asyncio.to_thread(bosun, sample, "status")
        assert ended.stdout.splitlines()[0].startswith(f"run {run['id']} [completed]")
        assert len(ended.stdout.splitlines()) == 2  # an ended run is one header, no table

        # A second run has its own director: the bare key names the live run's, RUN/KEY
        # either; once neither run is live the bare key is refused with the choices.
        second = json.loads(
            (await asyncio.to_thread(bosun, sample, "run", "again", "--detach", "--json")).stdout
        )
        live = await asyncio.to_thread(bosun, sample, "show", "director", "--json")
        assert json.loads(live.stdout)["task"]["runId"] == second["id"]
        first = await asyncio.to_thread(bosun, sample, "show", f"{run['id']}/director", "--json")
        assert json.loads(first.stdout)["task"]["runId"] == run["id"]
        await asyncio.to_thread(bosun, sample, "cancel", str(second["id"]))
        refused = await asyncio.to_thread(bosun, sample, "show", "director")
        assert refused.returncode == 1
        assert "names a task in several runs" in refused.stderr
        assert f"{second['id']}/director (run cancelled)" in refused.stderr
        missing = await asyncio.to_thread(bosun, sample, "diff", f"{run['id']}/nope")
        assert "has no task 'nope'" in missing.stderr and "readme" in missing.stderr
