"""The after-action report of an attempt: what was done, which files, which decisions.

The worker loop notes every tool call in a `Trace`; at the end the report joins the
worker's own `finish` summary with what git sees in the worktree, so a worker that
forgets to list a file (or never finishes) still gets an honest report for QA,
reviewers and the next Phoenix attempt.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bosun.errors import GitError
from bosun.git.hardening import DIFF_FLAGS
from bosun.git.pinned import pinned_command
from bosun.tools.errors import ToolError
from bosun.tools.paths import Worktree
from bosun.tools.results import bound_text

log = logging.getLogger(__name__)

_WRITERS = {"write_file", "edit_file", "delete_file"}
_GIT_TIMEOUT_S = 30.0


@dataclass
class ToolNote:
    """One tool call as the report tells it."""

    name: str
    target: str  # the path or command it acted on
    failed: bool


@dataclass
class Trace:
    """What an attempt did, noted as it goes."""

    calls: list[ToolNote] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    last_text: str = ""

    def note(self, name: str, arguments: dict[str, Any], failed: bool) -> None:
        """Record a call (and a decision or written file it implies)."""
        target = arguments.get("path") or arguments.get("command") or ""
        self.calls.append(ToolNote(name, str(target)[:160], failed))
        if failed:
            return
        if name in _WRITERS and isinstance(arguments.get("path"), str):
            path = arguments["path"]
            if path not in self.written:
                self.written.append(path)
        elif name == "log_design_decision":
            decision = str(arguments.get("decision", ""))
            rationale = str(arguments.get("rationale", ""))
            self.decisions.append(f"{decision} — {rationale}" if rationale else decision)

    def story(self, limit: int = 12) -> str:
        """What was tried, in one paragraph (for an attempt that did not finish)."""
        if not self.calls:
            return "no tool was called"
        shown = self.calls[-limit:]
        parts = [f"{c.name}({c.target})" + (" failed" if c.failed else "") for c in shown]
        skipped = len(self.calls) - len(shown)
        lead = f"{skipped} earlier call(s), then " if skipped else ""
        return f"{len(self.calls)} tool call(s): {lead}" + ", ".join(parts)


async def git_output(worktree: Path, *args: str) -> str | None:
    """A git command's output in `worktree`, or None when it fails or hangs (or must not
    run: the worktree is not one the daemon made, or was tampered with)."""
    try:
        argv, env = pinned_command(worktree, *args)
    except GitError as exc:
        log.warning("no git in %s: %s", worktree, exc.message)
        return None
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=worktree,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), _GIT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    if proc.returncode != 0:
        return None
    return out.decode("utf-8", "replace")


async def _git_lines(worktree: Path, *args: str) -> list[str] | None:
    out = await git_output(worktree, *args)
    return None if out is None else [line for line in out.splitlines() if line]


async def changed_files(worktree: Path, base: str | None) -> list[str] | None:
    """Files that differ from `base` (committed or not) plus untracked ones; None if git fails."""
    try:
        tracked = await _git_lines(worktree, "diff", "--name-only", base or "HEAD", "--")
        untracked = await _git_lines(worktree, "ls-files", "--others", "--exclude-standard")
    except OSError as exc:
        log.warning("cannot list changes in %s: %s", worktree, exc)
        return None
    if tracked is None or untracked is None:
        return None
    return sorted(set(tracked) | set(untracked))


@dataclass
class AfterAction:
    """The report's parts, before they go into an `AttemptReport`."""

    summary: str
    files_changed: list[str]
    decisions: list[str]


async def after_action(
    trace: Trace,
    worktree: Path,
    base: str | None,
    *,
    finished_summary: str | None,
    claimed_files: list[str],
    ending: str,
) -> AfterAction:
    """Join the worker's claims with what the worktree shows."""
    seen = await changed_files(worktree, base)
    # git is the truth; the worker's own account only stands in when git cannot answer.
    files = seen if seen is not None else sorted({*trace.written, *claimed_files})
    if finished_summary is not None:
        summary = finished_summary.strip()
        unlisted = sorted(set(files) - set(claimed_files))
        if claimed_files and unlisted:
            summary += f"\n(also changed, not listed by the worker: {', '.join(unlisted)})"
    else:
        last = trace.last_text.strip()
        summary = f"{ending}. Tried: {trace.story()}."
        if last:
            summary += f" Last words: {last[:400]}"
    return AfterAction(summary=summary, files_changed=files, decisions=list(trace.decisions))


async def worktree_diff(worktree: Path, base: str | None, limit: int = 40_000) -> str:
    """What the attempt changed, as a diff (new files shown whole), cut to about `limit`."""
    try:
        diff = await git_output(worktree, "diff", "--no-color", *DIFF_FLAGS, base or "HEAD", "--")
        untracked = await _git_lines(worktree, "ls-files", "--others", "--exclude-standard")
    except OSError as exc:
        return f"(the diff could not be computed: {exc})"
    parts = [diff or ""]
    tree = Worktree(worktree)
    for name in untracked or []:
        # Through the file tools' walk: a link (to ~/.ssh, /proc/self/environ...) or a
        # hard-linked name is not followed by the daemon on the task's behalf.
        try:
            data, _ = tree.read_bytes(name, limit // 4)
        except (ToolError, OSError):
            continue
        text = data.decode("utf-8", errors="replace")
        parts.append(f"--- new file (not yet committed): {name}\n{text[: limit // 4]}")
    return bound_text("\n".join(p for p in parts if p) or "(no changes)", limit, what="diff")
