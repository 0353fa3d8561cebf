"""`bosun lsp` serves the folder the editor has open (its `rootUri` / `workspaceFolders`),
not the directory the editor happened to start it from; a root it cannot serve is an
error the editor shows, answered in LSP, not a silent exit (issue 15, plain-LSP item 1)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bosun.server.framing import encode_frame, read_frame

from .conftest import RunningDaemon, init_repo

WAIT = 30.0


class Editor:
    """`bosun lsp` as an editor runs it: a child process on stdio, from `cwd`."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.notes: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, cwd: Path, *args: str) -> Editor:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bosun", *args, "lsp", "--no-start",
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(proc)

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode_frame(message))
        await self.proc.stdin.drain()

    async def answer(self, msg_id: Any) -> dict[str, Any]:
        """Skip notifications (kept in `self.notes`) until the response to `msg_id`."""
        assert self.proc.stdout is not None
        while True:
            body = await asyncio.wait_for(read_frame(self.proc.stdout, 1 << 24), WAIT)
            assert body is not None, "bosun lsp closed its output"
            msg = json.loads(body)
            if "method" not in msg and msg.get("id") == msg_id:
                return dict(msg)
            self.notes.append(msg)

    async def initialize(self, **params: Any) -> dict[str, Any]:
        await self.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "capabilities": {}, **params},
            }
        )
        return await self.answer(1)

    async def leave(self) -> int:
        await self.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        assert (await self.answer(2)).get("result", "missing") is None
        await self.send({"jsonrpc": "2.0", "method": "exit"})
        return await asyncio.wait_for(self.proc.wait(), WAIT)


async def test_the_editors_root_decides_the_workspace_not_the_process_directory(
    daemon: RunningDaemon, tmp_path: Path
) -> None:
    elsewhere = init_repo(tmp_path / "another-repo")  # where the editor was started
    editor = await Editor.start(elsewhere)
    reply = await editor.initialize(rootUri=daemon.workspace.root.as_uri())
    served = reply["result"]["capabilities"]["experimental"]["bosun"]["workspace"]
    assert served == str(daemon.workspace.root)
    assert await editor.leave() == 0


async def test_workspace_folders_win_over_root_uri(daemon: RunningDaemon, tmp_path: Path) -> None:
    plain_dir = tmp_path / "not-a-repo"
    plain_dir.mkdir()
    editor = await Editor.start(plain_dir)
    reply = await editor.initialize(
        rootUri=plain_dir.as_uri(),
        workspaceFolders=[{"uri": daemon.workspace.root.as_uri(), "name": "repo"}],
    )
    served = reply["result"]["capabilities"]["experimental"]["bosun"]["workspace"]
    assert served == str(daemon.workspace.root)
    assert await editor.leave() == 0


async def test_a_root_that_is_no_repository_is_an_initialize_error_the_editor_shows(
    tmp_path: Path,
) -> None:
    plain_dir = tmp_path / "notes"
    plain_dir.mkdir()
    editor = await Editor.start(plain_dir)
    reply = await editor.initialize(rootUri=plain_dir.as_uri())
    assert "not inside a git repository" in reply["error"]["message"]
    [shown] = [n for n in editor.notes if n["method"] == "window/showMessage"]
    assert (
        shown["params"]["type"] == 1
        and "not inside a git repository" in (shown["params"]["message"])
    )
    # The editor's own stop sequence still goes through; the status says it failed.
    assert await editor.leave() == 1


async def test_a_workspace_option_that_disagrees_with_the_editor_is_an_error(
    daemon: RunningDaemon, tmp_path: Path
) -> None:
    other = init_repo(tmp_path / "other")
    editor = await Editor.start(tmp_path, "--workspace", str(other))
    reply = await editor.initialize(rootUri=daemon.workspace.root.as_uri())
    message = reply["error"]["message"]
    assert str(daemon.workspace.root) in message and "--workspace" in message
    assert await editor.leave() == 1


async def test_without_a_root_the_process_directory_is_the_fallback(
    daemon: RunningDaemon,
) -> None:
    editor = await Editor.start(daemon.workspace.root)
    reply = await editor.initialize(rootUri=None)
    served = reply["result"]["capabilities"]["experimental"]["bosun"]["workspace"]
    assert served == str(daemon.workspace.root)
    assert await editor.leave() == 0
