"""QA's deterministic checks: the project's test command, found and run in the worktree.

The command comes from config, or is detected from the files the project has (pytest,
npm test, go test, cargo test, make test). It runs as a worker's `run_command` does: in
the sandbox, in its own session, with an environment free of the daemon's secrets,
bounded in time and output, and nothing it starts survives it.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from bosun.agents.api import CheckResult
from bosun.errors import BosunError
from bosun.tools.commands import RunCommandArgs, run_command
from bosun.tools.context import ToolContext
from bosun.tools.settings import ToolSettings

_EXIT = re.compile(r"exit code: (-?\d+)")
_TAIL_CHARS = 4000
_PYTEST_CONFIG = re.compile(r"^\[tool\.pytest", re.M)
_MAKE_TEST = re.compile(r"^test\s*:", re.M)


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError:
        return ""


def _has_python_tests(root: Path) -> bool:
    for folder in (root / "tests", root / "test", root):
        if folder.is_dir() and any(folder.glob("test_*.py")):
            return True
    return False


def _npm_test(root: Path) -> bool:
    try:
        manifest = json.loads(_read(root / "package.json") or "{}")
    except ValueError:
        return False
    scripts = manifest.get("scripts") if isinstance(manifest, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    # npm init writes a test script that only fails; it is no test suite.
    return isinstance(test, str) and "no test specified" not in test


def detect_test_command(root: Path, settings: ToolSettings | None = None) -> str | None:
    """The project's test command judged from its files, or None when it has none."""
    path = (settings or ToolSettings()).command_path
    if (
        _PYTEST_CONFIG.search(_read(root / "pyproject.toml"))
        or (root / "pytest.ini").is_file()
        or "[tool:pytest]" in _read(root / "setup.cfg")
        or _has_python_tests(root)
    ):
        runner = "pytest" if shutil.which("pytest", path=path) else "python3 -m pytest"
        return f"{runner} -q -p no:cacheprovider"  # leaves no cache in the worktree
    if _npm_test(root):
        return "npm test --silent"
    if (root / "go.mod").is_file():
        return "go test ./..."
    if (root / "Cargo.toml").is_file():
        return "cargo test --quiet"
    if _MAKE_TEST.search(_read(root / "Makefile")):
        return "make test"
    return None


async def run_check(
    command: str, ctx: ToolContext, *, timeout_s: float | None = None
) -> CheckResult:
    """Run `command` in the worktree of `ctx`; exit code None when it timed out or failed to start.

    It runs through `run_command` itself (sandbox, clean environment, process-tree
    cleanup) but not through the policy: the test command is the owner's, not a model's.
    """
    limit = timeout_s or ctx.settings.command_max_timeout_s
    started = time.monotonic()
    try:
        result = await run_command(ctx, RunCommandArgs(command=command, timeout_s=limit))
    except BosunError as exc:
        return CheckResult(command, None, f"could not run: {exc.message}")
    took = round(time.monotonic() - started, 3)
    found = _EXIT.match(result.content)
    code = int(found.group(1)) if found and result.outcome != "timeout" else None
    return CheckResult(command, code, result.content[-_TAIL_CHARS:], took)
