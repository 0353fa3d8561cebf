"""Commands see the project's own tools first on PATH, and write tools' caches privately."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.project_env import project_env
from bosun.tools.sandbox import Sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import SandboxMode

BASE = "/usr/local/bin:/usr/bin:/bin"


def _tool(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {text}\n")
    path.chmod(0o755)
    return path


def test_path_starts_with_the_worktrees_venv_then_node_modules(tmp_path: Path) -> None:
    (tmp_path / ".venv/bin").mkdir(parents=True)
    (tmp_path / "node_modules/.bin").mkdir(parents=True)
    env = project_env(tmp_path, BASE, tmp_path / "cache")
    parts = env.path.split(":")
    assert parts[:2] == [str(tmp_path / ".venv/bin"), str(tmp_path / "node_modules/.bin")]
    assert env.path.endswith(BASE)


def test_a_linked_environment_is_never_put_on_path(tmp_path: Path) -> None:
    other = tmp_path / "user-checkout" / ".venv"
    (other / "bin").mkdir(parents=True)
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".venv").symlink_to(other)  # the owner's venv: its editable install is another tree
    (wt / "node_modules").symlink_to(tmp_path)
    env = project_env(wt, BASE, tmp_path / "cache")
    assert env.path == BASE and env.bins == []
    assert "VIRTUAL_ENV" not in env.variables


def test_no_environment_leaves_path_as_configured(tmp_path: Path) -> None:
    env = project_env(tmp_path, BASE, tmp_path / "cache")
    assert env.path == BASE
    assert "no project environment" in env.describe()[0]


def test_a_declared_toolchain_is_found_where_the_user_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_bin = tmp_path / "home" / ".local" / "bin"
    _tool(home_bin, "uv", "uv")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    wt = tmp_path / "wt"
    wt.mkdir()
    assert project_env(wt, BASE, tmp_path / "c").toolchains == []  # no uv.lock: not wanted
    (wt / "uv.lock").write_text("version = 1\n")
    env = project_env(wt, BASE, tmp_path / "c")
    assert env.toolchains == [home_bin]
    assert env.path == f"{home_bin}:{BASE}"


def test_tool_caches_point_into_the_private_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = project_env(tmp_path, BASE, cache).variables
    assert env["XDG_CACHE_HOME"] == str(cache)
    assert env["npm_config_cache"].startswith(str(cache))
    assert env["UV_LINK_MODE"] == "copy"  # never hard links into a shared cache
    assert "PYTEST_ADDOPTS" not in env  # a project's own pytest options stay its own


@pytest.mark.parametrize("mode", [SandboxMode.NONE, SandboxMode.BWRAP])
async def test_a_command_runs_the_worktrees_own_tool_and_writes_its_cache(
    mode: SandboxMode,
    tmp_path: Path,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    try:
        sandbox = Sandbox.detect(mode, allow_weak=True)
    except SandboxUnavailableError as exc:
        pytest.skip(f"{mode.value} cannot run here: {exc.message}")
    wt = tmp_path / "wt"  # under /tmp: bwrap's private /tmp must still show it
    _tool(wt / ".venv" / "bin", "projecttool", "from-the-project-venv")
    _tool(wt / "node_modules" / ".bin", "xo", "from-node-modules")
    ctx = make_ctx(wt, sandbox=sandbox)
    command = (
        "projecttool; xo; test -d $XDG_CACHE_HOME && mkdir $XDG_CACHE_HOME/t && "
        "echo ok > $XDG_CACHE_HOME/t/f && "
        "cat $XDG_CACHE_HOME/t/f; echo $npm_config_cache"
    )
    async with attempt_sandbox(ctx):
        first = await executor.call(ctx, "run_command", {"command": command})
        again = await executor.call(ctx, "run_command", {"command": "cat $XDG_CACHE_HOME/t/f"})
    assert not first.is_error, first.content
    out = first.content.splitlines()
    assert "from-the-project-venv" in out and "from-node-modules" in out and "ok" in out
    assert str(wt) not in first.content.split("ok")[-1]  # the npm cache is not in the worktree
    assert "ok" in again.content  # the attempt's commands share their cache
    assert sorted(p.name for p in wt.iterdir()) == [".venv", "node_modules"]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
async def test_a_repository_under_tmp_is_visible_and_its_state_dir_stays_hidden(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    try:
        sandbox = Sandbox.detect(SandboxMode.BWRAP, allow_weak=True)
    except SandboxUnavailableError as exc:
        pytest.skip(f"bwrap cannot run here: {exc.message}")
    repo = tmp_path / "project"  # pytest's tmp_path is under /tmp
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)

    git("init", "-q", "-b", "main")
    (repo / "README").write_text("the owner's checkout\n")
    _tool(repo / ".venv" / "bin", "ownertool", "owner-env")
    git("add", "README")
    git("commit", "-q", "-m", "init")
    state = repo / ".bosun"
    (state / "worktrees").mkdir(parents=True)
    (state / "token").write_text("daemon-token-value")
    wt = state / "worktrees" / "task-7"
    git("worktree", "add", "-q", "-b", "t7", str(wt))
    ctx = make_ctx(wt, sandbox=sandbox, hidden_paths=[state])
    command = (
        f"git status --short --branch; cat {repo}/README; {repo}/.venv/bin/ownertool; "
        f"cat {state}/token; echo x > {repo}/written || echo repo-read-only; "
        "echo y > here && cat here"
    )
    result = await executor.call(ctx, "run_command", {"command": command})
    assert "## t7" in result.content, result.content  # git reads the repository's objects
    assert "the owner's checkout" in result.content and "owner-env" in result.content
    assert "daemon-token-value" not in result.content
    assert "repo-read-only" in result.content and not (repo / "written").exists()
    assert (wt / "here").read_text() == "y\n"
