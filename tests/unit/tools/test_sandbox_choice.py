"""Which sandbox modes may run commands: none that lets a command read the daemon's secrets."""

from __future__ import annotations

import os

import pytest
from bosun.tools import landlock
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the root case needs root")


def test_none_is_refused_unless_weak_sandboxes_are_allowed() -> None:
    with pytest.raises(SandboxUnavailableError, match="refused here: commands run unconfined"):
        Sandbox.detect(SandboxMode.NONE)
    report = Sandbox.detect(SandboxMode.NONE, allow_weak=True).report
    assert report.mode is SandboxMode.NONE
    assert "accepted as weak" in report.reason


@root_only
def test_landlock_as_root_is_refused_with_the_reason() -> None:
    if landlock.abi_version() < 1:
        pytest.skip("Landlock is not available in this kernel")
    with pytest.raises(SandboxUnavailableError, match="as root a Landlock-confined command"):
        Sandbox.detect(SandboxMode.LANDLOCK)


@root_only
def test_auto_as_root_without_bwrap_refuses_rather_than_picking_landlock_or_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bosun.tools.sandbox.shutil.which", lambda name: None)
    with pytest.raises(SandboxUnavailableError) as info:
        Sandbox.detect(SandboxMode.AUTO)
    assert "no sandbox here keeps the daemon's secrets" in info.value.message
    assert "allow_weak_sandbox" in info.value.message
    assert "bwrap is not installed" in info.value.message


def test_auto_never_picks_a_weak_mode() -> None:
    try:
        report = Sandbox.detect(SandboxMode.AUTO).report
    except SandboxUnavailableError:
        return  # refusing is the other allowed answer
    assert report.mode is SandboxMode.BWRAP or (
        report.mode is SandboxMode.LANDLOCK and os.geteuid() != 0
    )
