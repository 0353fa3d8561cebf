"""Bringing back a finished run's branch for `bosun restart`, where the board left it.

`bosun gc` deletes a cancelled or failed run's branch once a user's branch holds its
tip (nothing of the run's own is lost: typically a run cancelled before any merge, its
branch still at the base). The board keeps the run's recorded head, so a restart
recreates the branch there, the run branch "as it stands", rather than at a new base;
the replacements' task branches are then made from it as any task's are.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bosun_protocol.entities import Run

from bosun.errors import NotFoundError
from bosun.git.board import GitBoard
from bosun.git.command import GitCli
from bosun.git.repository import ZERO_OID, run_branch


async def restore_run_branch(cli: GitCli, root: Path, board: GitBoard, run_id: int) -> Run:
    """The run, its branch present at the recorded head (recreated when gc removed it)."""
    run = await board.get_run(run_id)
    branch = run.run_branch or run_branch(run_id)
    if await asyncio.to_thread(cli.rev, root, "refs/heads/" + branch) is not None:
        return run
    head = run.head_commit or run.base_commit
    if head is None:
        return run  # it never had a branch: the run's start makes one, as for a new run
    if await asyncio.to_thread(cli.rev, root, head) is None:
        raise NotFoundError(
            f"run {run_id}'s branch {branch} was removed and its last commit {head[:12]} is no "
            "longer in the repository; start a new run instead"
        )
    # Only if it is still absent: a branch someone made meanwhile is theirs.
    await cli.arun(
        root, "update-ref", "-m", "bosun: run restart", "refs/heads/" + branch, head, ZERO_OID
    )
    return await board.update_run(
        run_id,
        event="run.branch_restored",
        data={"branch": branch, "head": head},
        run_branch=branch,
        head_commit=head,
    )
