"""Fixtures for tool tests: a worktree with hostile links, a sentinel outside it, contexts."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode, ToolSettings
from bosun_protocol.entities import Profile

SECRET_TEXT = "TOP SECRET sentinel content"


@dataclass
class Layout:
    """A worktree full of traps, and the directory outside it that must never change."""

    base: Path
    wt: Path
    outside: Path
    gitdir: Path
    secret: str = SECRET_TEXT

    def outside_state(self) -> dict[str, tuple[str, str]]:
        """Everything outside the worktree that a tool could reach if it escaped."""
        return {
            "outside": snapshot(self.outside),  # type: ignore[dict-item]
            "gitdir": snapshot(self.gitdir),  # type: ignore[dict-item]
            "base": tuple(sorted(p.name for p in self.base.iterdir())),  # type: ignore[dict-item]
        }


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every name under `root` with its kind and content (or link target), links unfollowed."""
    out: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", oct(p.stat().st_mode))
            else:
                st = p.stat()
                out[rel] = ("file", f"{p.read_bytes()!r}:{oct(st.st_mode)}:{st.st_ino}")
    return out


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """outside/ with a secret; wt/ with links out, a hard link, a loop, a fifo, a .git file."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET_TEXT)
    (outside / "sub" / "deeper.txt").write_text(SECRET_TEXT)
    gitdir = tmp_path / "gitdir"
    (gitdir / "hooks").mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/main\n")
    wt = tmp_path / "wt"
    (wt / "src" / "pkg").mkdir(parents=True)
    (wt / "README.md").write_text("# readme\nline two\nline three\n")
    (wt / "src" / "a.py").write_text("def alpha():\n    return 1\n")
    (wt / "src" / "pkg" / "b.py").write_text("def beta():\n    return 2\n")
    (wt / ".git").write_text(f"gitdir: {gitdir}\n")
    (wt / "link_out").symlink_to("../outside")
    (wt / "link_file").symlink_to("../outside/secret.txt")
    (wt / "abs_link").symlink_to("/")
    (wt / "proc_link").symlink_to("/proc/self/root")
    (wt / "src" / "deep_link").symlink_to("../../outside")
    (wt / "dangling").symlink_to("../outside/created-through-link.txt")
    (wt / "loop").symlink_to("loop")
    os.link(outside / "secret.txt", wt / "hard")
    os.mkfifo(wt / "fifo")
    return Layout(tmp_path, wt, outside, gitdir)


@pytest.fixture
def settings() -> ToolSettings:
    """Defaults with short limits, and no sandbox unless a test asks for one."""
    return ToolSettings(
        sandbox=SandboxMode.NONE, allow_weak_sandbox=True, command_timeout_s=10, kill_grace_s=0.3
    )


@pytest.fixture
def make_ctx(settings: ToolSettings) -> Callable[..., ToolContext]:
    """Build a ToolContext for a worktree (coder profile by default)."""

    def make(worktree: Path, **overrides: Any) -> ToolContext:
        fields: dict[str, Any] = {
            "run_id": 1,
            "task_id": 7,
            "attempt": 1,
            "worktree_path": worktree,
            "branch": "bosun/task-7",
            "profile": Profile.CODER,
            "settings": settings,
            "sandbox": Sandbox.detect(SandboxMode.NONE, allow_weak=True),
        }
        fields.update(overrides)
        return ToolContext(**fields)

    return make


@pytest.fixture
def executor(settings: ToolSettings) -> ToolExecutor:
    """The real pipeline with every built-in tool and the default policy."""
    return ToolExecutor(build_registry(settings), Policy.from_settings(settings))


class RecordingSink:
    """An EventSink that keeps events in a list."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int | None, int | None, dict[str, Any]]] = []

    async def append_event(
        self,
        kind: str,
        *,
        run_id: int | None = None,
        task_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append((kind, run_id, task_id, dict(data or {})))


@pytest.fixture
def sink() -> RecordingSink:
    """A fresh recording event sink."""
    return RecordingSink()
