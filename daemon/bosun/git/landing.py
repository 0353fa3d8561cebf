"""Landing a run branch onto the user's branch, only when nothing of theirs is at risk.

The user's branch is updated with `git merge --ff-only` in their main worktree, and only
after checking that HEAD is on that branch, no merge/rebase is in progress and no tracked
file is modified or staged. `--ff-only` itself refuses (changing nothing) if the user
moved the branch or created a colliding untracked file in the meantime. When the base
moved since the run started and `land_mode = "merge"`, the merge commit is computed off
line first (merge-tree) so the user's tree only ever sees a fast-forward.
"""

from __future__ import annotations

from pathlib import Path

from bosun_protocol.review import LandRunResult

from bosun.git import points
from bosun.git.command import GitCli
from bosun.git.merges import commit_tree, merge_trees
from bosun.git.repository import inspect_user_tree
from bosun.workspace import STATE_DIR_NAME


def _state_dir_changes(cli: GitCli, root: Path, base: str, head: str) -> list[str]:
    """Paths under `.bosun/` the run changes (from the merge base): commits made by a
    command inside the sandbox are not staged by Bosun, so they are checked here."""
    out = cli.run(
        root, "diff", "--name-only", "-z", "--no-renames", f"{base}...{head}", "--",
        f":(literal){STATE_DIR_NAME}",
    )  # fmt: skip
    return [p for p in out.stdout.split("\0") if p]


def land_run(
    cli: GitCli, root: Path, run_id: int, run_ref: str, base_branch: str, mode: str
) -> LandRunResult:
    """Fast-forward (or merge, per `mode`) `base_branch` to the run branch, or say why not."""

    def needs_human(reason: str) -> LandRunResult:
        return LandRunResult(
            run_id=run_id, outcome="needs_human", branch=base_branch, reason=reason
        )

    if mode == "never":
        return needs_human('landing is set to always ask (git.land_mode = "never")')
    run_head = cli.rev(root, run_ref)
    base_head = cli.rev(root, "refs/heads/" + base_branch)
    if run_head is None or base_head is None:
        missing = run_ref if run_head is None else base_branch
        return needs_human(f"the branch {missing} does not exist any more")
    if cli.is_ancestor(root, run_head, base_head):
        return LandRunResult(
            run_id=run_id, outcome="already_landed", branch=base_branch, head=base_head
        )
    touched = _state_dir_changes(cli, root, base_head, run_head)
    if touched:
        return needs_human(
            f"the run changes {', '.join(touched[:3])} under {STATE_DIR_NAME}/, Bosun's own "
            "configuration and state, which Bosun never lands; look at "
            f"{run_ref} yourself and merge what you trust"
        )
    user = inspect_user_tree(root)
    if user.operation is not None:
        return needs_human(f"{user.operation} is in progress in your working tree; finish it first")
    if user.head_branch != base_branch:
        on = user.head_branch or "a detached HEAD"
        return needs_human(
            f"your working tree is on {on}, not {base_branch}; switch to {base_branch} and "
            f"land again (`bosun land {run_id}`), or merge {run_ref} yourself"
        )
    if user.dirty:
        shown = ", ".join(user.dirty[:5]) + (" …" if len(user.dirty) > 5 else "")
        return needs_human(
            f"your working tree or index has uncommitted changes ({shown}); commit or "
            f"stash them and land again (`bosun land {run_id}`)"
        )
    target, how = run_head, "ff"
    if not cli.is_ancestor(root, base_head, run_head):
        if mode != "merge":
            return needs_human(
                f"{base_branch} moved since the run started, so it cannot be fast-forwarded; "
                f'merge {run_ref} yourself, or set git.land_mode = "merge"'
            )
        merged = merge_trees(cli, root, base_head, run_head)
        if merged.conflicts:
            names = ", ".join(c.path for c in merged.conflicts[:5])
            return needs_human(f"merging the run into {base_branch} conflicts in {names}")
        message = f"bosun: land run {run_id} onto {base_branch}\n\nBosun-Run: {run_id}\n"
        target, how = commit_tree(cli, root, merged.tree, [base_head, run_head], message), "merge"
        points.failpoint(points.LAND_MERGE_BUILT)
    points.failpoint(points.LAND_CHECKED)
    out = cli.run(root, "merge", "--ff-only", "-q", target, check=False)
    if not out.ok:
        said = (out.stderr or out.stdout).strip().splitlines()
        return needs_human(
            "git refused to fast-forward your branch (nothing was changed): "
            + ("; ".join(said[-3:]) or f"exit status {out.returncode}")
        )
    points.failpoint(points.LAND_UPDATED)
    return LandRunResult(
        run_id=run_id,
        outcome="landed",
        branch=base_branch,
        head=target,
        mode=how,
    )
