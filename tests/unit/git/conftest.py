"""Fixtures of the git plane's tests: a real repository, the real board, the service."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Run, Task, TaskState

from .gitrepo import git

_PATH_TO_COMPLETE = (
    TaskState.READY,
    TaskState.ACTIVE,
    TaskState.AWAITING_QA,
    TaskState.COMPLETE,
)


def snapshot(repo: Path) -> tuple[str, str, str]:
    """Hash of the user's index file, `git status --porcelain` and HEAD's branch."""
    index = repo / ".git" / "index"
    digest = hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else ""
    status = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return digest, status, git(repo, "symbolic-ref", "-q", "HEAD")


@pytest.fixture
def gitrun() -> Callable[..., str]:
    """`gitrun(cwd, *args)`: git in a test repository."""
    return git


@pytest.fixture
def user_snapshot() -> Callable[[Path], tuple[str, str, str]]:
    """`user_snapshot(repo)`: what must never change behind the user's back."""
    return snapshot


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    board = await Store.open(tmp_path / "board.sqlite3", boot_id="test-boot")
    yield board
    await board.close()


@pytest.fixture
def settings() -> GitSettings:
    return GitSettings(warm_pool=0)


@pytest.fixture
async def service(git_repo: Path, store: Store, settings: GitSettings) -> AsyncIterator[GitService]:
    svc = GitService(Workspace(git_repo), settings, store)
    await svc.start()
    yield svc
    await svc.close()


@pytest.fixture
async def run(service: GitService, store: Store) -> Run:
    """A started run on `main`."""
    created = await store.create_run("objective")
    return await service.start_run(created.id)


@pytest.fixture
def new_task(store: Store) -> Callable[[int, str], Awaitable[Task]]:
    """`await new_task(run_id, key)`: a planned task."""

    async def make(run_id: int, key: str) -> Task:
        (task,) = await store.create_tasks(run_id, [TaskSpec(key=key, title=key)])
        return task

    return make


@pytest.fixture
def finish_task(store: Store) -> Callable[[int, TaskState], Awaitable[Task]]:
    """`await finish_task(task_id, COMPLETE | ABANDONED)`: walk the task to that state."""

    async def finish(task_id: int, state: TaskState) -> Task:
        task = await store.get_task(task_id)
        path = (TaskState.ABANDONED,) if state is TaskState.ABANDONED else _PATH_TO_COMPLETE
        for to in path:
            task = await store.transition(task_id, expected=task.state, to=to)
        return task

    return finish
