"""Git bundles between the daemon's repository and worker nodes.

Out: the commits a node lacks, per run base (the whole history up to the base once per
node and base, then only the task branch's commits since the base). In: the work an
attempt did, verified before any of it touches the daemon's repository or worktree:
within the size limit, exactly one ref and that ref the task's branch, descending from
the commit the attempt started at, and changing nothing under `.bosun/`. It is then
fetched into a quarantine ref and its tree laid into the daemon's worktree as
uncommitted changes, so the daemon commits it exactly as it commits a local attempt's
work (nested repositories, gitlinks and `.bosun/` left out, the tampering checks).
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path

from bosun.errors import GitError

_BASE_REF = "refs/bosun/ship/base"
_INCOMING = "refs/bosun/incoming/"


def _git(cwd: Path, *args: str) -> bytes:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()[-2000:]
        raise GitError(f"git {args[0]} failed: {why}")
    return done.stdout


def base_bundle(repo: Path, base: str) -> bytes:
    """Every commit up to `base` (a bundle needs a ref: one of ours, deleted after)."""
    ref = f"{_BASE_REF}-{base}"
    _git(repo, "update-ref", ref, base)
    try:
        return _git(repo, "bundle", "create", "-q", "-", ref)
    finally:
        _git(repo, "update-ref", "-d", ref)


def branch_bundle(repo: Path, branch: str, since: str | None) -> bytes | None:
    """The task branch's commits since `since` (None: nothing new to send)."""
    head = _git(repo, "rev-parse", f"refs/heads/{branch}").decode().strip()
    if head == since:
        return None
    args = [f"refs/heads/{branch}"] + ([f"^{since}"] if since else [])
    return _git(repo, "bundle", "create", "-q", "-", *args)


def head_of(repo: Path, branch: str) -> str:
    """The task branch's commit."""
    return _git(repo, "rev-parse", f"refs/heads/{branch}").decode().strip()


async def import_work(
    repo: Path, worktree: Path, data: bytes, *, branch: str, start: str, limit_bytes: int
) -> str:
    """Verify a returned bundle, fetch it, and lay its tree into `worktree`; the commit."""
    return await asyncio.to_thread(
        _import, repo, worktree, data, branch=branch, start=start, limit_bytes=limit_bytes
    )


def _import(
    repo: Path, worktree: Path, data: bytes, *, branch: str, start: str, limit_bytes: int
) -> str:
    if len(data) > limit_bytes:
        raise GitError(
            f"the attempt's work is a {len(data)}-byte bundle, over the limit of "
            f"{limit_bytes} bytes (`executor.bundle_limit_mb`); nothing was imported"
        )
    with tempfile.NamedTemporaryFile(suffix=".bundle") as fh:
        fh.write(data)
        fh.flush()
        heads = _git(repo, "bundle", "list-heads", fh.name).decode().split("\n")
        refs = [line.split(" ", 1) for line in heads if line.strip()]
        if len(refs) != 1 or refs[0][1] != f"refs/heads/{branch}":
            named = ", ".join(r[-1] for r in refs) or "none"
            raise GitError(
                f"the attempt's bundle must hold refs/heads/{branch} only; it holds {named}"
            )
        incoming = f"{_INCOMING}{branch.replace('/', '-')}"
        _git(repo, "fetch", "-q", "--no-tags", "--no-write-fetch-head", fh.name,
             f"+refs/heads/{branch}:{incoming}")  # fmt: skip
    try:
        commit = _git(repo, "rev-parse", f"{incoming}^{{commit}}").decode().strip()
        _verify(repo, start, commit)
        # The daemon's worktree ran nothing of the attempt's (it ran on the node): its
        # git metadata is as the daemon made it.
        _git(worktree, "read-tree", "-u", "--reset", commit)
        _git(worktree, "reset", "-q")
        return commit
    finally:
        _git(repo, "update-ref", "-d", incoming)


def _verify(repo: Path, start: str, commit: str) -> None:
    ancestry = subprocess.run(
        ["git", "merge-base", "--is-ancestor", start, commit], cwd=repo,
        capture_output=True, check=False, timeout=600,
    )  # fmt: skip
    if ancestry.returncode != 0:
        raise GitError(
            f"the attempt's work {commit[:12]} does not descend from {start[:12]}, the "
            "commit it was given; nothing was imported"
        )
    changed = _git(repo, "diff", "--name-only", "-z", "--no-renames", start, commit)
    bosun = [p for p in changed.decode(errors="replace").split("\0") if p.split("/")[0] == ".bosun"]
    if bosun:
        raise GitError(
            "the attempt changed Bosun's own state (" + ", ".join(bosun[:5]) + "); "
            "nothing was imported"
        )
