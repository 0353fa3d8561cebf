"""Running the git CLI: time limits, a clean environment, durable writes, off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bosun.errors import GitError
from bosun.git.hardening import OVERRIDE_ARGS, daemon_git_env
from bosun.git.pinned import Pins

# Every daemon write is durable before git returns (objects and refs fsynced); the
# rest of the command line is the decision table of bosun.git.hardening.
GIT_CONFIG_ARGS = (
    "-c",
    "core.fsync=committed,index",
    "-c",
    "core.fsyncMethod=fsync",
    *OVERRIDE_ARGS,
)


@dataclass(frozen=True)
class GitOutput:
    """What one git command printed and how it exited."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class GitCli:
    """Runs `git` in a repository with a time limit; `arun` does it off the event loop.

    Output is exact text (`decode`): no newline translation, so patches, file contents
    and -z path listings keep their CRs, and non-UTF-8 bytes survive as surrogate
    escapes; input is written back with `encode`."""

    def __init__(
        self,
        timeout_s: float = 120.0,
        identity: tuple[str, str] | None = None,
        pins: Pins | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        # With pins, every call names its git dir and work tree from the daemon's
        # records (and refuses a tampered worktree); without, git finds them in `cwd`.
        self.pins = pins
        self._identity_env: dict[str, str] = {}
        if identity:
            self.set_identity(*identity)

    def set_identity(self, name: str, email: str) -> None:
        """Author and committer of every commit made from now on."""
        self._identity_env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    def environment(self, cwd: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment of a git run in `cwd`: hardened, pinned, `extra` on top."""
        merged = dict(self._identity_env)
        if self.pins is not None:
            merged.update(self.pins.dirs_for(cwd).env())
        if extra:
            merged.update(extra)
        return daemon_git_env(merged)

    def run(
        self,
        cwd: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
        timeout_s: float | None = None,
    ) -> GitOutput:
        """Run `git args` in `cwd`; raise GitError on failure when `check`."""
        full_env = self.environment(cwd, env)
        argv = ["git", *GIT_CONFIG_ARGS, *args]
        limit = timeout_s or self.timeout_s
        try:
            # A session of its own, so a timeout kills git and anything it started.
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=full_env,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Bytes, decoded below: text mode would read CRLF and a lone CR as LF.
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise GitError(f"cannot run git in {cwd}: {exc.strerror}") from exc
        try:
            raw_out, raw_err = proc.communicate(
                input=None if input is None else encode(input), timeout=limit
            )
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise git_timeout(args, limit) from None
        result = GitOutput(tuple(args), proc.returncode, decode(raw_out), decode(raw_err))
        if check and not result.ok:
            raise git_failure(result)
        return result

    async def arun(
        self,
        cwd: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
        timeout_s: float | None = None,
    ) -> GitOutput:
        """`run`, in a worker thread so the event loop never waits on git."""
        return await asyncio.to_thread(
            self.run, cwd, *args, env=env, input=input, check=check, timeout_s=timeout_s
        )

    def rev(self, cwd: Path, ref: str) -> str | None:
        """The commit `ref` names, or None when it does not exist."""
        out = self.run(cwd, "rev-parse", "--verify", "-q", ref + "^{commit}", check=False)
        return out.stdout.strip() or None if out.ok else None

    def is_ancestor(self, cwd: Path, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is reachable from `descendant` (equal counts)."""
        out = self.run(cwd, "merge-base", "--is-ancestor", ancestor, descendant, check=False)
        if out.returncode not in (0, 1):
            raise git_failure(out)
        return out.returncode == 0

    def tree_of(self, cwd: Path, commit: str) -> str:
        """The tree id of a commit."""
        return self.run(cwd, "rev-parse", commit + "^{tree}").stdout.strip()


def git_failure(out: GitOutput) -> GitError:
    """A GitError carrying git's own words."""
    words = (out.stderr or out.stdout).strip().splitlines()
    said = "; ".join(words[-5:]) if words else f"exit status {out.returncode}"
    verb = " ".join(out.args[:2])
    return GitError(f"git {verb} failed: {said}", data={"args": list(out.args)})


def git_timeout(args: Sequence[str], limit: float) -> GitError:
    """The error of a git stopped at its time limit."""
    return GitError(
        f"`git {' '.join(args[:3])}` took longer than {limit:g}s and was stopped",
        data={"args": list(args)},
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def decode(raw: bytes) -> str:
    """Git's output as exact text: every byte kept, CRs included (a patch of a CRLF file
    must apply again, and a lone CR is part of its line), non-UTF-8 bytes as surrogate
    escapes so `encode` gives them back."""
    return raw.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """The bytes `decode` read `text` from (what git is given on stdin)."""
    return text.encode("utf-8", "surrogateescape")


def split_z(text: str) -> list[str]:
    """Fields of NUL-separated git output."""
    return [p for p in text.split("\0") if p]


def refs_matching(cli: GitCli, cwd: Path, prefix: str) -> dict[str, str]:
    """Full ref name → commit for every ref whose name starts with `prefix`."""
    # for-each-ref matches whole path components, so a partial last component needs a
    # glob; a prefix ending in "/" matches everything below it as it is.
    pattern = prefix if prefix.endswith("/") else prefix + "*"
    out = cli.run(cwd, "for-each-ref", "--format=%(refname)%00%(objectname)", pattern)
    refs: dict[str, str] = {}
    for line in out.stdout.splitlines():
        name, _, oid = line.partition("\0")
        refs[name] = oid
    return refs
