"""Watching the workspace: the user's base branches moving, and `.bosun/config.toml`.

Only a few directories are watched, none recursively (task worktrees hold thousands of
files agents keep rewriting): the git directory (HEAD, packed-refs), `refs/heads` and the
parent directory of any base branch with a slash in its name, and the state directory.
A periodic re-check covers anything a watch misses (branches created later, network
filesystems).

- A base branch that moved while its run is active is reported once per new head:
  event `run.base_moved` on the run, with `{branch, from, to}`.
- A changed config file is reloaded; an invalid one is reported (`settings.invalid`,
  with the message naming the key) and the previous settings stay in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import watchfiles
from bosun_protocol.entities import RunState

from bosun.board.store import Store
from bosun.config import ConfigError, Settings, load_settings
from bosun.workspace import Workspace

log = logging.getLogger(__name__)

ACTIVE_RUNS = {
    RunState.PENDING,
    RunState.PLANNING,
    RunState.RUNNING,
    RunState.PAUSED,
    RunState.LANDING,
}
SEEN_JOURNAL = "base_seen"


def _git_dir(root: Path) -> Path:
    out = subprocess.run(
        ["git", "rev-parse", "--git-common-dir"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    path = Path(out.stdout.strip())
    return path if path.is_absolute() else (root / path).resolve()


def _branch_head(root: Path, branch: str) -> str | None:
    out = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", f"refs/heads/{branch}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return out.stdout.strip() or None if out.returncode == 0 else None


class WorkspaceWatcher:
    """Start with `await start()`, stop with `await stop()`; both are idempotent."""

    def __init__(
        self,
        workspace: Workspace,
        store: Store,
        on_settings: Callable[[Settings], None],
        *,
        overrides: Callable[[], dict[str, Any]] | None = None,
        debounce_ms: int = 200,
        recheck_s: float = 30.0,
    ) -> None:
        self.workspace = workspace
        self.store = store
        self.on_settings = on_settings
        self.overrides = overrides
        self.debounce_ms = debounce_ms
        self.recheck_s = recheck_s
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self._checking = asyncio.Lock()  # one check at a time: a move is reported once
        self._task: asyncio.Task[None] | None = None
        self._config_text: bytes | None = None

    async def start(self) -> None:
        """Watch in the background; returns once the watch is in place and one check ran."""
        if self._task is not None:
            return
        self._config_text = await asyncio.to_thread(self._read_config)
        self._stop.clear()
        self._ready.clear()
        self._task = asyncio.create_task(self._loop(), name="workspace-watcher")
        self._task.add_done_callback(_log_crash)
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to end."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _read_config(self) -> bytes | None:
        try:
            return self.workspace.config_path.read_bytes()
        except OSError:
            return None

    async def _paths(self) -> list[Path]:
        git_dir = await asyncio.to_thread(_git_dir, self.workspace.root)
        paths = {git_dir, git_dir / "refs" / "heads", self.workspace.state_dir}
        for run in await self.store.list_runs(limit=1000):
            if run.state in ACTIVE_RUNS and run.base_branch and "/" in run.base_branch:
                paths.add((git_dir / "refs" / "heads" / run.base_branch).parent)
        return sorted(p for p in paths if p.is_dir())

    async def _check_all(self) -> None:
        await self.reload_settings()
        await self.check_base_branches()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            paths = await self._paths()
            fresh, last_check = True, loop.time()
            # A short timeout: the first (empty) yield proves the watch exists, so a check
            # right then catches whatever changed before it did.
            async for changes in watchfiles.awatch(
                *paths,
                watch_filter=lambda _change, path: not path.endswith(".lock"),
                debounce=self.debounce_ms,
                recursive=False,
                stop_event=self._stop,
                rust_timeout=250,
                yield_on_timeout=True,
            ):
                if fresh:
                    fresh = False
                    await self._check_all()
                    self._ready.set()
                elif changes:
                    names = {Path(p).name for _, p in changes}
                    if self.workspace.config_path.name in names:
                        await self.reload_settings()
                    await self.check_base_branches()
                elif loop.time() - last_check >= self.recheck_s:
                    last_check = loop.time()
                    await self._check_all()
                    if await self._paths() != paths:
                        break  # a run with a new base directory: watch it too

    async def reload_settings(self) -> Settings | None:
        """Reload the config file if it changed; None when unchanged or invalid."""
        text = await asyncio.to_thread(self._read_config)
        if text == self._config_text:
            return None
        self._config_text = text
        overrides = self.overrides() if self.overrides else None
        try:
            settings = await asyncio.to_thread(load_settings, self.workspace.config_path, overrides)
        except ConfigError as exc:
            await self.store.append_event("settings.invalid", data={"error": exc.message})
            log.warning("config not reloaded: %s", exc.message)
            return None
        self.on_settings(settings)
        await self.store.append_event(
            "settings.reloaded", data={"path": str(self.workspace.config_path)}
        )
        return settings

    async def check_base_branches(self) -> list[int]:
        """Report every active run whose base branch moved since last seen; their ids."""
        async with self._checking:
            return await self._check_bases()

    async def _check_bases(self) -> list[int]:
        moved: list[int] = []
        for run in await self.store.list_runs(limit=1000):
            if run.state not in ACTIVE_RUNS or not run.base_branch or not run.base_commit:
                if run.state not in ACTIVE_RUNS and await self.store.journal_get(
                    SEEN_JOURNAL, str(run.id)
                ):
                    await self.store.journal_delete(SEEN_JOURNAL, str(run.id))
                continue
            head = await asyncio.to_thread(_branch_head, self.workspace.root, run.base_branch)
            seen = await self.store.journal_get(SEEN_JOURNAL, str(run.id))
            last = str(seen["head"]) if seen else run.base_commit
            if head is None or head == last:
                continue
            data = {"branch": run.base_branch, "from": last, "to": head, "base": run.base_commit}
            # Event first: a crash in between reports the move twice, never not at all.
            await self.store.append_event("run.base_moved", run_id=run.id, data=data)
            await self.store.journal_put(SEEN_JOURNAL, str(run.id), {"head": head})
            moved.append(run.id)
        return moved


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the workspace watcher stopped", exc_info=task.exception())
