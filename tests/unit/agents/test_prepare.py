"""The worktree's set-up: run once per environment, in the sandbox, with shared caches."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from bosun.agents.prepare import Preparer, environment_note
from bosun.config import Settings
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode


def _sandbox() -> Sandbox:
    for mode in (SandboxMode.BWRAP, SandboxMode.NONE):
        try:
            return Sandbox.detect(mode, allow_weak=True)
        except SandboxUnavailableError:
            continue
    raise AssertionError("no sandbox at all")


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository under /tmp with a task worktree inside its state directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    run = {"cwd": repo, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)  # type: ignore[call-overload]
    (repo / "README").write_text("x\n")
    subprocess.run(["git", "add", "README"], **run)  # type: ignore[call-overload]
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "i"], **run
    )  # type: ignore[call-overload]
    state = repo / ".bosun"
    (state / "worktrees").mkdir(parents=True, mode=0o700)
    (state / "token").write_text("daemon-token-value")
    wt = state / "worktrees" / "task-3"
    subprocess.run(["git", "worktree", "add", "-q", "-b", "t3", str(wt)], **run)  # type: ignore[call-overload]
    return repo, wt


def _preparer(repo: Path, setup: str) -> Preparer:
    settings = Settings.model_validate({"worktree": {"setup": setup, "setup_timeout_s": 60}})
    state = repo / ".bosun"
    return Preparer(settings, repo, state, sandbox=_sandbox(), hidden=[state])


SETUP = (
    "mkdir -p .venv/bin && echo made > .venv/bin/marker && "
    "echo cached > $PIP_CACHE_DIR.txt; cat $HOME/../token 2>/dev/null; "
    "cat ../../token 2>/dev/null || echo token-hidden; echo ran"
)


async def test_the_setup_runs_once_per_environment_and_again_when_it_is_gone(
    tmp_path: Path,
) -> None:
    repo, wt = _repo(tmp_path)
    prep = _preparer(repo, SETUP)
    first = await prep.ensure(wt)
    assert first.ran and first.ok, first.output
    assert "ran" in first.output and "token-hidden" in first.output
    assert "daemon-token-value" not in first.output
    assert first.made == [".venv"] and (wt / ".venv" / ".gitignore").read_text() == "*\n"
    # the shared cache is writable to the set-up, and lives in the state directory
    assert (repo / ".bosun" / "cache" / "pip.txt").read_text() == "cached\n"
    again = await prep.ensure(wt)
    assert not again.ran and again.ok
    shutil.rmtree(wt / ".venv")  # what a fresh attempt's `git clean -ffdx` does
    third = await prep.ensure(wt)
    assert third.ran and third.ok and (wt / ".venv" / "bin" / "marker").exists()


async def test_a_failing_setup_is_an_environment_problem_with_its_output(tmp_path: Path) -> None:
    repo, wt = _repo(tmp_path)
    prep = _preparer(repo, "echo resolving deps; echo 'no such package: frobnicate' >&2; exit 3")
    done = await prep.ensure(wt)
    assert done.ran and not done.ok and done.exit_code == 3
    problem = done.problem()
    assert "exited 3" in problem and "no such package: frobnicate" in problem
    assert "setup_network" in problem
    assert (await prep.ensure(wt)).ran  # not recorded as prepared: runs again next time


async def test_no_setup_configured_or_detected_runs_nothing(tmp_path: Path) -> None:
    repo, wt = _repo(tmp_path)
    done = await _preparer(repo, "").ensure(wt)
    assert done.command is None and not done.ran and done.ok


async def test_the_setup_sees_only_loopback_unless_the_network_is_allowed(
    tmp_path: Path,
) -> None:
    repo, wt = _repo(tmp_path)
    interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1"  # this network namespace's
    prep = _preparer(repo, interfaces)
    if prep.sandbox is None or prep.sandbox.report.mode is not SandboxMode.BWRAP:
        pytest.skip("only bwrap isolates the network here")
    done = await prep.run(interfaces, wt)
    assert done.ok and done.output.split("---\n")[-1].split() == ["lo"], done.output
    prep.settings.worktree.setup_network = True
    allowed = await prep.run(interfaces, wt)
    assert len(allowed.output.split("---\n")[-1].split()) > 1  # the host's interfaces


async def test_a_setup_that_makes_no_known_environment_runs_for_every_attempt(
    tmp_path: Path,
) -> None:
    repo, wt = _repo(tmp_path)
    prep = _preparer(repo, "mkdir -p build && echo x > build/deps")
    assert (await prep.ensure(wt)).ran
    assert (await prep.ensure(wt)).ran  # nothing shows whether a clean removed its work


def test_the_brief_names_the_worktrees_environment_and_qas_command(tmp_path: Path) -> None:
    assert environment_note(tmp_path, Settings()) is None  # nothing said without one
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    note = environment_note(tmp_path, Settings()) or ""
    assert "`.venv/bin` come first on PATH" in note
    assert "QA runs `.venv/bin/python -m pytest -q`" in note
    assert str(tmp_path) not in note  # relative: a replayed run sends the same brief
