"""Whether an attempt gets anywhere in its worktree: the watchdog's progress rules.

- **No change for N turns**: after each turn the worktree's state is fingerprinted (one
  `git status`: HEAD, every changed or untracked path, with each such file's size and
  modification time), and the turns since it last changed are counted. Only for
  profiles that can write files (a planner's attempt changes nothing by design).
- **Edits far outside the task's scope**: when the task's text names paths, the files
  changed against the base that lie outside every named path's neighbourhood (its
  directory's parent) are counted; tests and documentation are always in scope, and a
  task naming a file at the top of the repository has no narrower scope at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bosun.agents.report import changed_files, git_output
from bosun.git.hardening import STATUS_FLAGS

# A path in a task's text: with a slash, or a top-level file with a usual extension.
_EXTENSIONS = "py|js|ts|tsx|jsx|go|rs|java|kt|c|h|cc|cpp|cs|rb|php|swift|sql|sh|toml|json|yaml|yml"
_PATH = re.compile(rf"(?<![\w:/.-])((?:[\w.-]+/)+[\w.-]*|[\w-]+\.(?:{_EXTENSIONS}))(?![\w/])")
_ALWAYS = re.compile(r"(^|/)(tests?|spec|docs?)/|(^|/)test_[^/]*$|_test\.[^/]+$|\.md$")
_SHOWN = 3  # out-of-scope files named in the alarm
Finding = tuple[Literal["no_progress", "scope"], str]


def scope_roots(text: str) -> list[str] | None:
    """The directories a task's text points at (each named path's directory's parent,
    so neighbours count as in scope); None when it names none or one at the top (then
    any file is in scope)."""
    roots: set[str] = set()
    for found in _PATH.findall(text):
        path = found.strip("./")
        if not path or _ALWAYS.search(path) or _ALWAYS.search(path + "/"):
            continue  # tests and docs are in scope anyway: they say nothing of where
        folder = posixpath.dirname(path) if "." in posixpath.basename(path) else path
        root = posixpath.dirname(folder.rstrip("/"))
        if not root:
            return None  # a top-level name: the whole repository is the neighbourhood
        roots.add(root + "/")
    return sorted(roots) or None


def out_of_scope(files: list[str], roots: list[str], named: str) -> list[str]:
    """The changed `files` under none of `roots`, not named in the task, not tests/docs."""
    return [
        f
        for f in files
        if not any(f.startswith(r) for r in roots) and f not in named and not _ALWAYS.search(f)
    ]


async def fingerprint(worktree: Path) -> str | None:
    """A digest of the worktree's state; None when git cannot say."""
    status = await git_output(
        worktree, "status", *STATUS_FLAGS, "--porcelain=v2", "--branch", "-z",
        "--untracked-files=all",
    )  # fmt: skip
    if status is None:
        return None
    # Off the event loop: a turn can leave thousands of untracked files.
    return await asyncio.to_thread(_digest, worktree, status)


def _digest(worktree: Path, status: str) -> str:
    """The status with each listed file's size and mtime (of the entry itself: a link
    the attempt made is never followed out of the worktree)."""
    digest = hashlib.sha256(status.encode())
    for entry in status.split("\0"):
        if not entry or entry.startswith("#"):
            continue
        name = entry.rsplit(" ", 1)[-1] if entry[0] in "12u" else entry[2:]
        try:
            stat = (worktree / name).lstat()
        except OSError:
            continue  # deleted, or a rename's second half
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


@dataclass
class WorktreeWatch:
    """Per attempt: the turns since the worktree last changed, and what changed where."""

    worktree: Path
    base: str | None
    task_text: str
    idle_turns: int = 15  # turns without a change that raise an alarm (0: off)
    scope_limit: int = 8  # files changed far outside the task's scope (0: off)
    writes: bool = True  # the profile can change files at all
    _last: str | None = None
    _idle: int = 0
    _roots: list[str] | None = field(default=None, init=False)
    _blind: bool = False

    def __post_init__(self) -> None:
        # Only directories the repository has ("and/or" in prose is not a path).
        roots = [r for r in scope_roots(self.task_text) or [] if (self.worktree / r).is_dir()]
        self._roots = roots or None

    async def begin(self) -> None:
        """The worktree's state before the first turn, to compare the first turn with."""
        if self.idle_turns or self.scope_limit:
            self._last = await fingerprint(self.worktree)
            self._blind = self._last is None

    def reset(self) -> None:
        """Count afresh (after a warning, the model gets its fair chance)."""
        self._idle = 0

    async def after_turn(self) -> Finding | None:
        """(kind, what was seen) when a rule fires after this turn, else None."""
        if self._blind:
            return None
        if not (self.idle_turns and self.writes) and not (self.scope_limit and self._roots):
            return None
        now = await fingerprint(self.worktree)
        if now is None:
            self._blind = True  # git cannot say here (not a worktree bosun made): stay quiet
            return None
        changed, self._last = now != self._last, now
        if not changed:
            self._idle += 1
            if self.writes and self.idle_turns and self._idle >= self.idle_turns:
                return "no_progress", (
                    f"the worktree has not changed in {self._idle} turns (no file written, "
                    "edited or committed)"
                )
            return None
        self._idle = 0
        return await self._scope()

    async def _scope(self) -> Finding | None:
        if not self.scope_limit or not self._roots:
            return None
        files = await changed_files(self.worktree, self.base)
        far = out_of_scope(files or [], self._roots, self.task_text)
        if len(far) < self.scope_limit:
            return None
        more = f" and {len(far) - _SHOWN} more" if len(far) > _SHOWN else ""
        return "scope", (
            f"{len(far)} changed files lie far outside what the task names "
            f"({', '.join(self._roots)}): {', '.join(far[:_SHOWN])}{more}"
        )
