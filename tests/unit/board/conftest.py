"""Fixtures for board tests: a real store on a real SQLite file in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from bosun.board import Run, Store, TaskSpec


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's board lives."""
    return tmp_path / "state" / "board.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """An open store, closed after the test."""
    opened = await Store.open(db_path, boot_id="boot-test")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def run(store: Store) -> Run:
    """A run with no tasks."""
    return await store.create_run("build the thing")


Specs = Callable[..., list[TaskSpec]]


def _specs(*keys: str, deps: dict[str, list[str]] | None = None) -> list[TaskSpec]:
    deps = deps or {}
    return [TaskSpec(key=k, title=f"do {k}", depends_on=deps.get(k, [])) for k in keys]


@pytest.fixture
def specs() -> Specs:
    """specs("a", "b", deps={"b": ["a"]}): TaskSpecs titled after their keys."""
    return _specs
