"""Emacs's eglot (no plugin) driving `bosun lsp` in batch mode on a generated repository:
started from another directory it serves the file's repository, runs an objective, asks
the question in the minibuffer menu and the run completes with that answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bosun.cli.demo_command import OBJECTIVE

from tests.e2e.test_acp_editor import repo
from tests.integration.engine.daemon_process import Daemon

__all__ = ["repo"]  # the fixture, shared with the ACP test
ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).parent / "emacs" / "drive_eglot.el"


@pytest.fixture(scope="module")
def emacs() -> str:
    """Emacs with eglot, installed by scripts/install-emacs.sh when missing."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install-emacs.sh")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"Emacs with eglot cannot be installed here: {done.stderr.strip()}")
    return "emacs"


def test_eglot_runs_an_objective_and_answers_in_the_minibuffer(
    emacs: str, repo: Path, tmp_path: Path
) -> None:
    daemon = Daemon(repo)
    daemon.start()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "emacs.json"
    env = {
        **os.environ,
        "BOSUN_CMD": json.dumps([sys.executable, "-m", "bosun", "lsp", "--no-start"]),
        "BOSUN_FILE": str(repo / "README.md"),
        "BOSUN_OBJECTIVE": OBJECTIVE,
        "BOSUN_PICK": "plain code blocks",
        "BOSUN_OUT": str(out),
        "HOME": str(tmp_path),  # no user init, no package state of the user's
    }
    try:
        done = subprocess.run(
            [emacs, "--batch", "-Q", "-l", str(DRIVER)],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        daemon.stop()
    assert out.exists(), done.stderr[-3000:]
    seen = json.loads(out.read_text())
    assert "errors" not in seen, (seen["errors"], done.stderr[-3000:])
    assert seen["workspace"] == str(repo.resolve())
    [asked] = seen["asked"]
    assert "README" in asked["prompt"]
    assert asked["titles"] == ["plain code blocks", "doctests", "retry", "abandon", "spawn"]
    assert seen["state"] == "completed"
