"""Worktree preparation: the project's set-up run in a task's worktree before it works.

A worktree is a fresh checkout: `.venv` and `node_modules` are ignored files, so they
are not in it. The set-up (`[worktree] setup`, or detected from the lock files by
bosun.agents.detect) makes them there, so an editable install points at *this*
worktree and QA tests the worktree's code, never the owner's checkout. It runs as a
command does (the sandbox, the allowlisted environment), with the network only when
`setup_network` allows, and with package caches shared by every worktree of the
workspace (`.bosun/cache/`, writable to set-ups only, hidden from agents' commands).

A pooled worktree is prepared when it is handed out, after it moved to its task's path:
a venv and an editable install record absolute paths. A record in `.bosun/prepared/`
says which worktree (by path and the identity of its `.git` file) was prepared with
which command; the set-up runs again when the worktree was re-created, or when an
environment it made is gone (a fresh attempt's `git clean -ffdx` removes them). A
set-up that makes no `.venv`, `venv` or `node_modules` runs before every attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bosun_protocol.entities import Profile

from bosun.agents.checks import run_check
from bosun.agents.detect import detect_setup, detect_test_command
from bosun.config import Settings
from bosun.private_files import private_dir
from bosun.tools.context import Mounts, ToolContext
from bosun.tools.project_env import ENV_BIN_DIRS, env_bins
from bosun.tools.sandbox import Sandbox

log = logging.getLogger(__name__)

PREPARED_EVENT = "worktree.prepared"
ENV_DIRS = tuple(dict.fromkeys(Path(rel).parts[0] for rel in ENV_BIN_DIRS))
_SHOWN_CHARS = 3000


@dataclass
class Preparation:
    """What preparing a worktree did: `command` None when there was nothing to run."""

    command: str | None
    ran: bool = False
    exit_code: int | None = None
    duration_s: float = 0.0
    output: str = ""
    made: list[str] = field(default_factory=list)  # environments it left in the worktree

    @property
    def ok(self) -> bool:
        """Nothing to run, already prepared, or the set-up exited 0."""
        return not self.ran or self.exit_code == 0

    def event(self) -> dict[str, Any]:
        """The `worktree.prepared` event's data."""
        return {
            "command": self.command,
            "exitCode": self.exit_code,
            "durationS": round(self.duration_s, 3),
            "made": self.made,
            "output": self.output[-_SHOWN_CHARS:],
        }

    def problem(self) -> str:
        """The environment problem a human reads when the set-up failed."""
        why = "timed out" if self.exit_code is None else f"exited {self.exit_code}"
        return (
            f"the worktree's set-up `{self.command}` {why} after {self.duration_s:.1f} s, so "
            "the task cannot run with the project's environment. Fix the set-up "
            "(`[worktree] setup` in .bosun/config.toml, `setup_network` if it must "
            "download; `bosun doctor` runs it) and retry.\n--- output ---\n"
            f"{self.output[-_SHOWN_CHARS:]}"
        )


class Preparer:
    """Runs the workspace's set-up in task worktrees (once per worktree environment)."""

    def __init__(
        self,
        settings: Settings,
        checkout: Path,
        state_dir: Path,
        *,
        sandbox: Sandbox | None = None,
        hidden: list[Path] | None = None,
    ) -> None:
        self.settings = settings
        self.checkout = checkout
        self.state_dir = state_dir
        self.sandbox = sandbox
        self.hidden = list(hidden or [])
        self.cache = state_dir / "cache"
        self.records = state_dir / "prepared"

    def setup_command(self, worktree: Path) -> str | None:
        """The configured set-up, else the detected one; None when there is none."""
        configured = self.settings.worktree.setup
        if configured is not None:
            return configured.strip() or None
        return detect_setup(worktree, self.checkout, network=self.settings.worktree.setup_network)

    async def ensure(self, worktree: Path, *, run_id: int = 0, task_id: int = 0) -> Preparation:
        """Run the set-up in `worktree` unless this worktree's environment is already made."""
        command = self.setup_command(worktree)
        if command is None:
            return Preparation(None)
        key = _identity(worktree)
        record = self._record(worktree)
        made = record.get("made") or []
        if (
            record.get("key") == key
            and record.get("command") == command
            and record.get("exitCode") == 0
            # A set-up that made none of the known environments cannot be seen to be
            # gone after a clean: it runs for every attempt instead.
            and made
            and all((worktree / d).is_dir() for d in made)
        ):
            return Preparation(command, made=list(made))
        done = await self.run(command, worktree, run_id=run_id, task_id=task_id)
        if done.ok:
            await asyncio.to_thread(self._save, worktree, {"key": key, **done.event()})
        return done

    async def run(
        self, command: str, worktree: Path, *, run_id: int = 0, task_id: int = 0
    ) -> Preparation:
        """Run `command` in `worktree` as the owner's set-up (sandbox, shared caches)."""
        limit = self.settings.worktree.setup_timeout_s
        tools = self.settings.tools.model_copy(
            update={
                "command_timeout_s": limit,
                "command_max_timeout_s": max(limit, self.settings.tools.command_max_timeout_s),
            }
        )
        await asyncio.to_thread(self._cache_dirs)
        ctx = ToolContext(
            run_id=run_id, task_id=task_id, attempt=0, worktree_path=worktree, branch="",
            profile=Profile.CODER, settings=tools, sandbox=self.sandbox,
            hidden_paths=self.hidden, mounts=Mounts(writable=[self.cache]),
            network=self.settings.worktree.setup_network, cache=self.cache,
        )  # fmt: skip
        check = await run_check(command, ctx, timeout_s=limit)
        made = [d for d in ENV_DIRS if (worktree / d).is_dir() and not (worktree / d).is_symlink()]
        if check.exit_code == 0:
            await asyncio.to_thread(_keep_out_of_commits, worktree, made)
        log.info("set-up `%s` in %s: exit %s in %.1f s", command, worktree, check.exit_code,
                 check.duration_s)  # fmt: skip
        return Preparation(command, True, check.exit_code, check.duration_s, check.output_tail,
                           made)  # fmt: skip

    def _cache_dirs(self) -> None:
        private_dir(self.cache, "the shared package cache")

    def _record_path(self, worktree: Path) -> Path:
        return self.records / f"{worktree.name}.json"

    def _record(self, worktree: Path) -> dict[str, Any]:
        try:
            data = json.loads(self._record_path(worktree).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, worktree: Path, data: dict[str, Any]) -> None:
        private_dir(self.records, "the preparation records")
        path = self._record_path(worktree)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        os.replace(tmp, path)


def environment_note(worktree: Path, settings: Settings) -> str | None:
    """What a worker should know of the worktree's own environment (None without one).

    Relative paths only, and no timings: a replayed run must send the same brief.
    """
    bins = [str(b.relative_to(worktree)) for b in env_bins(worktree)]
    if not bins:
        return None
    shown = ", ".join(f"`{b}`" for b in bins)
    lines = [
        "## The project's environment",
        f"This worktree has the project's own environment: {shown} come first on PATH, "
        "so `python`, `pytest`, `npm` scripts and the project's tools are the project's.",
    ]
    test = settings.engine.test_command or detect_test_command(worktree, settings.tools)
    if test:
        lines.append(f"QA runs `{test}` in the worktree; run it before you finish.")
    return "\n".join(lines)


def _identity(worktree: Path) -> str:
    """Which checkout this is: a re-created worktree has a new `.git` file."""
    try:
        st = (worktree / ".git").stat()
    except OSError:
        return ""
    return f"{st.st_ino}:{st.st_mtime_ns}"


def _keep_out_of_commits(worktree: Path, made: list[str]) -> None:
    """Each environment ignores itself (as uv's `.venv` does), whatever the project's
    ignore rules say: the daemon's commit of the task's work must never take a venv."""
    for name in made:
        marker = worktree / name / ".gitignore"
        if not marker.exists() and not marker.is_symlink():
            marker.write_text("*\n")
