"""The names of every failpoint in the git plane, in the order an operation meets them.

Crash-safety tests iterate over FAILPOINTS: each is armed in turn, the process is killed
there, and recovery must leave git and the board consistent.
"""

from __future__ import annotations

from bosun.failpoints import failpoint

RUN_BRANCH_CREATED = "git.run.branch_created"
WORKTREE_RECORDED = "git.worktree.recorded"
WORKTREE_ADDED = "git.worktree.added"
WORKTREE_SWITCHED = "git.worktree.switched"
COMMIT_STAGED = "git.commit.staged"
COMMIT_WRITTEN = "git.commit.written"
MERGE_COMPUTED = "git.merge.computed"
MERGE_JOURNALED = "git.merge.journaled"
MERGE_PUBLISHED = "git.merge.published"
MERGE_RECORDED = "git.merge.recorded"
LAND_CHECKED = "git.land.checked"
LAND_MERGE_BUILT = "git.land.merge_built"
LAND_UPDATED = "git.land.updated"
CLEANUP_WORKTREE_REMOVED = "git.cleanup.worktree_removed"
CLEANUP_BRANCH_DELETED = "git.cleanup.branch_deleted"

FAILPOINTS: tuple[str, ...] = (
    RUN_BRANCH_CREATED,
    WORKTREE_RECORDED,
    WORKTREE_ADDED,
    WORKTREE_SWITCHED,
    COMMIT_STAGED,
    COMMIT_WRITTEN,
    MERGE_COMPUTED,
    MERGE_JOURNALED,
    MERGE_PUBLISHED,
    MERGE_RECORDED,
    LAND_CHECKED,
    LAND_MERGE_BUILT,
    LAND_UPDATED,
    CLEANUP_WORKTREE_REMOVED,
    CLEANUP_BRANCH_DELETED,
)

__all__ = ["FAILPOINTS", "failpoint"]
