"""Which git directory and work tree the daemon's git uses: its own records, never a
worktree's `.git`.

A task's worktree is writable by the commands the task runs, so its `.git` file (and,
where the sandbox cannot protect them, the files of its admin directory
`<common>/worktrees/<name>`) may say anything. The daemon therefore names both
directories itself (GIT_DIR, GIT_COMMON_DIR, GIT_WORK_TREE, which also beat any
`core.worktree`), and before each git call checks that the worktree still looks exactly
as `git worktree add` left it. A mismatch is tampering: no git runs there, and the
caller rebuilds the worktree (`bosun.git.tampering`).
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bosun.errors import GitError, WorkspaceError

_MAX_META = 4096  # a `.git` file or admin record longer than this was not written by git
# What `git worktree add` copies into a new worktree's config.worktree (when the user's
# repository uses extensions.worktreeConfig): the sparse-checkout switches. Anything else
# there was not written by git for the daemon.
_WORKTREE_CONFIG_KEYS = frozenset({"core.sparsecheckout", "core.sparsecheckoutcone", "core.bare"})


class WorktreeTamperedError(GitError):
    """A task's worktree no longer matches what the daemon created: its git metadata
    was changed from inside, so the daemon runs no git there until it is rebuilt."""

    def __init__(self, work_tree: Path, what: str) -> None:
        super().__init__(
            f"the worktree {work_tree} was tampered with: {what}. Bosun runs no git in a "
            "worktree whose git metadata was changed from inside; its uncommitted changes "
            "are discarded and it is rebuilt from its branch's last commit",
            data={"worktree": str(work_tree), "tampered": what},
        )
        self.work_tree = work_tree
        self.what = what


@dataclass(frozen=True)
class GitDirs:
    """Where one git call looks: its git dir, the repository's common dir, its work tree."""

    git_dir: Path
    common_dir: Path
    work_tree: Path

    def env(self) -> dict[str, str]:
        """The variables that make git use exactly these directories."""
        return {
            "GIT_DIR": str(self.git_dir),
            "GIT_COMMON_DIR": str(self.common_dir),
            "GIT_WORK_TREE": str(self.work_tree),
        }


def repository_dirs(root: Path) -> GitDirs:
    """The user's checkout at `root` as git would find it there: its `.git` directory,
    or the gitdir its `.git` file names (a linked worktree or submodule of the user's).
    That `.git` is the user's own, which no sandbox can write."""
    top = Path(os.path.normpath(root))
    dotgit = top / ".git"
    if os.path.isdir(dotgit) and not os.path.islink(dotgit):
        git_dir = dotgit
    else:
        text = _read_small(dotgit)
        named = _target(text, "gitdir: ", top) if text is not None else None
        if named is None:
            bare = os.path.isfile(top / "HEAD") and os.path.isdir(top / "objects")
            what = "a bare repository" if bare else "not a git checkout"
            raise WorkspaceError(
                f"{top} is {what}: bosun needs a repository with a working tree (.git)"
            )
        git_dir = Path(os.path.realpath(named))
    common_text = _read_small(git_dir / "commondir")
    common = _target(common_text, "", git_dir) if common_text is not None else None
    return GitDirs(git_dir, Path(os.path.realpath(common or git_dir)), top)


def _read_small(path: Path) -> str | None:
    """A small regular file's text (never through a link), None when it is anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_META:
            return None
        return os.read(fd, _MAX_META + 1).decode("utf-8", "replace")
    finally:
        os.close(fd)


def _target(text: str, prefix: str, relative_to: Path) -> Path | None:
    """The path a one-line git record names (absolute, or relative as git ≥ 2.48 may
    write them), normalised without following links."""
    body = text[:-1] if text.endswith("\n") else text
    if not body.startswith(prefix) or "\n" in body:
        return None
    named = body[len(prefix) :]
    if not named or "\0" in named:
        return None
    return Path(os.path.normpath(relative_to / named))


def _admin_points_at(admin: Path, work_tree: Path) -> bool:
    text = _read_small(admin / "gitdir")
    return text is not None and _target(text, "", admin) == work_tree / ".git"


class Pins:
    """The daemon's records of one repository: its checkout, and which admin directory
    each worktree the daemon made (under `worktrees_dir`) belongs to."""

    def __init__(self, checkout: Path, worktrees_dir: Path) -> None:
        self.checkout = Path(os.path.normpath(checkout))
        self.worktrees_dir = Path(os.path.normpath(worktrees_dir))
        self._root: GitDirs | None = None
        self._admins: dict[Path, Path] = {}  # work tree → its admin dir, once seen

    @property
    def root(self) -> GitDirs:
        """The checkout's directories, read on first use (the service exists before it
        is known to be a usable repository; start_run says why it is not)."""
        if self._root is None:
            self._root = repository_dirs(self.checkout)
        return self._root

    @property
    def common(self) -> Path:
        """The repository's common git dir."""
        return self.root.common_dir

    def dirs_for(self, cwd: Path) -> GitDirs:
        """The directories of a git call run in `cwd`: the checkout, or one of the
        daemon's worktrees checked untampered; anything else is refused."""
        where = Path(os.path.normpath(cwd))
        if where == self.checkout:
            return self.root
        if where.parent != self.worktrees_dir:
            raise GitError(
                f"bosun runs git only in the repository {self.checkout} and its own "
                f"worktrees under {self.worktrees_dir}, not in {where}"
            )
        return self.worktree(where)

    def worktree(self, work_tree: Path) -> GitDirs:
        """A worktree's directories, after checking it is as git made it."""
        admin = self._admin_of(work_tree)
        problem = self.check(work_tree, admin)
        if problem is not None:
            raise WorktreeTamperedError(work_tree, problem)
        return GitDirs(admin, self.common, work_tree)

    def forget(self, work_tree: Path) -> Path | None:
        """Drop what is remembered of a worktree (removed or rebuilt); its admin dir."""
        return self._admins.pop(Path(os.path.normpath(work_tree)), None)

    def admin_dir(self, work_tree: Path) -> Path | None:
        """The admin directory remembered or found for `work_tree`, without checks."""
        try:
            return self._admin_of(Path(os.path.normpath(work_tree)))
        except WorktreeTamperedError:
            return None

    def _admin_of(self, work_tree: Path) -> Path:
        known = self._admins.get(work_tree)
        if known is not None:
            return known  # checked (gitdir still pointing here) by check()
        # The admin dirs are in the common dir, which no sandbox can write: the one
        # whose record names this worktree is the one git made for it.
        base = self.common / "worktrees"
        try:
            names = sorted(os.listdir(base))
        except OSError:
            names = []
        for name in names:
            admin = base / name
            if _admin_points_at(admin, work_tree):
                self._admins[work_tree] = admin
                return admin
        if os.path.lexists(work_tree / ".git"):
            raise WorktreeTamperedError(
                work_tree, "no worktree registered in the repository points at it"
            )
        raise GitError(f"{work_tree} is not a worktree of {self.checkout}")

    def check(self, work_tree: Path, admin: Path) -> str | None:
        """What no longer matches in a worktree (None when everything does)."""
        try:
            info = os.lstat(work_tree)
        except OSError:
            return "its directory is gone"
        if not stat.S_ISDIR(info.st_mode) or os.path.realpath(work_tree) != str(work_tree):
            return "its directory was replaced by a link"
        try:
            admin_info = os.lstat(admin)
        except OSError:
            return f"its admin directory {admin} is gone"
        if not stat.S_ISDIR(admin_info.st_mode):
            return f"its admin directory {admin} was replaced"
        gitfile = work_tree / ".git"
        text = _read_small(gitfile)
        if text is None:
            kind = "missing" if not os.path.lexists(gitfile) else "not a plain file any more"
            return f".git is {kind}"
        if _target(text, "gitdir: ", work_tree) != admin:
            return f".git was rewritten (it now says {text.strip()[:200]!r})"
        if not _admin_points_at(admin, work_tree):
            return f"{admin / 'gitdir'} no longer points at {gitfile}"
        common = _read_small(admin / "commondir")
        if common is None or _target(common, "", admin) != self.common:
            return f"{admin / 'commondir'} no longer names {self.common}"
        return _worktree_config_problem(admin)


def _worktree_config_problem(admin: Path) -> str | None:
    """A config.worktree with more than git copies there is not the daemon's (git reads
    it only when the repository enables extensions.worktreeConfig; its keys are then
    checked either way, since a command could also turn the extension on in none mode)."""
    path = admin / "config.worktree"
    if not os.path.lexists(path):
        return None
    if _read_small(path) is None:
        return "config.worktree is not a plain file"
    out = subprocess.run(
        ["git", "config", "--file", str(path), "--no-includes", "--name-only", "--list", "-z"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1"},
        capture_output=True,
        timeout=30,
        check=False,
    )
    if out.returncode != 0:
        return "config.worktree cannot be read as a git config file"
    keys = {k.lower() for k in out.stdout.decode("utf-8", "replace").split("\0") if k}
    extra = sorted(keys - _WORKTREE_CONFIG_KEYS)
    return f"config.worktree sets {', '.join(extra)}" if extra else None


# The daemon's repositories by worktrees directory, for the code that runs git in a
# task's worktree knowing only its path (the agents' git tools, the after-action report).
_REGISTERED: dict[Path, Pins] = {}


def register(pins: Pins) -> None:
    """Make a repository's worktrees known to `pins_for`."""
    _REGISTERED[pins.worktrees_dir] = pins


def unregister(pins: Pins) -> None:
    """Forget a repository (its daemon stopped)."""
    if _REGISTERED.get(pins.worktrees_dir) is pins:
        del _REGISTERED[pins.worktrees_dir]


def pinned_dirs(work_tree: Path) -> GitDirs:
    """The checked directories of a worktree of a registered repository; GitError (or
    WorktreeTamperedError) when it is not one, or was tampered with."""
    where = Path(os.path.normpath(work_tree))
    pins = _REGISTERED.get(where.parent)
    if pins is None:
        raise GitError(f"{where} is not a worktree bosun made; it runs no git there")
    return pins.worktree(where)


def pinned_command(work_tree: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment of a daemon git in a registered worktree: pinned and
    hardened. GitError (WorktreeTamperedError) when it must not run there."""
    from bosun.git.hardening import OVERRIDE_ARGS, daemon_git_env

    return ["git", *OVERRIDE_ARGS, *args], daemon_git_env(pinned_dirs(work_tree).env())
