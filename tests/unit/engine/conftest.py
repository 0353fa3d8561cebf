"""Fixtures: a real board and engines with scripted runners (helpers in scripted.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bosun.board.store import Store

from .scripted import EngineFactory


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "board.db", boot_id="boot-test")
    yield s
    await s.close()


@pytest.fixture
async def harness(store: Store) -> AsyncIterator[EngineFactory]:
    make = EngineFactory(store)
    yield make
    await make.stop_all()
