"""PatchStream's failures read as GitCli's do: git's own words, or the time limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from bosun.errors import GitError
from bosun.git.command import GitCli
from bosun.git.patch_stream import PatchStream


def test_a_failing_git_is_reported_with_its_own_words(git_repo: Path) -> None:
    stream = PatchStream(GitCli(), git_repo, ["diff", "no-such-revision", "HEAD"])
    with pytest.raises(
        GitError, match=r"git diff no-such-revision failed: .*unknown revision"
    ) as failed:
        stream.read_all()
    assert failed.value.data == {"args": ["diff", "no-such-revision", "HEAD"]}


def test_a_git_past_its_time_limit_is_stopped_with_the_limit_named(git_repo: Path) -> None:
    # A shell alias stands for a git that hangs; the stream's timer kills its process group.
    args = ["-c", "alias.stall=!sleep 600", "stall"]
    stream = PatchStream(GitCli(timeout_s=0.2), git_repo, args)
    with pytest.raises(GitError, match=r"took longer than 0\.2s and was stopped"):
        stream.read_all()
    assert not stream.alive
