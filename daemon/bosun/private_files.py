"""Files and directories only the daemon's user may read: created 0600/0700, never through a link.

Everything the daemon keeps for itself (board, logs, lock, token, socket directory) is
made with these helpers rather than with the process umask, which must stay the user's:
the worktrees and the user's checkout get files with ordinary modes.
"""

from __future__ import annotations

import contextlib
import logging.handlers
import os
import stat
from pathlib import Path
from typing import IO

from bosun.errors import WorkspaceError

FILE_MODE = 0o600
DIR_MODE = 0o700


def open_private(path: Path | str, flags: int) -> int:
    """A descriptor of `path` opened with `flags`, the file made 0600 (a link is refused)."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def touch_private(path: Path) -> None:
    """Create `path` 0600 if missing; make an existing one 0600."""
    os.close(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))


def chmod_if_present(path: Path) -> None:
    """Make an existing regular file 0600 (files SQLite or an older version made)."""
    with contextlib.suppress(FileNotFoundError):
        os.close(open_private(path, os.O_RDONLY | os.O_NONBLOCK))


def append_private(path: Path) -> IO[bytes]:
    """`path` opened for appending in binary, 0600."""
    return os.fdopen(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "ab")


def private_dir(path: Path, what: str) -> None:
    """Create `path` 0700, or check an existing one is a directory of ours (not a link).

    A directory someone else made first (in `/tmp` or `$XDG_RUNTIME_DIR`) is refused,
    never chmodded and used: its owner could move our socket away and put theirs there.
    """
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, DIR_MODE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        kind = "a symbolic link" if os.path.islink(path) else "not a directory"
        raise WorkspaceError(
            f"{what} {path} is {kind}; bosun keeps private state there and will not follow "
            f"or replace it. Remove it and try again. ({exc.strerror})"
        ) from None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid():
            raise WorkspaceError(
                f"{what} {path} belongs to uid {st.st_uid}, not to you (uid {os.getuid()}); "
                "its owner could replace what bosun puts there. Remove it (or ask its "
                "owner to) and try again."
            )
        if stat.S_IMODE(st.st_mode) != DIR_MODE:
            os.fchmod(fd, DIR_MODE)  # ours: closing group/other access is safe
    finally:
        os.close(fd)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the current one and each new one) is 0600."""

    def _open(self) -> IO[str]:  # type: ignore[override]
        fd = open_private(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
