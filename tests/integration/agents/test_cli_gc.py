"""`bosun gc --dry-run` lists what the real `bosun gc` then removes, own files included."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bosun.own_files import scratch_base

from tests.integration.agents.test_run_commands import bosun


def test_gc_dry_run_names_a_killed_daemons_scratch_that_gc_then_removes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["add", "."]):
        if args[0] == "add":
            (repo / "README.md").write_text("# r\n")
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "i"],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip
    assert bosun(repo, "daemon", "start").returncode == 0
    try:
        left = scratch_base(repo.resolve()) / "an-earlier-boot"  # a daemon killed mid-command
        (left / "cmd-1").mkdir(parents=True)
        (left / "cmd-1" / "junk").write_text("x")
        planned = bosun(repo, "gc", "--dry-run")
        assert planned.returncode == 0, planned.stderr
        assert f"would remove own file: {left}\n" in planned.stdout
        assert left.exists()  # a dry run removes nothing
        done = bosun(repo, "gc")
        assert f"removed own file: {left}\n" in done.stdout
        assert not left.exists()
        assert "own file" not in bosun(repo, "gc", "--dry-run").stdout
    finally:
        bosun(repo, "daemon", "stop")
