"""Plain git in a test repository: the helpers the git plane's tests share."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    """Run git in a test repository and return its stripped output."""
    out = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120
    )
    return out.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in the working tree (even nothing); the new commit's id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
