"""Nested repositories in a task's worktree: found, left out of every commit, explained.

A directory an agent `git init`s (or clones) is a repository of its own, with a config
of its own. Committing it makes a gitlink, and a gitlink makes later `git status` /
`diff` calls recurse into it and obey that config — run its filters and fsmonitor,
outside the sandbox. So the daemon never stages one: before `git add` it lists the
untracked nested repositories and the changed gitlinks (one `status` that reads their
HEAD but runs nothing in them) and excludes them, and tells the agent why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bosun.own_files import TEMP_EXCLUDE_PATHSPEC
from bosun.workspace import STATE_DIR_NAME

if TYPE_CHECKING:
    from bosun.git.command import GitCli

# Lists untracked nested repositories as `? dir/` and gitlinks with their modes; with
# `dirty`, git reads a nested repository's HEAD in-process and runs no git inside it
# (`all` would hide a gitlink that moved, which `git add -A` would still stage).
SCAN_ARGS = (
    "status",
    "--porcelain=v2",
    "-z",
    "--untracked-files=all",
    "--ignore-submodules=dirty",
    "--no-renames",
)
_GITLINK = "160000"
# Fields before the path in each porcelain v2 record kind.
_FIELDS = {"1": 8, "2": 9, "u": 10}


@dataclass(frozen=True)
class NestedRepos:
    """What a commit leaves out: untracked nested repositories and changed gitlinks."""

    repositories: list[str] = field(default_factory=list)  # "sub/" (trailing slash)
    gitlinks: list[str] = field(default_factory=list)  # "vendor/lib"

    def __bool__(self) -> bool:
        return bool(self.repositories or self.gitlinks)

    def excluded(self) -> list[str]:
        """The paths to leave out, without a trailing slash."""
        return [p.rstrip("/") for p in self.repositories] + list(self.gitlinks)

    def explain(self) -> str:
        """The note an agent gets: what was left out, why, and what to do instead."""
        lines = []
        if self.repositories:
            shown = ", ".join(self.repositories[:10])
            more = (
                f" (and {len(self.repositories) - 10} more)" if len(self.repositories) > 10 else ""
            )
            lines.append(
                f"not committed: {shown}{more} — each is a git repository of its own (it "
                "has its own .git). Bosun never commits a nested repository or "
                "runs git inside one: its configuration could make the daemon run its "
                "programs. To commit those files as part of this task, delete the nested "
                "repository's .git (e.g. `rm -rf <dir>/.git`)."
            )
        if self.gitlinks:
            lines.append(
                "not committed: changes to the submodule pointer(s) "
                + ", ".join(self.gitlinks[:10])
                + " — bosun does not move submodules (gitlinks)."
            )
        return "\n".join(lines)


def parse_scan(output: str) -> NestedRepos:
    """Nested repositories and gitlinks in `git SCAN_ARGS` output."""
    repositories: list[str] = []
    gitlinks: list[str] = []
    items = output.split("\0")
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if not item:
            continue
        kind = item[0]
        if kind == "?":
            path = item[2:]
            if path.endswith("/"):  # with --untracked-files=all only repositories are dirs
                repositories.append(path)
            continue
        count = _FIELDS.get(kind)
        if count is None:
            continue
        parts = item.split(" ", count)
        if len(parts) <= count:
            continue
        modes = parts[3:7] if kind == "u" else parts[3:6]
        if _GITLINK in modes:
            gitlinks.append(parts[count])
        if kind == "2":
            i += 1  # the original path of a rename follows as its own field
    return NestedRepos(sorted(repositories), sorted(gitlinks))


def add_args(nested: NestedRepos) -> list[str]:
    """`git add` of everything but the nested repositories, gitlinks and `.bosun/`
    (literal pathspecs, so any name is safe). `.bosun/` is the daemon's own state and
    configuration in the user's checkout: a task must never be able to commit one. Nor
    is `write_file`'s temporary file, which a kill can leave behind (bosun.own_files)."""
    excluded = [STATE_DIR_NAME, *nested.excluded()]
    literal = [f":(exclude,literal){p}" for p in excluded]
    return ["add", "-A", "--", ".", *literal, TEMP_EXCLUDE_PATHSPEC]


def stage_all(cli: GitCli, work_tree: Path) -> NestedRepos:
    """`git add -A` in a task's worktree, nested repositories and gitlinks left out;
    what was left out."""
    nested = parse_scan(cli.run(work_tree, *SCAN_ARGS).stdout)
    cli.run(work_tree, *add_args(nested))
    return nested
