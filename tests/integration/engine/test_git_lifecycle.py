"""Whole runs on real git: worktrees, commits, merges, a merge conflict, review, landing."""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.tools.context import SubtaskSpec
from bosun_protocol.entities import AttemptOutcome, Profile, RunState, TaskState
from bosun_protocol.review import ApproveDecision, RequestChangesDecision, ReviewComment

from tests.unit.engine.scripted import Harness, ScriptedRunner, Step, plan, wait_for

GitEngine = Callable[..., Awaitable[Harness]]

_S = TaskState


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


def write(path: str, text: str, then: Step | None = None) -> Step:
    """A step that writes a file in its worktree (then maybe plans) and finishes."""

    async def step(req: AttemptRequest) -> AttemptReport:
        target = req.worktree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if then is not None:
            return await then(req)
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary=f"wrote {path}")

    return step


def sub(key: str, *deps: str) -> SubtaskSpec:
    return SubtaskSpec(key=key, title=f"task {key}", profile=Profile.CODER, depends_on=list(deps))


async def test_run_merges_every_task_and_lands_on_main(
    git_engine: GitEngine, git_repo: Path
) -> None:
    director = write("docs/design.md", "# design\n", then=plan(sub("a"), sub("b", "a")))
    runner = ScriptedRunner(
        steps={"director": [director], "a": [write("a.txt", "A\n")], "b": [write("b.txt", "B\n")]}
    )
    h = await git_engine(runner)
    run = await h.run("build a and b")
    done = await h.wait_run(run.id, {RunState.COMPLETED}, timeout=60)
    assert done.reason is None
    assert (git_repo / "a.txt").read_text() == "A\n"
    assert (git_repo / "b.txt").read_text() == "B\n"
    assert (git_repo / "docs/design.md").exists()
    # b started from a run head that already had a's work: its base contains a.txt
    b = await h.store.get_task_by_key(run.id, "b")
    assert "a.txt" in git(git_repo, "ls-tree", "--name-only", b.base_commit or "")
    tasks = await h.store.list_tasks(run.id)
    assert all(t.worktree is None for t in tasks)
    assert git(git_repo, "status", "--porcelain") == ""


async def test_merge_conflict_becomes_a_merger_task_that_resolves_it(
    git_engine: GitEngine, git_repo: Path
) -> None:
    async def resolve(req: AttemptRequest) -> AttemptReport:
        text = (req.worktree / "shared.txt").read_text()
        assert "<<<<<<<" in text  # the worktree holds the conflict
        (req.worktree / "shared.txt").write_text("left\nright\n")
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary="resolved")

    runner = ScriptedRunner(
        steps={
            "director": [plan(sub("left"), sub("right"))],
            "left": [write("shared.txt", "left\n")],
            "right": [write("shared.txt", "right\n")],
        }
    )
    runner.steps["merge-left-a1"] = [resolve]
    runner.steps["merge-right-a1"] = [resolve]
    h = await git_engine(runner)
    run = await h.run("conflict")
    await h.wait_run(run.id, {RunState.COMPLETED}, timeout=60)
    tasks = {t.key: t for t in await h.store.list_tasks(run.id)}
    mergers = [t for t in tasks.values() if t.profile is Profile.MERGER]
    assert len(mergers) == 1 and mergers[0].state is _S.COMPLETE
    assert tasks["left"].state is _S.COMPLETE and tasks["right"].state is _S.COMPLETE
    assert (git_repo / "shared.txt").read_text() == "left\nright\n"


async def test_review_gate_sends_comments_through_phoenix_then_merges(
    git_engine: GitEngine, git_repo: Path
) -> None:
    runner = ScriptedRunner(
        steps={"director": [plan(sub("x"))], "x": [write("x.txt", "v1\n"), write("x.txt", "v2\n")]}
    )
    h = await git_engine(runner)
    run = await h.run("reviewed", review_gate=True)
    # the director is reviewed too: approve it
    director = await h.wait_task(run.id, "director", {_S.AWAITING_REVIEW}, timeout=30)
    await h.engine.apply_review(director.id, ApproveDecision())
    x = await h.wait_task(run.id, "x", {_S.AWAITING_REVIEW}, timeout=30)
    comments = [
        ReviewComment(body="use v2 please", path="x.txt", line=1),
        ReviewComment(body="and say why", path="x.txt"),
    ]
    await h.engine.apply_review(x.id, RequestChangesDecision(comments=comments))
    x = await h.wait_task(run.id, "x", {_S.AWAITING_REVIEW}, timeout=30)
    history = runner.requests["x"][1].history
    assert "x.txt:1: use v2 please" in history and "x.txt: and say why" in history
    await h.engine.apply_review(x.id, ApproveDecision())
    await h.wait_run(run.id, {RunState.COMPLETED}, timeout=30)
    outcomes = [a.outcome for a in await h.store.list_attempts(x.id)]
    assert outcomes == [AttemptOutcome.CHANGES_REQUESTED, AttemptOutcome.QA_PASSED]
    assert (git_repo / "x.txt").read_text() == "v2\n"


async def test_dirty_user_tree_turns_landing_into_a_prompt(
    git_engine: GitEngine, git_repo: Path
) -> None:
    from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction, ResolveTaskParams

    (git_repo / "README.md").write_text("my local edit\n")
    runner = ScriptedRunner(steps={"director": [write("d.txt", "d\n")]})
    h = await git_engine(runner)
    run = await h.run("land later")

    async def landing_prompt() -> HumanPrompt | None:
        return next(iter(h.engine.humans.queue(run.id)), None)

    prompt = await wait_for(h.store, landing_prompt, 30)
    assert (await h.store.get_run(run.id)).state is RunState.LANDING
    assert prompt.kind is PromptKind.LANDING and "uncommitted" in prompt.reason
    git(git_repo, "checkout", "--", "README.md")
    result = await h.engine.humans.resolve(
        ResolveTaskParams(prompt_id=prompt.prompt_id, action=ResolveAction.RETRY)
    )
    assert result.run is not None and result.run.state is RunState.COMPLETED
    assert (git_repo / "d.txt").exists()


async def test_landing_by_hand_completes_a_run_waiting_in_landing_and_closes_its_prompt(
    git_engine: GitEngine, git_repo: Path
) -> None:
    from bosun_protocol.engine import HumanPrompt, PromptKind

    (git_repo / "README.md").write_text("my local edit\n")
    runner = ScriptedRunner(steps={"director": [write("d.txt", "d\n")]})
    h = await git_engine(runner)
    run = await h.run("land by hand")

    async def landing_prompt() -> HumanPrompt | None:
        return next(iter(h.engine.humans.queue(run.id)), None)

    prompt = await wait_for(h.store, landing_prompt, 30)
    assert prompt.kind is PromptKind.LANDING
    # The user commits their edit (main moves on) and lands in merge mode, as the issue did.
    git(git_repo, "commit", "-qam", "mine")
    service = h.engine.git.git  # type: ignore[attr-defined]
    service.settings = service.settings.model_copy(update={"land_mode": "merge"})
    result = await h.engine.land_requested(run.id, "a client")
    assert result.outcome == "landed" and result.mode == "merge"
    done = await h.store.get_run(run.id)
    assert done.state is RunState.COMPLETED
    assert h.engine.humans.queue(run.id) == []
    assert (git_repo / "d.txt").read_text() == "d\n"
    page, _ = await h.store.events_since(0, run_id=run.id)
    events = [e.kind for e in page]
    assert events.index("run.landed") < events.index("run.completed")
    assert "human.answered" in events


async def test_a_task_lands_as_one_commit_and_its_failed_attempt_stays_under_bosun_refs(
    git_engine: GitEngine, git_repo: Path
) -> None:
    base = git(git_repo, "rev-parse", "main")
    runner = ScriptedRunner(
        steps={
            "director": [plan(sub("x"))],
            "x": [write("x.txt", "bug\n"), write("x.txt", "fixed\n")],
        }
    )
    runner.qa_fail["x"] = 1  # attempt 1 fails QA; attempt 2 fixes it
    h = await git_engine(runner)
    run = await h.run("squash")
    await h.wait_run(run.id, {RunState.COMPLETED}, timeout=60)
    x = await h.store.get_task_by_key(run.id, "x")
    assert [a.outcome for a in await h.store.list_attempts(x.id)] == [
        AttemptOutcome.QA_FAILED, AttemptOutcome.QA_PASSED,
    ]  # fmt: skip
    landed = git(git_repo, "log", "--format=%H %P%n%B%x00", f"{base}..main").split("\0")
    commits = [c.strip() for c in landed if c.strip()]
    assert len(commits) == 1  # the director changed nothing; x is one commit
    ids, _, message = commits[0].partition("\n")
    assert len(ids.split()) == 2  # one parent: no attempt is in main's history
    assert message.startswith("x: wrote x.txt\n\nTask #")
    assert f"Bosun-Task: {x.id}\nBosun-Attempt: 2" in message
    assert "+bug" not in git(git_repo, "log", "-p", f"{base}..main")
    assert (git_repo / "x.txt").read_text() == "fixed\n"
    kept = git(git_repo, "for-each-ref", "--format=%(refname)", f"refs/bosun/attempts/task-{x.id}/")
    attempts = kept.split()
    assert f"refs/bosun/attempts/task-{x.id}/2" in attempts
    blobs = {git(git_repo, "show", f"{c}:x.txt") for r in attempts
             for c in git(git_repo, "rev-list", r, f"^{base}").split()}  # fmt: skip
    assert blobs == {"bug", "fixed"}  # both attempts' work is kept
