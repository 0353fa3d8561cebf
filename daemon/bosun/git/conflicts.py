"""Conflicted merges: a worktree holding both sides, and checks on a resolution.

A resolution is refused (ResolutionRefusedError, nothing published) when:

1. markers — a file that was in conflict still has a line starting with `<<<<<<<`,
   `|||||||` or `>>>>>>>` (followed by a space or the end of the line);
2. missing — a file that was in conflict and exists on both sides is gone;
3. one-sided file — a file both sides changed (content or add/add conflict) is exactly
   one side's version, which silently drops the other side's change;
4. empty or one-sided tree — the resolved tree is identical to the run's side (the
   task's work vanished) or to the task's side while the run had changes of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bosun.errors import GitError
from bosun.git.command import GitCli, split_z

_MARKERS = ("<<<<<<<", "|||||||", ">>>>>>>")


class ResolutionRefusedError(GitError):
    """A conflict resolution would lose work; `data.problems` lists each reason."""


@dataclass(frozen=True)
class ConflictSides:
    """The two commits a merger task reconciles and the files that conflicted."""

    ours: str  # the run branch head the merge started from
    theirs: str  # the task's work
    files: list[str]


def _blobs(cli: GitCli, root: Path, treeish: str, paths: list[str]) -> dict[str, str]:
    if not paths:
        return {}
    out = cli.run(root, "ls-tree", "-r", "-z", "--full-tree", treeish, "--", *paths).stdout
    found: dict[str, str] = {}
    for item in split_z(out):
        meta, _, path = item.partition("\t")
        found[path] = meta.split(" ")[2]
    return found


def has_markers(text: str) -> bool:
    """Whether a conflict marker line is left in `text`."""
    for line in text.splitlines():
        for marker in _MARKERS:
            if line.startswith(marker) and (len(line) == 7 or line[7] == " "):
                return True
    return False


def check_resolution(cli: GitCli, root: Path, sides: ConflictSides, tree: str) -> list[str]:
    """Every reason the resolved `tree` would lose work (empty list: acceptable)."""
    problems: list[str] = []
    base_out = cli.run(root, "merge-base", sides.ours, sides.theirs, check=False)
    base = base_out.stdout.strip() if base_out.ok else None
    ours_tree = cli.tree_of(root, sides.ours)
    theirs_tree = cli.tree_of(root, sides.theirs)
    base_tree = cli.tree_of(root, base) if base else None
    resolved = _blobs(cli, root, tree, sides.files)
    ours = _blobs(cli, root, sides.ours, sides.files)
    theirs = _blobs(cli, root, sides.theirs, sides.files)
    for path in sides.files:
        if path not in resolved:
            if path in ours and path in theirs:
                problems.append(f"{path}: in conflict and present on both sides, but deleted")
            continue
        blob = resolved[path]
        text = cli.run(root, "cat-file", "blob", blob).stdout
        if has_markers(text):
            problems.append(f"{path}: conflict markers are still in the file")
        elif path in ours and path in theirs and blob in (ours[path], theirs[path]):
            side = "the run's" if blob == ours[path] else "the task's"
            problems.append(
                f"{path}: resolved to exactly {side} version, dropping the other side's change"
            )
    if tree == ours_tree:
        problems.append("the resolution is empty: it is identical to the run branch")
    elif tree == theirs_tree and base_tree is not None and ours_tree != base_tree:
        problems.append(
            "the resolution is identical to the task's side and drops the run branch's changes"
        )
    return problems
