"""bubblewrap's private /tmp must not hide the Python environment running the daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bosun.tools import sandbox


def test_an_environment_under_tmp_is_shown_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", "/tmp/ci-clone/.venv")
    argv = sandbox.bwrap_argv("bwrap", ["true"], worktree=Path("/w"), tmp=Path("/t"), hidden=[])
    i = argv.index("--tmpfs")
    assert argv[i : i + 2] == ["--tmpfs", "/tmp"]
    j = argv.index("/tmp/ci-clone/.venv")
    assert argv[j - 1] == "--ro-bind" and j > i  # mounted over the private /tmp


def test_an_environment_elsewhere_needs_no_extra_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", "/opt/venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    argv = sandbox.bwrap_argv("bwrap", ["true"], worktree=Path("/w"), tmp=Path("/t"), hidden=[])
    assert "/opt/venv" not in argv


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_program_in_an_environment_under_tmp_runs_inside_bwrap_and_cannot_write_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sandbox._probe_bwrap()[0]:
        pytest.skip("bubblewrap cannot run here")
    env_dir = tmp_path / "venv"  # pytest's tmp_path is under /tmp
    (env_dir / "bin").mkdir(parents=True)
    tool = env_dir / "bin" / "tool"
    tool.write_text('#!/bin/sh\necho from-the-env\ntouch "$0.written" 2>/dev/null || echo ro\n')
    tool.chmod(0o755)
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.setattr(sys, "prefix", str(env_dir))
    argv = sandbox.bwrap_argv(
        shutil.which("bwrap") or "bwrap", [str(tool)], worktree=work, tmp=scratch, hidden=[]
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["from-the-env", "ro"]
    assert not os.path.exists(str(tool) + ".written")


def test_a_read_only_bind_never_uncovers_a_hidden_path(tmp_path: Path) -> None:
    project, state = tmp_path / "project", tmp_path / "project" / ".bosun"
    state.mkdir(parents=True)
    argv = sandbox.bwrap_argv(
        "bwrap", ["true"], worktree=tmp_path / "wt", tmp=Path("/t"), hidden=[state],
        read_only=[project], writable=[tmp_path / "cache"],
    )  # fmt: skip
    shown, hidden = argv.index(str(project)), argv.index(str(state))
    assert argv[shown - 1] == "--ro-bind" and argv[hidden - 1] == "--tmpfs"
    assert shown < hidden  # bwrap applies binds in order: the later tmpfs wins
