"""The git CLI runner: time limits kill the whole process group; a hostile environment
cannot redirect git to another index or repository."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bosun.errors import GitError
from bosun.git.command import GitCli


def test_a_hung_git_is_killed_at_the_time_limit(git_repo: Path) -> None:
    cli = GitCli(timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(GitError, match=r"longer than 0\.5s"):
        cli.run(git_repo, "-c", "alias.nap=!sleep 30", "nap")
    assert time.monotonic() - started < 10


def test_failures_carry_gits_words(git_repo: Path) -> None:
    with pytest.raises(GitError, match="unknown revision") as err:
        GitCli().run(git_repo, "log", "no-such-branch")
    assert err.value.data["args"][:2] == ["log", "no-such-branch"]


def test_inherited_git_variables_are_ignored(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stray = tmp_path / "stray-index"
    monkeypatch.setenv("GIT_INDEX_FILE", str(stray))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "nowhere"))
    cli = GitCli()
    assert cli.rev(git_repo, "HEAD") is not None
    cli.run(git_repo, "read-tree", "HEAD")
    assert not stray.exists()


def test_non_utf8_output_round_trips(git_repo: Path) -> None:
    cli = GitCli(identity=("Bosun", "bosun@localhost"))
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
    (git_repo / name).write_bytes(b"\xff\xfe bytes\n")
    cli.run(git_repo, "add", "-A")
    out = cli.run(git_repo, "diff", "--cached", "-z", "--name-only")
    assert out.stdout.split("\0")[0] == name


def test_git_never_sees_the_daemons_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Provider keys in the daemon's environment are not passed to git."""
    from bosun.git.hardening import daemon_git_env

    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-should-not-leak")
    monkeypatch.setenv("HOME", str(tmp_path))
    env = daemon_git_env(None)
    assert "OPENAI_API_KEY" not in env and "GITHUB_TOKEN" not in env
    assert env["HOME"] == str(tmp_path)
