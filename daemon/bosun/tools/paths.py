"""Path resolution that cannot leave a worktree.

Every path is split lexically (no `..`, no absolute path outside the root, nothing
under `.git` or `.bosun`), then walked one component at a time with `openat`-style
calls on directory descriptors opened with O_NOFOLLOW. A symlink anywhere on the way,
whether committed, made by a shell command, or swapped in after an earlier check, makes
the walk fail instead of being followed: the kernel resolves each step relative to a
descriptor we already hold, so there is no window between check and use.

Hard links: a regular file with more than one link may be a second name of a file
outside the worktree, so it is never read. Writes replace the file atomically (a new
inode renamed over the name), which leaves any other name of the old inode untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bosun.failpoints import failpoint
from bosun.own_files import temp_file_name
from bosun.tools.errors import PathRefusedError, ToolError

WRITE_BEFORE_RENAME = "tools.write_file.before_rename"  # failpoint

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
# Names no file tool may touch at any depth: git metadata and bosun's state.
_PROTECTED = frozenset({".git", ".bosun"})


@dataclass(frozen=True)
class Entry:
    """What a name in the worktree is, without following it."""

    kind: str  # "file", "directory", "symlink", "other", "missing"
    size: int = 0


def kind_of(mode: int) -> str:
    """The kind of file a stat mode describes."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


class Worktree:
    """A task's worktree; the only way file tools reach the disk."""

    def __init__(self, root: Path) -> None:
        self.given = Path(os.path.abspath(root))
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise ToolError(f"worktree {self.root} does not exist")
        self._protected_prefixes = self._gitdir_inside()

    def _gitdir_inside(self) -> list[tuple[str, ...]]:
        """A `.git` file may point at a gitdir inside the tree; protect that too."""
        marker = self.root / ".git"
        try:
            text = marker.read_text(encoding="utf-8", errors="replace") if marker.is_file() else ""
        except OSError:
            return []
        for line in text.splitlines():
            if line.startswith("gitdir:"):
                target = Path(os.path.realpath(self.root / line[len("gitdir:") :].strip()))
                if target.is_relative_to(self.root) and target != self.root:
                    return [target.relative_to(self.root).parts]
        return []

    # -- lexical checks ---------------------------------------------------------

    def split(self, path: str, *, allow_root: bool = False) -> tuple[str, ...]:
        """The components of `path` inside the worktree, or PathRefusedError saying why."""
        if "\x00" in path:
            raise PathRefusedError("path contains a NUL byte")
        if path.startswith("/"):
            path = self._strip_root(path)
        parts = tuple(p for p in path.split("/") if p not in ("", "."))
        if ".." in parts:
            raise PathRefusedError(
                f"{path!r}: '..' is not allowed; give a path inside the worktree"
            )
        for part in parts:
            if part.lower() in _PROTECTED:
                raise PathRefusedError(
                    f"{path!r}: {part} is off limits to file tools; use the git tools instead"
                )
        for prefix in self._protected_prefixes:
            if parts[: len(prefix)] == prefix:
                raise PathRefusedError(f"{path!r} is inside the repository's git directory")
        if not parts and not allow_root:
            raise PathRefusedError("a file path is required, not the worktree itself")
        return parts

    def _strip_root(self, path: str) -> str:
        for root in (str(self.root), str(self.given)):
            if path.rstrip("/") == root:
                return ""
            if path.startswith(root + "/"):
                return path[len(root) + 1 :]
        raise PathRefusedError(
            f"{path!r} is outside the worktree; use a path relative to the worktree root"
        )

    # -- descriptor walking -----------------------------------------------------

    @contextlib.contextmanager
    def directory(self, parts: tuple[str, ...], *, create: bool = False) -> Iterator[int]:
        """A descriptor of the directory `parts`, reached without following any link."""
        fd = os.open(self.root, DIR_FLAGS)  # the root itself must not have become a link
        try:
            for i, part in enumerate(parts):
                nfd = self._step(fd, part, "/".join(parts[: i + 1]), create)
                os.close(fd)
                fd = nfd
            yield fd
        finally:
            os.close(fd)

    def _step(self, fd: int, part: str, shown: str, create: bool) -> int:
        """Open one component below `fd` (which stays open: the caller owns it)."""
        try:
            return os.open(part, DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise ToolError(f"{shown}: no such directory") from None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise self._not_a_dir(shown, exc) from None
            raise ToolError(f"{shown}: {exc.strerror}") from None
        try:
            os.mkdir(part, 0o755, dir_fd=fd)
        except FileExistsError:
            pass  # made concurrently; the open below checks what it is
        except OSError as exc:
            raise ToolError(f"{shown}: cannot create directory ({exc.strerror})") from None
        return self._step(fd, part, shown, False)

    def _not_a_dir(self, shown: str, exc: OSError) -> ToolError:
        if exc.errno == errno.ELOOP or self._is_link(shown):
            return PathRefusedError(f"{shown} is a symbolic link; file tools do not follow links")
        return ToolError(f"{shown} is not a directory")

    def _is_link(self, shown: str) -> bool:
        # Only for the error message; the refusal itself came from the kernel.
        return os.path.islink(self.root / shown)

    # -- operations -------------------------------------------------------------

    def entry(self, path: str) -> Entry:
        """What `path` is (a symlink is reported as one, never followed)."""
        parts = self.split(path, allow_root=True)
        if not parts:
            return Entry("directory")
        try:
            with self.directory(parts[:-1]) as dfd:
                st = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return Entry("missing")
        except ToolError as exc:
            if isinstance(exc, PathRefusedError):
                raise
            return Entry("missing")
        return Entry(kind_of(st.st_mode), st.st_size)

    @contextlib.contextmanager
    def open_read(self, path: str) -> Iterator[tuple[int, os.stat_result]]:
        """An fd of the regular file at `path`, refused if it is a link or hard-linked."""
        parts = self.split(path)
        with self.directory(parts[:-1]) as dfd:
            try:
                fd = os.open(parts[-1], _READ_FLAGS, dir_fd=dfd)
            except FileNotFoundError:
                raise ToolError(f"{path}: no such file") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise PathRefusedError(
                        f"{path} is a symbolic link; file tools do not follow links"
                    ) from None
                raise ToolError(f"{path}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise ToolError(f"{path} is a directory; use list_directory")
            if not stat.S_ISREG(st.st_mode):
                raise PathRefusedError(f"{path} is not a regular file")
            if st.st_nlink > 1:
                raise PathRefusedError(
                    f"{path} has {st.st_nlink} hard links and may be a file outside the "
                    "worktree; it is not read"
                )
            yield fd, st
        finally:
            os.close(fd)

    def read_bytes(self, path: str, limit: int) -> tuple[bytes, int]:
        """Up to `limit` bytes of `path`, and its full size."""
        with self.open_read(path) as (fd, st):
            chunks: list[bytes] = []
            got = 0
            while got < limit:
                chunk = os.read(fd, min(1 << 20, limit - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
            return b"".join(chunks), st.st_size

    def write_bytes(self, path: str, data: bytes) -> bool:
        """Replace `path` atomically with `data` (parents made); True if it was new."""
        parts = self.split(path)
        name = parts[-1]
        with self.directory(parts[:-1], create=True) as dfd:
            mode = 0o644
            created = True
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                pass
            else:
                if stat.S_ISLNK(st.st_mode):
                    raise PathRefusedError(
                        f"{path} is a symbolic link; file tools do not write through links"
                    )
                if not stat.S_ISREG(st.st_mode):
                    raise ToolError(f"{path} exists and is not a regular file")
                mode = stat.S_IMODE(st.st_mode)
                created = False
            self._replace(dfd, name, data, mode)
            return created

    def _replace(self, dfd: int, name: str, data: bytes, mode: int) -> None:
        tmp = temp_file_name(name)  # never committed; swept by recovery (bosun.own_files)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o600, dir_fd=dfd)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            # The kill that left `.NAME.bosun-<id>.tmp` behind (issue 20 item 1).
            failpoint(WRITE_BEFORE_RENAME)
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            if isinstance(exc, OSError):
                raise ToolError(f"{name}: write failed ({exc.strerror}); nothing changed") from None
            raise
        os.fsync(dfd)

    def delete(self, path: str) -> None:
        """Remove the file (or symlink) at `path`; directories are refused."""
        parts = self.split(path)
        with self.directory(parts[:-1]) as dfd:
            try:
                st = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                raise ToolError(f"{path}: no such file") from None
            if stat.S_ISDIR(st.st_mode):
                raise ToolError(f"{path} is a directory; delete_file removes files only")
            os.unlink(parts[-1], dir_fd=dfd)
