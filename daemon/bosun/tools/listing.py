"""Walking the worktree without following links, honouring .gitignore files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pathspec

from bosun.tools.paths import DIR_FLAGS, Worktree, kind_of

_NEVER = frozenset({".git", ".bosun"})
_IGNORE_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class WalkEntry:
    """One name found by a walk."""

    parts: tuple[str, ...]
    kind: str  # "file", "directory", "symlink", "other"
    size: int

    @property
    def path(self) -> str:
        """The path relative to the worktree root."""
        return "/".join(self.parts)


@dataclass
class WalkStats:
    """What a walk left out, so results can say so."""

    ignored: int = 0
    depth_cut: int = 0


def _read_ignore(dfd: int) -> pathspec.GitIgnoreSpec | None:
    try:
        fd = os.open(".gitignore", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = os.read(fd, _IGNORE_MAX_BYTES)
    finally:
        os.close(fd)
    return pathspec.GitIgnoreSpec.from_lines(raw.decode("utf-8", errors="replace").splitlines())


class _Ignores:
    """The .gitignore files in force along the current walk path (deepest wins)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, pathspec.GitIgnoreSpec]] = []

    def ignored(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        for depth, spec in reversed(self.stack):
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub)
            if result.include is not None:
                return bool(result.include)
        return False


def walk(
    tree: Worktree, start: tuple[str, ...], *, max_depth: int, stats: WalkStats
) -> Iterator[WalkEntry]:
    """Entries below `start`, sorted by name, depth first; links are listed, never entered."""
    ignores = _Ignores()
    # Ignore files of the directories above `start` apply too.
    with tree.directory(()) as root_fd:
        _push_ancestors(tree, start, ignores, root_fd)
    with tree.directory(start) as fd:
        yield from _walk_dir(fd, start, ignores, max_depth, stats)


def _push_ancestors(tree: Worktree, start: tuple[str, ...], ignores: _Ignores, root: int) -> None:
    if not start:
        return  # the walk reads the root's own .gitignore itself
    spec = _read_ignore(root)
    if spec is not None:
        ignores.stack.append((0, spec))
    for i in range(1, len(start)):
        with tree.directory(start[:i]) as fd:
            spec = _read_ignore(fd)
            if spec is not None:
                ignores.stack.append((i, spec))


def _walk_dir(
    fd: int, parts: tuple[str, ...], ignores: _Ignores, depth: int, stats: WalkStats
) -> Iterator[WalkEntry]:
    spec = _read_ignore(fd)
    if spec is not None:
        ignores.stack.append((len(parts), spec))
    try:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if entry.name in _NEVER:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            child = (*parts, entry.name)
            is_dir = stat.S_ISDIR(st.st_mode)
            if ignores.ignored(child, is_dir):
                stats.ignored += 1
                continue
            kind = kind_of(st.st_mode)
            yield WalkEntry(child, kind, st.st_size if kind == "file" else 0)
            if not is_dir:
                continue
            if depth <= 1:
                stats.depth_cut += 1
                continue
            try:
                sub = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
            except OSError:
                continue  # swapped for a link or removed meanwhile: not entered
            try:
                yield from _walk_dir(sub, child, ignores, depth - 1, stats)
            finally:
                os.close(sub)
    finally:
        if spec is not None:
            ignores.stack.pop()
