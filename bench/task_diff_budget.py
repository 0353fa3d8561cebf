"""Task diff of a task that wrote a ~200 MB generated file: the old way (read_diff, then
fit_diff) against the budgeted read (budgeted_diff.read_within_budget).

    .venv/bin/python -m bench.task_diff_budget [--size-mb 200] [--rounds 3]

The repository (cached under bench/.out/) has a base commit with a few small files, and
a head commit that adds a generated CSV of about `--size-mb` MB and changes three small
files. Each measurement runs in a child process of its own, so its peak RSS
(ru_maxrss) is that one call's; rounds alternate the two ways so a drifting load on a
shared machine falls on both alike. The default budget (4 MiB) is used, and the answers
of both ways are checked to be the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bosun.git import patch_stream
from bosun.git.budgeted_diff import read_within_budget
from bosun.git.command import GitCli
from bosun.git.diff_budget import fit_diff
from bosun.git.hunks import read_diff
from bosun_protocol.review import DIFF_BYTES_DEFAULT

OUT = Path(__file__).parent / ".out" / "task-diff"
ROW = "{i},{sq},2026-11-24T12:00:00Z,generated row number {i} of the dump,{h:08x}\n"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=900
    ).stdout.strip()


def generated_repo(size_mb: int) -> tuple[Path, str, str]:
    """A repository whose head adds a ~size_mb MB file and changes three small ones
    (size_mb 0: no dump, but 100 files of 300 changed lines, a diff that fits whole)."""
    repo = OUT / (f"dump-{size_mb}mb" if size_mb else "fits-whole")
    ready = repo / ".git" / "bench-ready"
    if not ready.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
        repo.mkdir(parents=True)
        _git(repo, "init", "-q", "-b", "main")
        for name in ("a.py", "b.py", "c.md"):
            (repo / name).write_text("".join(f"line {i} of {name}\n" for i in range(200)))
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "base")
        for k in range(100 if not size_mb else 0):
            (repo / f"mod{k:03d}.py").write_text(f"value_{k} = 0\n" * 300)
        with (repo / ("dump.csv" if size_mb else "empty.csv")).open("w") as out:
            written, i = 0, 0
            while written < size_mb << 20:
                row = ROW.format(i=i, sq=i * i, h=(i * 2654435761) & 0xFFFFFFFF)
                out.write(row)
                written += len(row)
                i += 1
        for k in range(100 if not size_mb else 0):
            (repo / f"mod{k:03d}.py").write_text(f"value_{k} = {k} * 2 + 1  # changed\n" * 300)
        for name in ("a.py", "b.py", "c.md"):
            lines = (repo / name).read_text().splitlines(keepends=True)
            lines[10] = f"changed in {name}\n"
            (repo / name).write_text("".join(lines))
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "dump")
        ready.write_text("ok")
    return repo, _git(repo, "rev-parse", "HEAD~1"), _git(repo, "rev-parse", "HEAD")


def child(way: str, repo: Path, base: str, head: str) -> None:
    """One task diff the `way` asked, then its figures as one JSON line on stdout."""
    cli = GitCli(timeout_s=900)
    read = 0
    started = time.perf_counter()
    if way == "old":
        files, truncated = fit_diff(read_diff(cli, repo, base, head), DIFF_BYTES_DEFAULT)
    else:
        seen: list[patch_stream.PatchStream] = []

        class Counted(patch_stream.PatchStream):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                seen.append(self)

        patch_stream.PatchStream = Counted  # type: ignore[misc]
        files, truncated = read_within_budget(cli, repo, base, head, DIFF_BYTES_DEFAULT)
        read = sum(s.read for s in seen)
    elapsed = time.perf_counter() - started
    answer = json.dumps([f.model_dump(mode="json") for f in files], sort_keys=True).encode()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "read_kb": read / 1024,
                "truncated": truncated,
                "answer": hashlib.sha256(answer).hexdigest(),
            }
        )
    )


def _measure(way: str, repo: Path, base: str, head: str) -> dict[str, Any]:
    root = Path(__file__).parent.parent
    out = subprocess.run(
        [sys.executable, "-m", "bench.task_diff_budget", "--child", way, str(repo), base, head],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=4, metavar=("WAY", "REPO", "BASE", "HEAD"))
    args = parser.parse_args()
    if args.child:
        way, repo, base, head = args.child
        child(way, Path(repo), base, head)
        return
    for size_mb in (args.size_mb, 0):
        _compare(size_mb, args.rounds)


def _compare(size_mb: int, rounds: int) -> None:
    repo, base, head = generated_repo(size_mb)
    what = "100 files of 300 lines changed"
    if size_mb:
        what = f"dump.csv {(repo / 'dump.csv').stat().st_size / (1 << 20):.0f} MB added"
    print(f"\nrepository {repo.name}: {what}, 3 small files changed")
    samples: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    for _ in range(rounds):
        for way in ("old", "new"):
            samples[way].append(_measure(way, repo, base, head))
    assert samples["old"][0]["answer"] == samples["new"][0]["answer"], "answers differ"
    print("| way | median s (min–max) | peak RSS MB (median) | read from git |")
    print("|---|---|---|---|")
    for way, label in (("old", "read_diff + fit_diff"), ("new", "read_within_budget")):
        secs = [s["seconds"] for s in samples[way]]
        peak = statistics.median(s["peak_mb"] for s in samples[way])
        read = f"{samples[way][0]['read_kb']:.0f} KB" if way == "new" else "whole patch"
        print(
            f"| {label} | {statistics.median(secs):.2f} ({min(secs):.2f}–{max(secs):.2f}) "
            f"| {peak:.0f} | {read} |"
        )


if __name__ == "__main__":
    main()
