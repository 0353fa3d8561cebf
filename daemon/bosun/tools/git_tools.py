"""Git for agents: status, diff, log, and commit on the task's own branch only.

Git runs outside the sandbox (it writes the shared object store), so it runs as the
daemon's own git does (bosun.git.hardening, bosun.git.pinned): in the git directory and
work tree the daemon recorded for this worktree — never the one its `.git` names — with
hooks, fsmonitor, signing, external diff/textconv programs and submodule recursion off,
and nested repositories never staged. A repository's content cannot make the daemon
execute anything.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from pydantic import BaseModel, Field

from bosun.errors import GitError
from bosun.git.hardening import (
    COMMIT_FLAGS,
    DIFF_FLAGS,
    OVERRIDE_ARGS,
    STATUS_FLAGS,
    git_environment,
)
from bosun.git.nested import SCAN_ARGS, NestedRepos, add_args, parse_scan
from bosun.git.pinned import pinned_dirs
from bosun.tools.context import ToolContext
from bosun.tools.errors import ToolError
from bosun.tools.process import run_process
from bosun.tools.registry import Tool
from bosun.tools.results import ToolResult

_GIT_LIMIT_S = 60.0
# From the daemon's environment, only what finds git and the user's own configuration.
_PASSED = ("PATH", "HOME", "XDG_CONFIG_HOME")


def _env(ctx: ToolContext) -> dict[str, str]:
    try:
        dirs = pinned_dirs(ctx.worktree_path)
    except GitError as exc:
        raise ToolError(f"git was not run: {exc.message}") from None
    base = {k: os.environ[k] for k in _PASSED if k in os.environ}
    base.setdefault("PATH", "/usr/bin:/bin")
    return git_environment(base, {"LANG": "C.UTF-8", **dirs.env()})


async def git(ctx: ToolContext, *args: str, check: bool = True) -> tuple[int, str]:
    """Run git in the task's worktree; (exit code, output)."""
    marker = secrets.token_hex(12)
    out = await run_process(
        ["git", *OVERRIDE_ARGS, *args],
        cwd=ctx.worktree.root,
        env={**_env(ctx), "BOSUN_COMMAND_ID": marker},
        limit_s=_GIT_LIMIT_S,
        grace=ctx.settings.kill_grace_s,
        output_limit=ctx.settings.output_limit_chars,
        marker=f"BOSUN_COMMAND_ID={marker}".encode(),
    )
    text = out.output.decode("utf-8", errors="replace")
    if out.timed_out:
        raise ToolError(f"git {args[0]} did not finish within {_GIT_LIMIT_S:g} s")
    code = out.exit_code if out.exit_code is not None else -1
    if check and code != 0:
        raise ToolError(f"git {args[0]} failed (exit {code}): {text.strip()}")
    return code, text


class NoArgs(BaseModel):
    """No arguments."""


class GitDiffArgs(BaseModel):
    """Arguments of git_diff."""

    staged: bool = Field(default=False, description="diff the index instead of the work tree")
    path: str | None = Field(default=None, max_length=4096, description="limit to this path")
    stat: bool = Field(default=False, description="only a summary of changed files")


class GitLogArgs(BaseModel):
    """Arguments of git_log."""

    max_count: int = Field(default=10, ge=1, le=100)


class GitCommitArgs(BaseModel):
    """Arguments of git_commit."""

    message: str = Field(min_length=1, max_length=5000, description="commit message")


async def git_status(ctx: ToolContext, args: NoArgs) -> str:
    """Branch and changed files."""
    _, text = await git(
        ctx, "status", "--porcelain=v1", "--branch", "--untracked-files=all", *STATUS_FLAGS
    )
    # With --untracked-files=all, only a repository of its own is listed as a directory.
    nested = [
        line[3:] for line in text.splitlines() if line.startswith("?? ") and line.endswith("/")
    ]
    if nested:
        text += "\n" + NestedRepos(repositories=nested).explain() + "\n"
    return text or "(clean)"


async def git_diff(ctx: ToolContext, args: GitDiffArgs) -> str:
    """The diff of the worktree (or index) against HEAD."""
    cmd = ["diff", *DIFF_FLAGS]
    if args.staged:
        cmd.append("--cached")
    if args.stat:
        cmd.append("--stat")
    if args.path:
        parts = ctx.worktree.split(args.path, allow_root=True)
        cmd += ["--", ":(literal)" + ("/".join(parts) or ".")]
    _, text = await git(ctx, *cmd)
    return text or "(no changes)"


async def git_log(ctx: ToolContext, args: GitLogArgs) -> str:
    """Recent commits of the task's branch."""
    fmt = "--format=%h %ad %an%n    %s"
    _, text = await git(ctx, "log", "--date=short", fmt, "-n", str(args.max_count))
    return text or "(no commits)"


async def _identity(ctx: ToolContext) -> list[str]:
    code, _ = await git(ctx, "config", "user.email", check=False)
    return [] if code == 0 else ["-c", "user.name=bosun", "-c", "user.email=bosun@localhost"]


async def git_commit(ctx: ToolContext, args: GitCommitArgs) -> ToolResult:
    """Stage everything and commit on the task's branch, tagged with task and attempt."""
    code, head = await git(ctx, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if code != 0 or head.strip() != ctx.branch:
        found = head.strip() or "a detached HEAD"
        raise ToolError(
            f"the worktree is on {found}, not the task's branch {ctx.branch}; not committing"
        )
    _, scan = await git(ctx, *SCAN_ARGS)
    nested = parse_scan(scan)
    await git(ctx, *add_args(nested))
    note = f"\n{nested.explain()}" if nested else ""
    code, _ = await git(ctx, "diff", "--cached", "--quiet", check=False)
    if code == 0:
        return ToolResult(f"nothing to commit: the worktree matches HEAD{note}")
    trailer = f"Bosun-Task: {ctx.task_id}\nBosun-Attempt: {ctx.attempt}"
    ident = await _identity(ctx)
    await git(ctx, *ident, "commit", "--quiet", *COMMIT_FLAGS, "-m", args.message, "-m", trailer)
    _, sha = await git(ctx, "rev-parse", "--short", "HEAD")
    return ToolResult(f"committed {sha.strip()} on {ctx.branch}{note}")


GIT_TOOLS: tuple[Tool[Any], ...] = (
    Tool("git_status", "Show the task branch and changed files (porcelain).", NoArgs, git_status),
    Tool("git_diff", "Show the diff of your changes against HEAD (or the index with staged).",
         GitDiffArgs, git_diff),
    Tool("git_log", "Show recent commits of the task's branch.", GitLogArgs, git_log),
    Tool("git_commit", "Stage all changes and commit them on the task's branch.",
         GitCommitArgs, git_commit, summary_field="message"),
)  # fmt: skip
