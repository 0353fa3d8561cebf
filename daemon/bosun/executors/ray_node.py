"""One attempt on a Ray worker node: its worktree there, its tools, its test run.

The daemon makes this class a Ray actor (bosun.executors.ray_executor) and sends it
only what a node can use: git bundles, tool names with validated arguments, settings.
Nothing here reads a path of the daemon's machine. The node keeps one bare cache
repository per workspace under its own working directory (`BOSUN_NODE_DIR`, set where
the node's `ray start` runs; else the node's temporary directory), so a second attempt
on the same base receives only the commits it lacks. Worktrees are made from that cache
and removed when the attempt's actor is let go; a worktree an actor killed with its
node left behind is removed by the next attempt of the same task on that node.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from bosun_protocol.entities import Profile

from bosun.agents.api import CheckResult
from bosun.agents.checks import run_check
from bosun.errors import BosunError
from bosun.executors.bundles import BUNDLE_FETCH, failure, run_git
from bosun.git.hardening import COMMIT_FLAGS
from bosun.git.pinned import GitDirs
from bosun.own_files import TEMP_EXCLUDE_PATHSPEC
from bosun.tools import build_registry
from bosun.tools.context import ToolContext
from bosun.tools.results import ToolResult
from bosun.tools.sandbox import current_sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import ToolSettings

NODE_DIR_ENV = "BOSUN_NODE_DIR"
_IDENTITY = ("-c", "user.name=Bosun worker", "-c", "user.email=worker@bosun.invalid")


def node_dir() -> Path:
    """This node's working directory for Bosun (made on first use)."""
    given = os.environ.get(NODE_DIR_ENV)
    root = Path(given) if given else Path(tempfile.gettempdir()) / f"bosun-node-{os.getuid()}"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _git(cwd: Path, *args: str, dirs: GitDirs | None = None) -> bytes:
    """A hardened git (bundles.run_git) in the bare cache, or with `dirs` in the
    attempt's worktree: the directories recorded when it was made, never what the
    worktree's `.git` says now (the attempt's commands could have rewritten it)."""
    done = run_git(cwd, args, dirs.env() if dirs else {"GIT_DIR": str(cwd)})
    if done.returncode != 0:
        raise BosunError(f"{failure(args, done)} (node {socket.gethostname()})")
    return done.stdout


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One attempt at a time changes the node's cache repository (fetches, worktrees)."""
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class AttemptWorker:
    """One attempt's worktree on this node and what runs in it."""

    def __init__(
        self,
        workspace: str,
        run_id: int,
        task_id: int,
        attempt: int,
        branch: str,
        profile: str,
        tool_settings: dict[str, Any],
    ) -> None:
        self.root = node_dir()
        self.cache = self.root / "repos" / f"{workspace}.git"
        self.lock = self.root / "repos" / f"{workspace}.lock"
        self.prefix = f"{workspace}-task{task_id}-"
        self.worktree = self.root / "attempts" / f"{self.prefix}a{attempt}-{uuid.uuid4().hex[:8]}"
        self.branch = branch
        self.start: str | None = None
        self.dirs: GitDirs | None = None
        settings = ToolSettings.model_validate(tool_settings)
        self.registry = build_registry(settings)
        self.ctx = ToolContext(
            run_id=run_id,
            task_id=task_id,
            attempt=attempt,
            worktree_path=self.worktree,
            branch=branch,
            profile=Profile(profile),
            settings=settings,
            sandbox=current_sandbox(settings.sandbox, settings.allow_weak_sandbox),
        )
        self._sandbox: contextlib.AsyncExitStack | None = None

    def where(self) -> dict[str, Any]:
        """Which node this is, and where the attempt's worktree lives on it."""
        import ray

        return {
            "node_id": ray.get_runtime_context().get_node_id(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "node_dir": str(self.root),
            "worktree": str(self.worktree),
        }

    async def has(self, commits: list[str]) -> list[str]:
        """Which of `commits` the node's cache already holds."""
        return await asyncio.to_thread(self._has, commits)

    def _has(self, commits: list[str]) -> list[str]:
        if not (self.cache / "HEAD").exists():
            return []
        found = []
        for sha in commits:
            probe = run_git(self.cache, ("cat-file", "-e", f"{sha}^{{commit}}"),
                            {"GIT_DIR": str(self.cache)})  # fmt: skip
            if probe.returncode == 0:
                found.append(sha)
        return found

    async def receive(self, history: bytes | None, branch: bytes | None, head: str) -> None:
        """Fetch the base's history and the branch's commits (each None when the cache
        has them) into the cache, then make the worktree at `head`."""
        shipped = [b for b in (history, branch) if b is not None]
        await asyncio.to_thread(self._receive, shipped, head)
        self._sandbox = contextlib.AsyncExitStack()
        await self._sandbox.enter_async_context(attempt_sandbox(self.ctx))

    def _receive(self, bundles: list[bytes], head: str) -> None:
        self.lock.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.lock):
            if not (self.cache / "HEAD").exists():
                self.cache.mkdir(parents=True, exist_ok=True)
                _git(self.cache, "init", "-q", "--bare")
            for data in bundles:
                with tempfile.NamedTemporaryFile(dir=self.root, suffix=".bundle") as fh:
                    fh.write(data)
                    fh.flush()
                    # Every received head keeps a ref, so the next attempt's bundle can
                    # start from it and gc never drops what a later bundle builds on.
                    _git(self.cache, *BUNDLE_FETCH, "-q", "--no-tags", fh.name,
                         "+refs/*:refs/bosun/in/*")  # fmt: skip
            _git(self.cache, "update-ref", f"refs/bosun/have/{head}", head)
            self._drop_stale()
            self.worktree.parent.mkdir(parents=True, exist_ok=True)
            _git(self.cache, "worktree", "add", "-q", "-B", self.branch, str(self.worktree), head)
            # Recorded before anything of the attempt's runs there.
            found = run_git(self.worktree, ("rev-parse", "--absolute-git-dir"), {})
            if found.returncode != 0:
                raise BosunError(failure(("rev-parse",), found))
            admin = found.stdout.decode().strip()
        self.dirs = GitDirs(Path(admin), self.cache, self.worktree)
        self.start = head

    def _drop_stale(self) -> None:
        """Worktrees of this task's earlier attempts (their actors died with a node or a
        daemon): the branch can be checked out once only, and they are garbage now."""
        for old in self.worktree.parent.glob(f"{self.prefix}*"):
            with contextlib.suppress(BosunError):
                _git(self.cache, "worktree", "remove", "--force", str(old))
            shutil.rmtree(old, ignore_errors=True)
        _git(self.cache, "worktree", "prune")

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one worktree tool; failures are results, as in the daemon's pipeline."""
        tool = self.registry.get(name)
        if tool is None or tool.where != "worktree":
            return ToolResult.error(f"{name} does not run on worker nodes", "invalid")
        try:
            out = await tool.run(self.ctx, tool.args.model_validate(arguments))
        except BosunError as exc:
            return ToolResult.error(exc.message)
        except OSError as exc:
            return ToolResult.error(f"{name} failed: {exc.strerror or exc}")
        except Exception as exc:
            return ToolResult.error(f"{name} failed on the worker node: {type(exc).__name__}")
        return out if isinstance(out, ToolResult) else ToolResult(out)

    async def check(self, command: str, per_test: bool) -> CheckResult:
        """QA's test command in this worktree."""
        return await run_check(command, replace(self.ctx, profile=Profile.STRATEGIST),
                               per_test=per_test)  # fmt: skip

    async def collect(self, message: str) -> bytes | None:
        """The attempt's work as a bundle of the task branch since its start (None: no
        change). Uncommitted changes are committed first; the daemon re-commits the
        tree with its own checks, so this commit is only the vehicle."""
        return await asyncio.to_thread(self._collect, message)

    def _collect(self, message: str) -> bytes | None:
        if self.start is None or self.dirs is None:
            return None
        wt, dirs = self.worktree, self.dirs
        _git(wt, "add", "-A", "--", ".", TEMP_EXCLUDE_PATHSPEC, dirs=dirs)
        staged = run_git(wt, ("diff", "--cached", "--quiet", "--ignore-submodules=all"),
                         dirs.env())  # fmt: skip
        if staged.returncode != 0:
            _git(wt, *_IDENTITY, "commit", "-q", *COMMIT_FLAGS, "-m", message, dirs=dirs)
        head = _git(wt, "rev-parse", "HEAD", dirs=dirs).decode().strip()
        if head == self.start:
            return None
        return _git(
            wt, "bundle", "create", "-q", "-", f"refs/heads/{self.branch}", f"^{self.start}",
            dirs=dirs,
        )  # fmt: skip

    async def close(self) -> None:
        """Close the sandbox and remove the worktree (the cache stays for later attempts)."""
        if self._sandbox is not None:
            await self._sandbox.aclose()
            self._sandbox = None
        await asyncio.to_thread(self._remove)

    def _remove(self) -> None:
        if not self.worktree.exists():
            return
        with _locked(self.lock):
            with contextlib.suppress(BosunError):
                _git(self.cache, "worktree", "remove", "--force", str(self.worktree))
            shutil.rmtree(self.worktree, ignore_errors=True)
