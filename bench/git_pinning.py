"""What pinning and hardening add to one daemon git call in a task worktree.

    .venv/bin/python -m bench.git_pinning [--rounds 200] [--files 2000]

Times, in one worktree of a generated repository: the record check alone
(`Pins.dirs_for`: lstat, three small reads), `git rev-parse HEAD` and `git status`
run the old way (git finds its dirs through `.git`, a short `-c` list) and the new
way (GitCli with pins and the whole override list), and the nested-repository scan a
commit now runs before `git add`. Rounds interleave old and new so load drift hits both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bosun.git.command import GitCli
from bosun.git.hardening import daemon_git_env
from bosun.git.nested import SCAN_ARGS
from bosun.git.pinned import Pins

_OLD_ARGS = ("-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat", "-c", "gc.auto=0")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=600)


def _setup(base: Path, files: int) -> tuple[Path, Path]:
    repo = base / "repo"
    (repo / "src").mkdir(parents=True)
    for i in range(files):
        (repo / "src" / f"f{i}.txt").write_text(f"{i}\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=b", "-c", "user.email=b@x.invalid", "commit", "-q", "-m", "i")
    wt = base / "wts" / "task-1"
    _git(repo, "worktree", "add", "-q", "-b", "bosun/task-1", str(wt))
    return repo, wt


def _ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Print the median cost of each variant and the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000)
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bosun-bench-pin-"))
    try:
        repo, wt = _setup(base, opts.files)
        pins = Pins(repo, base / "wts")
        cli = GitCli(pins=pins)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

        def old(*args: str) -> Callable[[], object]:
            return lambda: subprocess.run(
                ["git", *_OLD_ARGS, *args], cwd=wt, env=env, capture_output=True, check=True
            )

        def new(*args: str) -> Callable[[], object]:
            return lambda: cli.run(wt, *args)

        check = _ms(lambda: pins.dirs_for(wt), opts.rounds * 10)
        env_ms = _ms(lambda: daemon_git_env(pins.dirs_for(wt).env()), opts.rounds * 10)
        rows = {}
        for name, args in (("rev-parse HEAD", ("rev-parse", "HEAD")), ("status", ("status",))):
            olds, news = [], []
            for _ in range(opts.rounds // 10):
                olds.append(_ms(old(*args), 10))
                news.append(_ms(new(*args), 10))
            rows[name] = (statistics.median(olds), statistics.median(news))
        scan = _ms(new(*SCAN_ARGS), opts.rounds // 4)
        print(f"worktree of {opts.files} files, medians over {opts.rounds} rounds")
        print(f"  record check (Pins.dirs_for)        {check * 1000:8.1f} µs")
        print(f"  check + environment                 {env_ms * 1000:8.1f} µs")
        for name, (o, n) in rows.items():
            print(f"  git {name:<16} old {o:6.2f} ms  new {n:6.2f} ms  ratio {n / o:5.2f}")
        print(f"  nested scan before add (status v2)  {scan:8.2f} ms  (one more git per commit)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
