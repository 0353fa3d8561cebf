"""Shared fixtures for every test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# Fails any test that tries to reach a real model provider (or anything off this machine).
pytest_plugins = ["tests.fakes.no_network", "tests.servers.postgres"]


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A fresh repository with one commit on `main`, and an identity set locally."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "test@example.invalid")
    _git(repo, "config", "user.name", "Bosun Test")
    (repo / "README.md").write_text("# sample\n")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "init")
    return repo
