"""A task's review before merge, as ACP can carry it.

ACP v1 has no review of a change: with a review gate on, a task that passed QA waits in
`awaiting_review`; its diff is already on its tool call, and a permission request on that
tool call offers approve / request changes / reject. Changes requested, or the request put
off, end the turn: the next message is the review (`/approve`, `/reject [why]`, or the
comments themselves, sent back as changes requested). Per-hunk choices stay in VS Code
and `bosun review`.
"""

from __future__ import annotations

from typing import Any

from acp import schema as acp
from bosun_protocol.entities import Task

from bosun.acp import mapping as m

APPROVE, CHANGES, REJECT = "review-approve", "review-changes", "review-reject"


def review_options() -> list[acp.PermissionOption]:
    """What a reviewer can decide in the editor."""
    return [
        acp.PermissionOption(option_id=APPROVE, name="Approve and merge", kind="allow_once"),
        acp.PermissionOption(
            option_id=CHANGES,
            name="Request changes (your next message is the comment)",
            kind="reject_once",
        ),
        acp.PermissionOption(option_id=REJECT, name="Reject the task", kind="reject_always"),
    ]


def review_call(task: Task) -> acp.ToolCallUpdate:
    """The task's tool call, as the permission request names it."""
    return acp.ToolCallUpdate(
        tool_call_id=m.task_call_id(task.id),
        title=f"#{task.id} {task.title}: review the change before it is merged",
    )


def decision(option_id: str) -> dict[str, Any] | None:
    """The bosun/reviewTask decision an option makes (None: the reviewer writes it)."""
    if option_id == APPROVE:
        return {"kind": "approve"}
    if option_id == REJECT:
        return {"kind": "reject", "reason": "rejected in the editor"}
    return None


def reply_decision(text: str) -> dict[str, Any]:
    """A message as a review: `/approve`, `/reject [why]`, or comments (changes)."""
    words = text.strip()
    if words.startswith("/approve"):
        return {"kind": "approve"}
    if words.startswith("/reject"):
        return {"kind": "reject", "reason": words.removeprefix("/reject").strip()}
    return {"kind": "request_changes", "comments": [{"body": words}]}


def waiting_text(task: Task) -> str:
    """What the turn ends with while a task awaits the user's review."""
    return (
        f"Task #{task.id} ({task.title}) awaits your review; its diff is on its tool call.\n"
        "Reply /approve, /reject [why], or your comments (sent back as changes requested).\n"
    )
