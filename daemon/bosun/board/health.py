"""Whether the board can be written, checked before anything depends on it.

A read-only file or directory, or a full disk, used to be found at the first write of a
run; the daemon checks at start (`Store.check_writable`, a real write through the
board's writer) and `bosun doctor` checks without writing (another process may be the
daemon writing it): the file and directory are writable, SQLite takes the write lock,
and the disk has room.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bosun.failpoints import flagged

# Below this the next checkpoint or a transcript may not fit: warned about as full.
MIN_FREE_BYTES = 16 * 1024 * 1024


def board_unwritable(path: Path) -> str | None:
    """Why the board at `path` cannot be written now, or None when it can."""
    where = path if path.exists() else path.parent
    if flagged("DISK_FULL"):
        return f"the disk holding {where} is full (injected fault)"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"{path.parent} is not writable by you (SQLite needs to create files there)"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is read-only: run `chmod 600 {path}`"
    try:
        vfs = os.statvfs(where)
    except OSError as exc:
        return f"cannot read the free space of {where}: {exc.strerror}"
    free = vfs.f_bavail * vfs.f_frsize
    if vfs.f_flag & os.ST_RDONLY:
        return f"{where} is on a read-only file system"
    if free < MIN_FREE_BYTES:
        return f"the disk holding {where} is full ({free // 1024} KiB free); free some space"
    if path.exists():
        return _write_lock_refused(path)
    return None


def _write_lock_refused(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    except sqlite3.Error as exc:
        return f"cannot open {path}: {exc}"
    try:
        conn.execute("BEGIN IMMEDIATE")  # the write lock, without writing anything
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # the daemon is writing it: it is writable
        return f"SQLite cannot write {path}: {exc}"
    finally:
        conn.close()
    return None
