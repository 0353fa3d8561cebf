"""The crash soak, long form: demo runs on a real daemon, SIGKILLed at random moments.

    .venv/bin/python -m bench.engine_crash_soak [--episodes 3] [--kills 6] [--seed 20]

Each episode is one demo run in a fresh sample repository: killed once between
write_file's temporary file and its rename (the failpoint), then `--kills` times after a
random number of board notifications, restarted each time, then driven to its end. After
every kill: attempts numbered exactly, no half-done merge, no file Bosun made for itself
in any commit; at the end also every task complete, no worktree or scratch directory
left. Any broken invariant fails the episode (AssertionError). `make test` runs the
short form (tests/integration/engine/test_crash_soak.py: one episode, 3 kills).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from bosun.tools.paths import WRITE_BEFORE_RENAME

from tests.integration.engine.crash_soak import episode, new_repo


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


async def _soak(episodes: int, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    total = failpoints = attempts = mid_run = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bosun-bench-soak-") as tmp:
        for i in range(episodes):
            t = time.perf_counter()
            repo = new_repo(Path(tmp) / f"sample-{i}")
            report = await episode(
                repo, kills, rng, failpoint=WRITE_BEFORE_RENAME, set_env=_set_env
            )
            total += report.kills + report.failpoint_kills
            failpoints += report.failpoint_kills
            mid_run += report.mid_run_kills
            attempts += report.attempts
            print(
                f"  episode {i + 1}: {report.kills} random kills ({report.mid_run_kills} "
                "mid-run, after "
                f"{report.notes_before_kill} notifications) + {report.failpoint_kills} at "
                f"the write failpoint; {report.attempts} attempts; {report.final_state} "
                f"in {time.perf_counter() - t:.1f} s",
                flush=True,
            )
    print(
        f"  {total} SIGKILLs in {episodes} runs ({mid_run} random mid-run, {failpoints} "
        "mid-write), every invariant "
        f"held; {attempts} attempts; {time.perf_counter() - start:.1f} s"
    )


def main() -> None:
    """Run the soak with the arguments given (defaults: 3 episodes x 6 kills)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--kills", type=int, default=6)
    ap.add_argument("--seed", type=int, default=20)
    args = ap.parse_args()
    asyncio.run(_soak(args.episodes, args.kills, args.seed))


if __name__ == "__main__":
    main()
