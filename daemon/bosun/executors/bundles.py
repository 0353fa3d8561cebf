"""Git bundles between the daemon's repository and worker nodes.

Out: the commits a node lacks, per run base (the whole history up to the base once per
node and base, then only the task branch's commits since the base). In: the work an
attempt did, verified before any of it touches the daemon's repository or worktree:
within the size limit, exactly one ref and that ref the task's branch, descending from
the commit the attempt started at, and changing nothing under `.bosun/`. It is then
fetched into a quarantine ref and its tree laid into the daemon's worktree as
uncommitted changes, so the daemon commits it exactly as it commits a local attempt's
work (nested repositories, gitlinks and `.bosun/` left out, the tampering checks).

Every git here, on either side, is hardened as the daemon's own (`run_git`): its
directories named, never found from a file an attempt could have written, and the
decision table of bosun.git.hardening on its command line, so a planted `.git`, hook or
fsmonitor setting runs nothing outside the sandbox.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from bosun.errors import GitError
from bosun.git.command import GIT_CONFIG_ARGS
from bosun.git.hardening import daemon_git_env
from bosun.git.pinned import pinned_dirs, repository_dirs

_BASE_REF = "refs/bosun/ship/base"
_INCOMING = "refs/bosun/incoming/"
# Reading a bundle is git's `file` transport, which the hardening refuses with every
# other one; allowed only on the fetches that read a bundle of Bosun's own.
BUNDLE_FETCH = ("-c", "protocol.file.allow=always", "fetch")


def run_git(
    cwd: Path, args: Sequence[str], dirs: Mapping[str, str], *, data: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """A hardened git in `cwd` with the directories `dirs` names (GIT_DIR, ...)."""
    return subprocess.run(
        ["git", *GIT_CONFIG_ARGS, *args], cwd=cwd, env=daemon_git_env(dirs), input=data,
        capture_output=True, timeout=600, check=False,
    )  # fmt: skip


def failure(args: Sequence[str], done: subprocess.CompletedProcess[bytes]) -> str:
    """What a failed git said, for the error."""
    name = next((a for a in args if not a.startswith("-") and "=" not in a), "")
    return f"git {name} failed: {done.stderr.decode(errors='replace').strip()[-2000:]}"


def _git(repo: Path, *args: str, worktree: Path | None = None) -> bytes:
    """A git in the daemon's checkout, or (`worktree`) in one of its worktrees, checked
    untampered (bosun.git.pinned)."""
    dirs = pinned_dirs(worktree) if worktree else repository_dirs(repo)
    done = run_git(worktree or repo, args, dirs.env())
    if done.returncode != 0:
        raise GitError(failure(args, done))
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
        _git(repo, *BUNDLE_FETCH, "-q", "--no-tags", "--no-write-fetch-head", fh.name,
             f"+refs/heads/{branch}:{incoming}")  # fmt: skip
    try:
        commit = _git(repo, "rev-parse", f"{incoming}^{{commit}}").decode().strip()
        _verify(repo, start, commit)
        # The daemon's worktree ran nothing of the attempt's (it ran on the node);
        # pinned_dirs still checks its git metadata is as the daemon made it.
        _git(repo, "read-tree", "-u", "--reset", commit, worktree=worktree)
        _git(repo, "reset", "-q", "--no-recurse-submodules", worktree=worktree)
        return commit
    finally:
        _git(repo, "update-ref", "-d", incoming)


def _verify(repo: Path, start: str, commit: str) -> None:
    ancestry = run_git(repo, ("merge-base", "--is-ancestor", start, commit),
                       repository_dirs(repo).env())  # fmt: skip
    if ancestry.returncode != 0:
        raise GitError(
            f"the attempt's work {commit[:12]} does not descend from {start[:12]}, the "
            "commit it was given; nothing was imported"
        )
    changed = _git(
        repo, "diff", "--no-ext-diff", "--name-only", "-z", "--no-renames", start, commit
    )
    bosun = [p for p in changed.decode(errors="replace").split("\0") if p.split("/")[0] == ".bosun"]
    if bosun:
        raise GitError(
            "the attempt changed Bosun's own state (" + ", ".join(bosun[:5]) + "); "
            "nothing was imported"
        )
