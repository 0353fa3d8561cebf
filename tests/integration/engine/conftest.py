"""Engine over the real git plane, on a real repository and a real board."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.cli.demo_command import make_sample_repo
from bosun.engine.gitplane import ServiceGitPlane
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace

from tests.integration.engine.daemon_process import Daemon
from tests.unit.engine.scripted import EngineFactory, Harness, ScriptedRunner


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The demo's sample repository (a module may override it, e.g. to tune the scenario)."""
    path = tmp_path / "sample"
    path.mkdir()
    make_sample_repo(path)
    return path


@pytest.fixture
def daemon(repo: Path) -> Iterator[Daemon]:
    """A daemon subprocess on `repo`, not started yet; stopped by pid at the end."""
    d = Daemon(repo)
    yield d
    d.stop()


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "board.sqlite3", boot_id="boot-test")
    yield store
    await store.close()


@pytest.fixture
async def git_engine(
    git_repo: Path, board: Store
) -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=0), board)
    await service.start()
    make = EngineFactory(board)

    async def build(runner: ScriptedRunner, **settings: object) -> Harness:
        return await make(runner, ServiceGitPlane(service), **settings)

    yield build
    await make.stop_all()
    await service.close()
