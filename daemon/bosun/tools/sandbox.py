"""Choosing and applying the command sandbox: bubblewrap, Landlock, or none.

Detection runs real probes once per daemon (a bwrap that exists may still fail where
user namespaces are off; a kernel may have Landlock compiled out). `auto` takes the
strongest mode that works and says why; a mode asked for by name that cannot work is
an error at start, never a silent downgrade.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bosun.tools import landlock
from bosun.tools.errors import SandboxUnavailableError
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


def bwrap_argv(
    bwrap: str,
    argv: list[str],
    *,
    worktree: Path,
    tmp: Path,
    hidden: list[Path],
    cwd: Path | None = None,
) -> list[str]:
    """The bubblewrap command line: read-only system, no network, own pid namespace."""
    # /tmp becomes private below; a Python environment that lives there (a checkout
    # under /tmp, as CI may make) must stay visible, read-only, or the project's test
    # command cannot even start.
    shown = sorted({p for p in interpreter_prefixes() if _under(p, Path("/tmp"))})
    out = [
        bwrap,
        # Run as root, bwrap keeps every capability unless told otherwise, and
        # CAP_SYS_ADMIN could remount the read-only root writable.
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--new-session",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
    ]  # fmt: skip
    for path in shown:
        out += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        if path.is_dir() and not path.is_symlink():
            out += ["--tmpfs", str(path)]
        elif path.is_file() and not path.is_symlink():
            out += ["--ro-bind", "/dev/null", str(path)]
    # Bound last so they show through a hidden parent (the worktree lives in .bosun/).
    out += ["--bind", str(tmp), str(tmp), "--bind", str(worktree), str(worktree)]
    out += ["--chdir", str(cwd or worktree), "--", *argv]
    return out


def interpreter_prefixes() -> list[Path]:
    """Where the running Python and its environment live (resolved)."""
    return [Path(p).resolve() for p in {sys.prefix, sys.base_prefix}]


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


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


class Sandbox:
    """The detected sandbox; wraps each command for the mode in force."""

    def __init__(self, report: SandboxReport) -> None:
        self.report = report
        self._bwrap = shutil.which("bwrap") if report.mode is SandboxMode.BWRAP else None

    @classmethod
    def detect(cls, requested: SandboxMode) -> Sandbox:
        """Probe the machine and pick the mode; SandboxUnavailableError if it cannot be had."""
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
            return cls(
                SandboxReport(requested, SandboxMode.NONE, False, "sandbox turned off in settings")
            )
        if requested is not SandboxMode.AUTO:
            if not works[requested]:
                raise SandboxUnavailableError(
                    f"sandbox mode {requested.value!r} is configured but unavailable: "
                    f"{probes[requested.value]}",
                    data={"probes": probes},
                )
            return cls(cls._report(requested, requested, probes[requested.value], probes))
        for mode in (SandboxMode.BWRAP, SandboxMode.LANDLOCK):
            if works[mode]:
                return cls(
                    cls._report(
                        requested, mode, f"auto chose {mode.value}: {probes[mode.value]}", probes
                    )
                )
        why = "; ".join(f"{k}: {v}" for k, v in probes.items())
        return cls(
            SandboxReport(
                requested, SandboxMode.NONE, False, f"no sandbox works here ({why})", probes
            )
        )

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
    ) -> Prepared:
        """The command wrapped for the mode in force (`cwd`: where it starts, in the worktree)."""
        mode = self.report.mode
        if mode is SandboxMode.BWRAP and self._bwrap is not None:
            wrapped = bwrap_argv(
                self._bwrap, argv, worktree=worktree, tmp=tmp, hidden=hidden, cwd=cwd
            )
            return Prepared(wrapped)
        if mode is SandboxMode.LANDLOCK:
            ruleset = landlock.Ruleset([worktree, tmp], _DEV_FILES)
            return Prepared(list(argv), ruleset.restrict_self, ruleset.close)
        return Prepared(list(argv))


_lock = threading.Lock()
_detected: dict[SandboxMode, Sandbox] = {}


def current_sandbox(requested: SandboxMode) -> Sandbox:
    """The sandbox for `requested`, probed once per process."""
    with _lock:
        if requested not in _detected:
            _detected[requested] = Sandbox.detect(requested)
        return _detected[requested]


def sandbox_report(requested: SandboxMode = SandboxMode.AUTO) -> SandboxReport:
    """What `bosun daemon status` and `bosun doctor` show about command confinement."""
    return current_sandbox(requested).report
