"""Bosun's runs, tasks and prompts as ACP v1 values (bosun/acp/mapping.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from bosun.acp import mapping as m
from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction, ToolApprovalInfo
from bosun_protocol.entities import Profile, Task, TaskState
from bosun_protocol.review import FileDiff, Hunk

A = ResolveAction


def prompt(kind: PromptKind, options: list[ResolveAction], **fields: object) -> HumanPrompt:
    return HumanPrompt(
        prompt_id="p1", run_id=1, task_id=2, kind=kind, reason="which?", options=options,
        created_at=datetime.now(UTC), **fields,
    )  # fmt: skip


def task(n: int, state: TaskState, deps: list[int] | None = None) -> Task:
    return Task(
        id=n, run_id=1, key=f"k{n}", title=f"task {n}", state=state, dependencies=deps or [],
        profile=Profile.CODER, created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
    )  # fmt: skip


def test_session_ids_name_runs_and_nothing_else() -> None:
    assert m.run_of_session(m.session_of_run(12)) == 12
    assert m.run_of_session("new-abc") is None and m.run_of_session("run-x") is None


def test_the_plan_has_three_statuses_and_says_what_the_states_hide() -> None:
    entries = m.plan_entries(
        [task(1, TaskState.COMPLETE), task(2, TaskState.WAITING_HUMAN, [1]),
         task(3, TaskState.ABANDONED), task(4, TaskState.READY)]
    )  # fmt: skip
    assert [e.status for e in entries] == ["completed", "in_progress", "completed", "pending"]
    assert entries[1].content.endswith("(waiting for you)")
    assert entries[2].content.endswith("(abandoned)")
    assert entries[0].priority == "high" and entries[3].priority == "medium"  # 2 needs 1


def test_a_tool_approval_is_allow_once_allow_always_or_reject() -> None:
    approval = ToolApprovalInfo(tool="run_command", arguments={"command": "make"})
    options, answers = m.permission_options(
        prompt(PromptKind.TOOL_APPROVAL, [A.APPROVE, A.DENY], approval=approval)
    )
    assert [(o.option_id, o.kind) for o in options] == [
        ("approve", "allow_once"), ("approve-always", "allow_always"), ("deny", "reject_once"),
    ]  # fmt: skip
    assert answers["approve-always"] == (A.APPROVE, None, True)


def test_a_question_offers_the_agents_answers_then_retry_abandon_spawn() -> None:
    asked = prompt(PromptKind.ASK_HUMAN, [A.RETRY, A.ABANDON, A.SPAWN], choices=["yes", "no"])
    options, answers = m.permission_options(asked)
    assert [o.option_id for o in options] == ["choice-0", "choice-1", "retry", "abandon", "spawn"]
    assert answers["choice-1"] == (A.RETRY, "no", False)
    assert {o.option_id: o.kind for o in options}["abandon"] == "reject_once"


def test_a_landing_question_is_land_again_or_keep_on_the_branch() -> None:
    options, answers = m.permission_options(prompt(PromptKind.LANDING, [A.RETRY, A.ABANDON]))
    assert [o.name for o in options] == ["Land the run again", "Keep the work on its branch"]
    assert answers["abandon"][0] is A.ABANDON


def test_a_hunk_becomes_diff_content_with_its_old_and_new_sides() -> None:
    hunk = Hunk(id="h", header="@@ -1,2 +1,2 @@", lines=[" a", "-b", "+c"])
    [diff] = m.diff_content([FileDiff(path="x.py", status="modified", hunks=[hunk])])
    assert (diff.path, diff.old_text, diff.new_text) == ("x.py", "a\nb", "a\nc")
    added = Hunk(id="h2", header="@@ -0,0 +1 @@", lines=["+new"])
    [made] = m.diff_content([FileDiff(path="n.py", status="added", hunks=[added])])
    assert made.old_text is None and made.new_text == "new"
