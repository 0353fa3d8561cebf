"""The crash soak's short form (issue 20 tests): the demo run on a real daemon, killed
with SIGKILL between write_file's temporary file and its rename, then at three random
moments, restarted each time; after each kill and at the end nothing is lost, attempts
are numbered exactly, no merge is half-done, and no file Bosun created for itself is in
any commit or left behind. `bench/engine_crash_soak.py` runs the long form.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from bosun.tools.paths import WRITE_BEFORE_RENAME

from tests.integration.engine.crash_soak import episode, new_repo

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


async def test_random_sigkills_during_a_run_leave_nothing_behind_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def set_env(name: str, value: str | None) -> None:
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    repo = new_repo(tmp_path / "sample")
    report = await episode(
        repo, kills=3, rng=random.Random(20), failpoint=WRITE_BEFORE_RENAME, set_env=set_env
    )
    assert report.failpoint_kills == 1  # the kill that used to commit `.x.bosun-….tmp`
    assert report.kills == 3 and report.final_state == "completed"
