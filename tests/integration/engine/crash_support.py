"""For the crash-recovery tests: killing the daemon, and reading its board and git as a
crash (or a finished run) left them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from bosun.board.location import BoardSettings, PostgresBoard, board_location
from bosun.config import read_config_file
from bosun.workspace import Workspace
from psycopg.rows import dict_row

from tests.integration.engine.daemon_process import RUN_TIMEOUT, Daemon


async def kill(d: Daemon) -> None:
    """SIGKILL the test's daemon (by its pid), as a power cut would, and wait until it is gone."""
    assert d.proc is not None
    with contextlib.suppress(ProcessLookupError):
        os.kill(d.proc.pid, signal.SIGKILL)
    await asyncio.to_thread(d.proc.wait, RUN_TIMEOUT)


async def exit_status(d: Daemon) -> int:
    """The daemon's exit status once it ends (negative: the signal that ended it)."""
    assert d.proc is not None
    return await asyncio.to_thread(d.proc.wait, RUN_TIMEOUT)


@dataclass
class BoardView:
    """What the board says, read straight from its SQLite file (read-only)."""

    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    attempts: dict[tuple[int, int], str] = field(default_factory=dict)  # → outcome
    journal: list[tuple[str, str]] = field(default_factory=list)
    commits: set[str] = field(default_factory=set)  # every commit the board recorded

    def attempts_of(self, task_id: int) -> dict[int, str]:
        return {n: o for (t, n), o in self.attempts.items() if t == task_id}


def _read_board(path: Path) -> BoardView:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        view = BoardView()
        for row in db.execute("SELECT * FROM runs"):
            view.runs[row["id"]] = dict(row)
        for row in db.execute("SELECT * FROM tasks"):
            view.tasks[row["id"]] = dict(row)
            if row["head_commit"]:
                view.commits.add(row["head_commit"])
        for row in db.execute("SELECT task_id, number, outcome FROM attempts"):
            view.attempts[(row["task_id"], row["number"])] = row["outcome"]
        view.journal = [(r["kind"], r["key"]) for r in db.execute("SELECT kind, key FROM journal")]
        query = "SELECT json_extract(data, '$.commit') FROM events WHERE kind = 'task.committed'"
        view.commits |= {r[0] for r in db.execute(query) if r[0]}
        return view
    finally:
        db.close()


def _read_postgres_board(board: PostgresBoard) -> BoardView:
    with psycopg.connect(board.url, password=board.password, row_factory=dict_row) as db:
        db.execute(f'SET search_path TO "{board.schema}"')
        view = BoardView()
        for row in db.execute("SELECT * FROM runs"):
            view.runs[row["id"]] = row
        for row in db.execute("SELECT * FROM tasks"):
            view.tasks[row["id"]] = row
            if row["head_commit"]:
                view.commits.add(row["head_commit"])
        for row in db.execute("SELECT task_id, number, outcome FROM attempts"):
            view.attempts[(row["task_id"], row["number"])] = row["outcome"]
        view.journal = [(r["kind"], r["key"]) for r in db.execute("SELECT kind, key FROM journal")]
        query = "SELECT data->>'commit' AS c FROM events WHERE kind = 'task.committed'"
        view.commits |= {r["c"] for r in db.execute(query) if r["c"]}
        return view


async def read_board(ws: Workspace) -> BoardView:
    """The board as its database holds it now (safe while the daemon runs: WAL readers
    on SQLite; on PostgreSQL, where the workspace's config puts it, plain reads)."""
    settings = BoardSettings.model_validate(read_config_file(ws.config_path).get("board", {}))
    where = board_location(settings, ws.root, ws.db_path)
    if isinstance(where, PostgresBoard):
        return await asyncio.to_thread(_read_postgres_board, where)
    return await asyncio.to_thread(_read_board, where)


def git_run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` (its exit status matters to the caller, not only its output)."""
    return subprocess.run(
        ["git", *args], cwd=repo, check=check, capture_output=True, text=True, timeout=60
    )


def tolerate_attempt_shifts(repo: Path) -> None:
    """Point the sample at a copy of the demo scenario whose replies for a task's second
    attempt also answer any later one. A crash spends an attempt number, so the attempt
    the demo scripts as the second may be the third; the replies are otherwise the demo's."""
    config = repo / ".bosun" / "config.toml"
    text = config.read_text()
    prefix = 'default_model = "scripted:'
    start = text.index(prefix) + len(prefix)
    shipped = Path(text[start : text.index('"', start)])
    lines = shipped.read_text().splitlines(keepends=True)
    copy = repo / ".bosun" / "demo-any-retry.toml"
    copy.write_text("".join(line for line in lines if line.strip() != "attempt = 2"))
    config.write_text(text.replace(str(shipped), str(copy)))


def crash_answer(prompt: dict[str, Any]) -> dict[str, Any]:
    """The demo's answers (its README question, approvals); any other prompt fails the
    test at once instead of being retried for ever."""
    assert prompt["kind"] == "tool_approval" or (
        prompt["kind"] == "ask_human" and "README" in prompt["reason"]
    ), prompt
    if prompt["kind"] == "tool_approval":
        return {"action": "approve"}
    return {"action": "retry", "guidance": "plain code"}
