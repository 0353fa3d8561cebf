"""Fixtures for cross-package git tests: the real board and the git plane on a real repo."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "board.sqlite3", boot_id="integration")
    yield store
    await store.close()


@pytest.fixture
async def git_plane(git_repo: Path, board: Store) -> AsyncIterator[GitService]:
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=0), board)
    await service.start()
    yield service
    await service.close()


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip()


@pytest.fixture
def gitrun() -> Callable[..., str]:
    """`gitrun(cwd, *args)`: git in a test repository, its stripped output."""
    return _git
