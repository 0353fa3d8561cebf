"""What the daemon process does to itself at start so that commands cannot read or outlive it.

- Not dumpable (PR_SET_DUMPABLE 0): a process of the same user can no longer read
  `/proc/<daemon>/mem` or `environ`, attach with ptrace, or get a core dump with the
  keys in it (root keeps CAP_SYS_PTRACE, which is why Landlock as root is refused).
- A child subreaper (PR_SET_CHILD_SUBREAPER): a command's orphan (double fork,
  `setsid`) is re-parented to the daemon instead of init, so it stays recognisable
  as the daemon's descendant (the Unix socket refuses those) and is reaped here.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37

_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
_prctl.restype = ctypes.c_int


def _set(option: int, value: int, what: str) -> None:
    if _prctl(option, value, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({what}) failed: {os.strerror(err)}")


def harden_daemon_process() -> None:
    """Make this process non-dumpable and a child subreaper (the daemon only, at start)."""
    _set(_PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE")
    _set(_PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER")
    log.debug("daemon process is non-dumpable and a child subreaper")


def is_dumpable() -> bool:
    """Whether this process can be read by its user's other processes."""
    return int(_prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)) == 1


def is_subreaper() -> bool:
    """Whether orphans of this process's descendants are re-parented to it."""
    flag = ctypes.c_int(0)
    _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return flag.value != 0
