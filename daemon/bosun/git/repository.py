"""Checking that a repository can host a run, and the names bosun gives its refs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git
from bosun_protocol.entities import Task

from bosun.errors import WorkspaceError

ZERO_OID = "0" * 40
RUN_PREFIX = "bosun/run-"
TASK_PREFIX = "bosun/task-"
SELECTED_PREFIX = "refs/bosun/selected/task-"
ATTEMPTS_PREFIX = "refs/bosun/attempts/"
# With squashed merges a task's commits are never ancestors of the run branch: these
# refs record which commits a merge took in (refs/bosun/merged/task-<id>/<what>).
MERGED_PREFIX = "refs/bosun/merged/"


def run_branch(run_id: int) -> str:
    """The branch a run's merged work accumulates on (never checked out by bosun)."""
    return f"{RUN_PREFIX}{run_id}"


def task_branch(task_id: int) -> str:
    """The branch a task's worktree works on."""
    return f"{TASK_PREFIX}{task_id}"


def selected_ref(task_id: int) -> str:
    """The ref holding a task's reviewed-and-selected hunks, when only some were approved."""
    return f"{SELECTED_PREFIX}{task_id}"


def merged_ref(task_id: int, what: str) -> str:
    """Where a squashed merge records a commit it took in for task `task_id`."""
    return f"{MERGED_PREFIX}task-{task_id}/{what}"


def attempt_ref(task_id: int, attempt: int) -> str:
    """Where a reset keeps an earlier attempt's commits reachable."""
    return f"{ATTEMPTS_PREFIX}task-{task_id}/{attempt}"


def id_after(name: str, prefix: str) -> int | None:
    """The number in `bosun/task-12` (given its prefix), or None for any other name."""
    if not name.startswith(prefix):
        return None
    tail = name[len(prefix) :]
    return int(tail) if tail.isdigit() else None


def commit_message(summary: str, task: Task, attempt: int) -> str:
    """A daemon commit message: the summary, then trailers naming task and attempt."""
    first = summary.strip().splitlines()[0][:200] if summary.strip() else f"task {task.key}"
    return f"{first}\n\nBosun-Run: {task.run_id}\nBosun-Task: {task.id}\nBosun-Attempt: {attempt}\n"


def task_commit_message(task: Task, summary: str | None) -> str:
    """The one commit a task puts on the run branch when squashed: what it did (its
    final attempt's summary) under its key, the task's title, then the trailers."""
    said = (summary or "").strip()
    if not said or said.startswith("bosun:"):
        said = task.title.strip()
    subject = f"{task.key}: {said}"[:200]
    tries = "attempt" if task.attempt == 1 else "attempts"
    return (
        f"{subject}\n\nTask #{task.id} ({task.key}): {task.title.strip()[:500]}\n"
        f"{task.attempt} {tries}; each is kept at refs/bosun/attempts/task-{task.id}/<n>.\n\n"
        f"Bosun-Run: {task.run_id}\nBosun-Task: {task.id}\nBosun-Attempt: {task.attempt}\n"
    )


@dataclass(frozen=True)
class BaseFacts:
    """The base a run starts from."""

    branch: str
    commit: str


def inspect_base(root: Path, base_branch: str | None) -> BaseFacts:
    """The run's base branch and commit; a WorkspaceError naming the fix when unusable."""
    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise WorkspaceError(
            f"{root} is not a git repository. Run bosun inside a repository, or create one "
            "with `git init && git commit --allow-empty -m init`."
        ) from exc
    try:
        if repo.bare:
            raise WorkspaceError(
                f"{root} is a bare repository: bosun needs a working tree. "
                "Clone it (`git clone <bare> <dir>`) and run bosun in the clone."
            )
        if not repo.head.is_valid():
            raise WorkspaceError(
                f"the repository at {root} has no commits yet. Make a first commit "
                "(`git commit --allow-empty -m init`) and start the run again."
            )
        # Not `repo.heads`: GitPython walks refs/heads itself and fails on the `.lock`
        # files git holds while another worktree or run is updating a ref; git does not.
        listing = repo.git.for_each_ref("--format=%(objectname) %(refname)", "refs/heads")
        branches = {
            ref.removeprefix("refs/heads/"): sha
            for sha, _, ref in (line.partition(" ") for line in listing.splitlines())
        }
        if base_branch is None:
            if repo.head.is_detached:
                raise WorkspaceError(
                    "HEAD is detached, so bosun cannot tell which branch to build on. "
                    "Check out a branch (`git switch <branch>`) or name one: "
                    "`bosun run --base <branch> …` (the run option baseBranch)."
                )
            base_branch = repo.active_branch.name
        if base_branch.startswith(("bosun/", "refs/")):
            raise WorkspaceError(
                f"{base_branch!r} cannot be a base branch: name one of your own branches "
                "(bosun/* branches belong to bosun)."
            )
        if base_branch not in branches:
            known = ", ".join(sorted(b for b in branches if not b.startswith("bosun/")))
            raise WorkspaceError(
                f"the base branch {base_branch!r} does not exist in {root}. "
                f"Existing branches: {known or '(none)'}. Create it or pick one of those."
            )
        return BaseFacts(branch=base_branch, commit=branches[base_branch])
    finally:
        repo.close()


@dataclass(frozen=True)
class UserTree:
    """The state of the user's main worktree that landing must respect."""

    head_branch: str | None
    dirty: list[str]
    operation: str | None


def inspect_user_tree(root: Path) -> UserTree:
    """Which branch HEAD is on, what is modified (tracked files), and any git operation
    in progress — read without refreshing (so without writing) the user's index."""
    repo = git.Repo(root)
    try:
        head = None if repo.head.is_detached else repo.active_branch.name
        # --no-optional-locks: a plain `git status` would rewrite the index's stat cache.
        status = repo.git.execute(
            ["git", "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=no"]
        )
        dirty = [entry[3:] for entry in str(status).split("\0") if len(entry) > 3]
        gitdir = Path(repo.git_dir)
        operation = None
        for marker, name in (
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase or am"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
            ("BISECT_LOG", "a bisect"),
        ):
            if (gitdir / marker).exists():
                operation = name
                break
        return UserTree(head_branch=head, dirty=dirty, operation=operation)
    finally:
        repo.close()
