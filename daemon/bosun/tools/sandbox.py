"""Choosing and applying the command sandbox: bubblewrap, Landlock, or none.

Detection runs real probes once per daemon (a bwrap that exists may still fail where
user namespaces are off; a kernel may have Landlock compiled out). `auto` takes the
strongest mode that works and says why; a mode asked for by name that cannot work is
an error at start, never a silent downgrade.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bosun.tools import landlock, ns_leftovers
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox_paths import (
    covered_by_tmp,
    git_redirectables,
    resolver_binds,
    runtime_dirs,
)
from bosun.tools.settings import SandboxMode

_PROBE_TIMEOUT_S = 10.0
# Device files a command may write even under Landlock.
_DEV_FILES = tuple(Path(p) for p in ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty"))


@dataclass(frozen=True)
class SandboxReport:
    """The mode in force, why, and what each mode said when probed."""

    requested: SandboxMode
    mode: SandboxMode
    network_isolated: bool
    reason: str
    probes: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """A plain mapping for `bosun daemon status` and `bosun doctor`."""
        return {
            "requested": self.requested.value,
            "mode": self.mode.value,
            "networkIsolated": self.network_isolated,
            "reason": self.reason,
            "probes": dict(self.probes),
        }


@dataclass
class Prepared:
    """A command ready to spawn: its argv, and what confines the spawning thread."""

    argv: list[str]
    restrict: Callable[[], None] | None = None
    cleanup: Callable[[], None] = lambda: None
    # Where the command's leftovers are counted when /proc outside cannot say (bwrap).
    count_file: Path | None = None


def bwrap_argv(
    bwrap: str,
    argv: list[str],
    *,
    worktree: Path,
    tmp: Path,
    hidden: list[Path],
    cwd: Path | None = None,
    read_only: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    network: bool = False,
) -> list[str]:
    """The bubblewrap command line: read-only system, no network, own pid namespace.

    `network` keeps the host's network: an MCP server configured with `network = true`,
    or the owner's worktree set-up when `worktree.setup_network` allows; never a model's
    command.

    `read_only` and `writable` are the caller's extra binds (a project's environment
    that /tmp would otherwise cover, caches it may write). Order is the boundary:
    read-only binds go before the hidden paths, so a hidden path inside one stays
    hidden; the worktree, the command's tmp and the writable binds come after them
    (they are the caller's explicit choice, and the worktree lives in `.bosun/`).
    """
    shown = covered_by_tmp(worktree)
    out = [
        bwrap,
        # Run as root, bwrap keeps every capability unless told otherwise, and
        # CAP_SYS_ADMIN could remount the read-only root writable.
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--unshare-pid",
        *(() if network else ("--unshare-net",)),
        "--unshare-ipc",
        "--unshare-uts",
        "--new-session",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        # Sockets stay connectable through a read-only bind, and /run holds the ones
        # that start programs outside any sandbox: the system and session D-Bus (systemd
        # runs what it is asked to), docker's, the user's gpg and ssh agents.
        *(a for d in runtime_dirs() for a in ("--tmpfs", str(d))),
    ]  # fmt: skip
    if network:
        out += resolver_binds()
    for path in [*shown, *(p for p in read_only if p.exists())]:
        out += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        if path.is_dir() and not path.is_symlink():
            out += ["--tmpfs", str(path)]
        elif path.is_file() and not path.is_symlink():
            out += ["--ro-bind", "/dev/null", str(path)]
    # Bound after the hidden paths so they show through a hidden parent (.bosun/).
    out += ["--bind", str(tmp), str(tmp), "--bind", str(worktree), str(worktree)]
    for path in writable:
        if path.exists():
            out += ["--bind", str(path), str(path)]
    for path in git_redirectables(worktree):
        out += ["--ro-bind", str(path), str(path)]  # git obeys these: never the command's to change
    out += ["--chdir", str(cwd or worktree), "--", *argv]
    return out


def _probe_bwrap() -> tuple[bool, str]:
    path = shutil.which("bwrap")
    if path is None:
        return False, "bwrap is not installed (scripts/install-sandbox.sh installs it)"
    argv = bwrap_argv(path, ["true"], worktree=Path("/"), tmp=Path("/tmp"), hidden=[])
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap could not run: {exc}"
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return False, f"bwrap fails here: {why[0]}"
    return True, f"bwrap works ({path}): read-only system, no network, own pid namespace"


def _probe_landlock() -> tuple[bool, str]:
    abi = landlock.abi_version()
    if abi < 1:
        return False, "Landlock is not available in this kernel"
    try:
        ruleset = landlock.Ruleset([Path("/tmp")])
    except OSError as exc:
        return False, f"Landlock ruleset failed: {exc}"
    outcome: list[BaseException | int] = []

    def confined() -> None:  # a throwaway thread: the restriction dies with it
        try:
            ruleset.restrict_self()
            outcome.append(
                subprocess.run(["true"], timeout=_PROBE_TIMEOUT_S, check=False).returncode
            )
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=confined, name="bosun-landlock-probe")
    thread.start()
    thread.join()
    ruleset.close()
    if not outcome or isinstance(outcome[0], BaseException):
        return False, f"Landlock could not be applied: {outcome[0] if outcome else 'no result'}"
    if outcome[0] != 0:
        return False, f"Landlock probe exited {outcome[0]}"
    net = "TCP refused" if abi >= 4 else "network NOT restricted (ABI < 4)"
    return True, f"Landlock ABI {abi}: writes only worktree and private tmp; {net}"


def weakness(mode: SandboxMode) -> str | None:
    """Why `mode` cannot keep secrets and the daemon's socket from commands here, or None."""
    if mode is SandboxMode.NONE:
        return (
            "commands run unconfined: they can read the state directory and other secrets, "
            "and write anywhere you can"
        )
    if mode is SandboxMode.LANDLOCK and os.geteuid() == 0:
        return (
            "as root a Landlock-confined command keeps every capability (it can read the "
            "daemon's memory, load kernel modules, chmod files outside the worktree)"
        )
    return None


def _refuse_weak(mode: SandboxMode, allow_weak: bool, probes: dict[str, str]) -> None:
    why = weakness(mode)
    if why is not None and not allow_weak:
        raise SandboxUnavailableError(
            f"sandbox mode {mode.value!r} is refused here: {why}. Use bwrap "
            "(scripts/install-sandbox.sh installs it), or set tools.allow_weak_sandbox = true "
            "to accept this.",
            data={"probes": probes},
        )


class Sandbox:
    """The detected sandbox; wraps each command for the mode in force."""

    def __init__(self, report: SandboxReport) -> None:
        self.report = report
        self._bwrap = shutil.which("bwrap") if report.mode is SandboxMode.BWRAP else None
        self.dev_files = _DEV_FILES

    @property
    def bwrap(self) -> str | None:
        """The bwrap binary in force (bwrap mode only)."""
        return self._bwrap

    @classmethod
    def detect(cls, requested: SandboxMode, *, allow_weak: bool = False) -> Sandbox:
        """Probe the machine and pick the mode; SandboxUnavailableError if it cannot be had.

        A mode that cannot keep the daemon's secrets and socket from commands (`none`,
        Landlock as root) is never chosen by `auto` and is refused when named, unless
        `allow_weak` (the `tools.allow_weak_sandbox` setting) says the user accepts it.
        """
        probes: dict[str, str] = {}
        works: dict[SandboxMode, bool] = {}
        for mode, probe in (
            (SandboxMode.BWRAP, _probe_bwrap),
            (SandboxMode.LANDLOCK, _probe_landlock),
        ):
            if requested in (SandboxMode.AUTO, mode):
                ok, why = probe()
                works[mode], probes[mode.value] = ok, why
        if requested is SandboxMode.NONE:
            _refuse_weak(SandboxMode.NONE, allow_weak, probes)
            return cls(
                SandboxReport(
                    requested, SandboxMode.NONE, False,
                    f"sandbox turned off in settings, accepted as weak: {weakness(SandboxMode.NONE)}",
                )
            )  # fmt: skip
        if requested is not SandboxMode.AUTO:
            if not works[requested]:
                raise SandboxUnavailableError(
                    f"sandbox mode {requested.value!r} is configured but unavailable: "
                    f"{probes[requested.value]}",
                    data={"probes": probes},
                )
            _refuse_weak(requested, allow_weak, probes)
            return cls(cls._report(requested, requested, probes[requested.value], probes))
        skipped: list[str] = []
        for mode in (SandboxMode.BWRAP, SandboxMode.LANDLOCK):
            if works[mode] and weakness(mode) is None:
                return cls(
                    cls._report(
                        requested, mode, f"auto chose {mode.value}: {probes[mode.value]}", probes
                    )
                )
            if works[mode]:
                skipped.append(f"{mode.value} works but {weakness(mode)}")
        why = "; ".join(
            [*skipped, *(f"{k}: {v}" for k, v in probes.items() if not works[SandboxMode(k)])]
        )
        if not allow_weak:
            raise SandboxUnavailableError(
                "no sandbox here keeps the daemon's secrets and socket from commands "
                f"({why}). Install bubblewrap (scripts/install-sandbox.sh), or set "
                "tools.allow_weak_sandbox = true to run commands unconfined anyway.",
                data={"probes": probes},
            )
        return cls(
            SandboxReport(
                requested, SandboxMode.NONE, False,
                f"no sandbox works here ({why}); running unconfined as tools.allow_weak_sandbox allows",
                probes,
            )
        )  # fmt: skip

    @staticmethod
    def _report(
        requested: SandboxMode, mode: SandboxMode, reason: str, probes: dict[str, str]
    ) -> SandboxReport:
        net = mode is SandboxMode.BWRAP or landlock.abi_version() >= 4
        return SandboxReport(requested, mode, net, reason, probes)

    def prepare(
        self,
        argv: list[str],
        *,
        worktree: Path,
        tmp: Path,
        hidden: list[Path],
        cwd: Path | None = None,
        read_only: Sequence[Path] = (),
        writable: Sequence[Path] = (),
        network: bool = False,
        count_leftovers: bool = False,
    ) -> Prepared:
        """The command wrapped for the mode in force (`cwd`: where it starts, in the worktree).

        `count_leftovers`: the command runs to its exit (not a server), and what it leaves
        running is to be counted (bosun.tools.ns_leftovers says why bwrap needs help).
        """
        mode = self.report.mode
        if mode is SandboxMode.BWRAP and self._bwrap is not None:
            count_file = None
            if count_leftovers:
                argv, count_file = ns_leftovers.counting(argv, tmp)
            wrapped = bwrap_argv(
                self._bwrap, argv, worktree=worktree, tmp=tmp, hidden=hidden, cwd=cwd,
                read_only=read_only, writable=writable, network=network,
            )  # fmt: skip
            return Prepared(wrapped, count_file=count_file)
        if mode is SandboxMode.LANDLOCK:
            ruleset = landlock.Ruleset(
                [worktree, tmp, *writable], _DEV_FILES, hidden, allow_tcp=network
            )
            return Prepared(list(argv), ruleset.restrict_self, ruleset.close)
        # Unconfined, but still no setuid gain, and recognisable as a command's orphan.
        return Prepared(list(argv), landlock.set_no_new_privs)


_lock = threading.Lock()
_detected: dict[tuple[SandboxMode, bool], Sandbox] = {}


def current_sandbox(requested: SandboxMode, allow_weak: bool = False) -> Sandbox:
    """The sandbox for `requested`, probed once per process."""
    key = (requested, allow_weak)
    with _lock:
        if key not in _detected:
            _detected[key] = Sandbox.detect(requested, allow_weak=allow_weak)
        return _detected[key]


def sandbox_report(
    requested: SandboxMode = SandboxMode.AUTO, allow_weak: bool = False
) -> SandboxReport:
    """What `bosun daemon status` and `bosun doctor` show about command confinement."""
    return current_sandbox(requested, allow_weak).report
