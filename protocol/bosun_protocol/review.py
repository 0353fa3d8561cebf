"""Diffs, review decisions, landing and garbage collection on the wire.

A task's diff is files → hunks, each hunk with an id that is stable for a given base and
head (a hash of the path, the hunk header and its lines), so a client can approve hunks
it read earlier and the daemon can tell when the task changed underneath.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from bosun_protocol.base import WireModel
from bosun_protocol.entities import Task

FileStatus = Literal["added", "modified", "deleted", "type_changed"]


class Hunk(WireModel):
    """One hunk of a unified diff (3 lines of context)."""

    id: str = Field(description="Stable id: hash of path, header and lines.")
    header: str = Field(
        description=(
            "The `@@ -a,b +c,d @@` line; `binary`, `mode` or `type` (file ↔ symlink) "
            "for whole-file changes."
        ),
    )
    old_start: int = 0
    old_lines: int = 0
    new_start: int = 0
    new_lines: int = 0
    lines: list[str] = Field(
        default_factory=list, description="Body lines with their ' ', '+', '-' or '\\' prefix."
    )


class FileDiff(WireModel):
    """The changes of one path between a task's base and head."""

    path: str
    status: FileStatus
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    hunks: list[Hunk] = Field(default_factory=list)
    added_lines: int = Field(default=0, description="Lines added in this file, counted in full.")
    removed_lines: int = Field(default=0, description="Lines removed, counted in full.")
    truncated: bool = Field(
        default=False,
        description="Hunks left out to keep the answer under `maxBytes`; ask for this "
        "`path` alone to see them. Approving the task still merges the whole file.",
    )


# A diff answer must fit the 16 MiB message limit with room to spare; larger diffs (an
# agent that wrote a generated file or a dump) are answered file by file.
DIFF_BYTES_DEFAULT = 4 << 20
DIFF_BYTES_MAX = 12 << 20


class TaskDiffParams(WireModel):
    """Which task's diff to show, and how much of it at most."""

    task_id: int
    path: str | None = Field(default=None, description="Only this file (repository path).")
    max_bytes: int = Field(
        default=DIFF_BYTES_DEFAULT,
        ge=4096,
        le=DIFF_BYTES_MAX,
        description="Budget for hunk lines in the answer; files past it come `truncated`.",
    )


class TaskDiffResult(WireModel):
    """Files and hunks between the task's base commit and its head."""

    task_id: int
    base_commit: str
    head_commit: str
    files: list[FileDiff]
    truncated: bool = Field(default=False, description="At least one file is `truncated`.")


class ApproveDecision(WireModel):
    """Merge everything the task changed."""

    kind: Literal["approve"] = "approve"


class ApproveHunksDecision(WireModel):
    """Merge only these hunks; every other hunk is recorded as rejected."""

    kind: Literal["approve_hunks"] = "approve_hunks"
    hunk_ids: list[str] = Field(min_length=1, max_length=10_000)


class ReviewComment(WireModel):
    """A reviewer's remark, optionally anchored to a file, a hunk or a line of a file."""

    body: str = Field(min_length=1, max_length=20_000)
    path: str | None = None
    hunk_id: str | None = None
    line: int | None = Field(
        default=None,
        ge=1,
        description="1-based line in the task's head version of `path`; needs `path`.",
    )

    @model_validator(mode="after")
    def _line_needs_path(self) -> ReviewComment:
        # A line number without a file names nothing the next attempt could find.
        if self.line is not None and self.path is None:
            raise ValueError("`line` needs `path`")
        return self

    def render(self) -> str:
        """How the next attempt reads the comment: `path:line: body`, `path: body` or `body`."""
        if self.path is None:
            return self.body
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.body}"


class RequestChangesDecision(WireModel):
    """Send the task back (through Phoenix) with these comments."""

    kind: Literal["request_changes"] = "request_changes"
    comments: list[ReviewComment] = Field(min_length=1, max_length=500)


class RejectDecision(WireModel):
    """Abandon the task; its dependents go to a human."""

    kind: Literal["reject"] = "reject"
    reason: str = Field(default="", max_length=20_000)


ReviewDecision = Annotated[
    ApproveDecision | ApproveHunksDecision | RequestChangesDecision | RejectDecision,
    Field(discriminator="kind"),
]


class ReviewTaskParams(WireModel):
    """A reviewer's decision on a task awaiting review."""

    task_id: int
    decision: ReviewDecision


class ReviewTaskResult(WireModel):
    """The task after the decision, and which hunks were approved or rejected."""

    task: Task
    approved_hunks: list[str] = Field(default_factory=list)
    rejected_hunks: list[str] = Field(default_factory=list)


class LandRunParams(WireModel):
    """Put a run's branch onto the user's branch."""

    run_id: int


LandOutcome = Literal["landed", "already_landed", "needs_human"]


class LandRunResult(WireModel):
    """What landing did; `needs_human` carries the reason and touches nothing."""

    run_id: int
    outcome: LandOutcome
    branch: str
    reason: str | None = None
    head: str | None = Field(default=None, description="The user's branch head afterwards.")
    mode: Literal["ff", "merge"] | None = None


class GcParams(WireModel):
    """Options of `bosun/gc`."""

    dry_run: bool = False


class GcResult(WireModel):
    """What garbage collection and reconciliation removed, re-attached or repaired."""

    removed_worktrees: list[str] = Field(default_factory=list)
    removed_branches: list[str] = Field(default_factory=list)
    reattached_worktrees: list[str] = Field(default_factory=list)
    repaired: list[str] = Field(
        default_factory=list, description="Board records corrected to match git."
    )
    recovered_merges: list[str] = Field(default_factory=list)
    removed_own_files: list[str] = Field(
        default_factory=list,
        description=(
            "Files Bosun made for itself that a crash left behind: write_file's temporary "
            "files in task worktrees, command scratch directories of earlier boots."
        ),
    )
    kept: list[str] = Field(default_factory=list, description="Left in place, with the reason.")
