"""Fixtures: a real board and engines with scripted runners (helpers in scripted.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store

from .scripted import Harness, make_engine_factory


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "board.db", boot_id="boot-test")
    yield s
    await s.close()


@pytest.fixture
async def harness(store: Store) -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
    make = make_engine_factory(store)
    yield make
    for engine in make.engines:  # type: ignore[attr-defined]
        await engine.stop()
