"""Landlock (Linux ≥ 5.13) through raw syscalls: restrict writes, and TCP from ABI 4.

The ruleset is built in the daemon; a throwaway thread calls prctl(NO_NEW_PRIVS) and
landlock_restrict_self — both bind only the calling thread — and then spawns the
command, which inherits the restriction (see spawn.py). Reads are restricted by leaving
the hidden paths out of the rules (Landlock only grants; see `readable_roots`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterable
from pathlib import Path

# Syscall numbers are the same on every Linux architecture (added after the unification).
_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem access rights (uapi/linux/landlock.h).
_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_ALL = sum(1 << b for b in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3
_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX = 1 << 0  # ABI 6: no connecting to abstract sockets outside
_SCOPE_SIGNAL = 1 << 1  # ABI 6: no signals to processes outside (the daemon included)

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_prctl = _libc.prctl
_prctl.restype = ctypes.c_int


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is absent or disabled."""
    try:
        version = int(
            _syscall(
                ctypes.c_long(_SYS_CREATE_RULESET),
                None,
                ctypes.c_size_t(0),
                ctypes.c_uint32(_CREATE_RULESET_VERSION),
            )
        )
    except (AttributeError, OSError):
        return 0
    return max(version, 0)


def _fs_rights(abi: int) -> int:
    rights = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_ALL
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def set_no_new_privs() -> None:
    """no_new_privs for the calling thread and what it starts (no setuid gain, ever)."""
    if _prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def scope_ruleset() -> int | None:
    """A ruleset descriptor that only scopes signals and abstract sockets (ABI ≥ 6), else None.

    Applied on top of an attempt's domain, it keeps each command from signalling the
    supervisor that runs in the outer domain.
    """
    if abi_version() < 6:
        return None
    attr = _RulesetAttr(0, 0, _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL)
    fd = int(
        _syscall(
            ctypes.c_long(_SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(24),
            ctypes.c_uint32(0),
        )
    )  # fmt: skip
    return fd if fd >= 0 else None


def readable_roots(hidden: Iterable[Path]) -> list[Path]:
    """Paths whose union is everything except `hidden` (Landlock can only add rights).

    A rule grants beneath a directory, so no rule may sit on an ancestor of a hidden
    path: each such ancestor is replaced by its entries, recursively, leaving out the
    hidden ones. Links are left out too (access is checked on what they resolve to),
    so a link into a hidden directory stays closed. An entry created later in one of
    those ancestors is not readable; everything else keeps its normal access.
    """
    shut = {p.resolve() for p in hidden if p.exists()}
    if not shut:
        return [Path("/")]
    roots: list[Path] = []

    def carve(directory: Path) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if path in shut or entry.is_symlink():
                continue
            if any(path in h.parents for h in shut):
                carve(path)
            else:
                roots.append(path)

    carve(Path("/"))
    return roots


class Ruleset:
    """Writes only beneath `writable` dirs (and to `writable_files`); no TCP at ABI ≥ 4 unless `allow_tcp`.

    With `hidden`, reads are handled too: everything is readable (and listable) except
    the contents of the hidden paths, though a writable path inside one stays usable.
    """

    def __init__(
        self,
        writable: Iterable[Path],
        writable_files: Iterable[Path] = (),
        hidden: Iterable[Path] = (),
        *,
        allow_tcp: bool = False,
    ) -> None:
        self.abi = abi_version()
        if self.abi < 1:
            raise OSError("Landlock is not available in this kernel")
        hidden = list(hidden)
        fs = _fs_rights(self.abi)
        reads = (_READ_FILE | _READ_DIR | _EXECUTE) if hidden else 0
        net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if self.abi >= 4 and not allow_tcp else 0
        scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if self.abi >= 6 else 0
        attr = _RulesetAttr(fs | reads, net, scoped)
        # The kernel takes the struct size of the ABI it knows: fs (1+), net (4+), scoped (6+).
        size = 24 if self.abi >= 6 else 16 if self.abi >= 4 else 8
        fd = int(
            _syscall(
                ctypes.c_long(_SYS_CREATE_RULESET),
                ctypes.byref(attr),
                ctypes.c_size_t(size),
                ctypes.c_uint32(0),
            )
        )
        if fd < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
        self.fd = fd
        self.network_blocked = self.abi >= 4
        self.signals_scoped = self.abi >= 6
        try:
            for path in writable:
                self._allow(path, fs | reads)
            file_rights = _WRITE_FILE | (_TRUNCATE if self.abi >= 3 else 0)
            for path in writable_files:
                if path.exists():
                    self._allow(path, file_rights | (reads & ~_READ_DIR))
            if reads:
                self._allow(Path("/"), _READ_DIR)  # names are listable; contents are not
                for path in readable_roots(hidden):
                    self._allow_quietly(path, _READ_FILE | _EXECUTE)
        except BaseException:
            self.close()
            raise

    def _allow_quietly(self, path: Path, rights: int) -> None:
        # An entry may vanish, or be a socket or a file we may not open: it then stays
        # unreadable, which is the safe side.
        with contextlib.suppress(OSError):
            self._allow(path, rights)

    def _allow(self, path: Path, rights: int) -> None:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = _PathBeneath(rights, pfd)
            rc = _syscall(
                ctypes.c_long(_SYS_ADD_RULE),
                ctypes.c_int(self.fd),
                ctypes.c_int(_RULE_PATH_BENEATH),
                ctypes.byref(rule),
                ctypes.c_uint32(0),
            )
            if rc < 0:
                err = ctypes.get_errno()
                raise OSError(err, f"landlock_add_rule({path}): {os.strerror(err)}")
        finally:
            os.close(pfd)

    def restrict_self(self) -> None:
        """Confine the calling thread and everything it starts from now on."""
        set_no_new_privs()
        rc = _syscall(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(self.fd), ctypes.c_uint32(0))
        if rc < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")

    def close(self) -> None:
        """Release the ruleset descriptor (the child keeps its own restriction)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
