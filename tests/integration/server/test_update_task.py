"""`bosun/updateTask` over the wire: edits are atomic and a cycle is refused by name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bosun.board import RunOptions, Store, TaskSpec
from bosun.client import Client, RpcError
from bosun.workspace import Workspace

from tests.integration.server.conftest import start_daemon


async def _seed(repo: Path) -> dict[str, int]:
    ws = Workspace(repo)
    ws.ensure_state_dir()
    store = await Store.open(ws.db_path, boot_id="seed")
    try:
        run = await store.create_run("seeded", RunOptions())
        tasks = await store.create_tasks(
            run.id,
            [
                TaskSpec(key="schema", title="Design schema"),
                TaskSpec(key="api", title="Build API", depends_on=["schema"]),
                TaskSpec(key="ui", title="Build UI", depends_on=["api"]),
            ],
        )
    finally:
        await store.close()
    return {t.key: t.id for t in tasks}


async def test_cycle_is_refused_naming_it_and_nothing_changes(git_repo: Path) -> None:
    ids = await _seed(git_repo)
    d = start_daemon(git_repo)
    try:
        async with await Client.connect(d.workspace.socket_path) as c:
            with pytest.raises(RpcError) as info:
                await c.request(
                    "bosun/updateTask",
                    {
                        "taskId": ids["schema"],
                        "addDependencies": [ids["ui"]],
                        "description": "should not stick",
                    },
                )
            assert info.value.rpc_code == -32053
            assert "schema" in info.value.message and "ui" in info.value.message
            assert set(info.value.data["cycle"]) == set(ids.values())
            task = (await c.request("bosun/getTask", {"taskId": ids["schema"]}))["task"]
            assert task["dependencies"] == []
            assert task["description"] == ""
    finally:
        d.kill()


async def test_swap_dependency_and_edit_fields_in_one_request(git_repo: Path) -> None:
    ids = await _seed(git_repo)
    d = start_daemon(git_repo)
    try:
        async with await Client.connect(d.workspace.socket_path) as c:
            res = await c.request(
                "bosun/updateTask",
                {
                    "taskId": ids["ui"],
                    "removeDependencies": [ids["api"]],
                    "addDependencies": [ids["schema"]],
                    "title": "Build UI first",
                    "acceptanceCriteria": ["renders the list"],
                },
            )
            task = res["task"]
            assert task["dependencies"] == [ids["schema"]]
            assert task["title"] == "Build UI first"
            assert task["acceptanceCriteria"] == ["renders the list"]
            method, params = await asyncio.wait_for(c.notifications.get(), 20)
            while method != "bosun/taskChanged":
                method, params = await asyncio.wait_for(c.notifications.get(), 20)
            assert params["task"]["id"] == ids["ui"]
    finally:
        d.kill()
