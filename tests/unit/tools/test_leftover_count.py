"""What a command's result says it left running: nothing after a clean run, the truth after
a command that did leave something, alone or in an attempt's sandbox, in every mode."""

from __future__ import annotations

import contextlib
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import SandboxMode

from tests.unit.tools.test_run_command import MODES, _sandbox, _survivors

_LEFT = re.compile(r"\((\d+) background process\(es\) it left were stopped\)")
_PYTEST = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"


@contextlib.asynccontextmanager
async def _where(ctx: ToolContext, in_session: bool) -> AsyncIterator[None]:
    if in_session:
        async with attempt_sandbox(ctx):
            yield
    else:
        yield


def _left(content: str) -> int:
    head = content.splitlines()[0]
    found = _LEFT.search(head)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("in_session", [False, True], ids=["alone", "attempt"])
@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_a_clean_pytest_run_reports_no_background_process(
    mode: SandboxMode,
    in_session: bool,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    # bwrap's own init, still exiting when its outer process returned, was counted as
    # the command's leftover (QA's pytest runs said "1 background process(es)").
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    async with _where(ctx, in_session):
        for _ in range(3):
            result = await executor.call(ctx, "run_command", {"command": _PYTEST, "timeout_s": 60})
            assert result.content.startswith("exit code: 0\n"), result.content
            assert "1 passed" in result.content


@pytest.mark.parametrize("in_session", [False, True], ids=["alone", "attempt"])
@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_background_processes_a_command_really_left_are_counted_exactly(
    mode: SandboxMode,
    in_session: bool,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    # Under bwrap the kernel killed them with the namespace before the daemon looked,
    # so they went unreported; a child and a double-forked orphan make two.
    mark = uuid.uuid4().hex
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    command = f"export T_MARK={mark}; sleep 1000 & (sleep 1000 &); echo done"
    async with _where(ctx, in_session):
        result = await executor.call(ctx, "run_command", {"command": command, "timeout_s": 30})
        assert result.outcome == "ok", result.content
        assert _left(result.content) == 2, result.content
        clean = await executor.call(ctx, "run_command", {"command": "echo quiet"})
        assert _left(clean.content) == 0, clean.content
    assert _survivors(mark) == []


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
async def test_a_failing_command_keeps_its_exit_code_under_the_counting(
    mode: SandboxMode, tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(tmp_path, sandbox=_sandbox(mode))
    result = await executor.call(ctx, "run_command", {"command": "echo out; echo err >&2; exit 7"})
    assert result.content.startswith("exit code: 7\n"), result.content
    assert "out" in result.content and "err" in result.content
