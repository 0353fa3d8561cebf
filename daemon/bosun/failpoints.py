"""Named crash points for crash-safety tests.

`BOSUN_FAILPOINTS=name1,name2` makes the process SIGKILL itself when it reaches one of
those points, exactly as a power cut or OOM kill would: no cleanup, no flush.
`name@label` arms a point only at the hits that carry that label: a point reached on
several paths names the path in its labels (e.g. `engine.attempt.finished@interrupted`
fires only when an attempt is closed as interrupted — an agent's question, a human's
interrupt — not at the director's first attempt, which would otherwise come first).
`BOSUN_FAILPOINTS_HIT=path` (optional) appends the name to a file first, so a test can
tell which point fired.
"""

from __future__ import annotations

import os
import signal

_ACTIVE: frozenset[str] | None = None


def _active() -> frozenset[str]:
    global _ACTIVE
    if _ACTIVE is None:
        raw = os.environ.get("BOSUN_FAILPOINTS", "")
        _ACTIVE = frozenset(p.strip() for p in raw.split(",") if p.strip())
    return _ACTIVE


def armed() -> bool:
    """Whether any failpoint is armed (so a caller computes labels only then)."""
    return bool(_active())


def failpoint(name: str, *labels: str) -> None:
    """Die here, at once, if `name` is armed (or `name@label`, for one of `labels`)."""
    armed = _active()
    if not armed or (name not in armed and not any(f"{name}@{x}" in armed for x in labels)):
        return
    hit = os.environ.get("BOSUN_FAILPOINTS_HIT")
    if hit:
        fd = os.open(hit, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (name + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


def flagged(name: str) -> bool:
    """Whether the injected fault `name` is on: `BOSUN_FAULT_<NAME>` names a file that exists.

    Unlike a failpoint this does not kill: the operation fails as the fault would make it
    (e.g. `DISK_FULL`: the board's writes fail as SQLite fails on a full disk), for as
    long as the file exists, so a test can take the fault away again.
    """
    flag = _faults().get(name)
    return flag is not None and os.path.exists(flag)


_FAULTS: dict[str, str] | None = None


def _faults() -> dict[str, str]:
    global _FAULTS
    if _FAULTS is None:
        prefix = "BOSUN_FAULT_"
        _FAULTS = {k.removeprefix(prefix): v for k, v in os.environ.items() if k.startswith(prefix)}
    return _FAULTS


def reset_for_tests() -> None:
    """Re-read the environment (tests that change it in-process)."""
    global _ACTIVE, _FAULTS
    _ACTIVE = None
    _FAULTS = None
