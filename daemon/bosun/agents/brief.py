"""The task brief: the first user message of an attempt, which context bounding never cuts.

It holds everything the worker must not lose sight of: the run's objective, the task and
its acceptance criteria, what the tasks it depends on did, what earlier attempts
learned (Phoenix), a human's guidance, and the repository's own instructions for agents
(AGENTS.md and the like, quoted as data: repo_instructions.py).
"""

from __future__ import annotations

import asyncio
import logging

from bosun_protocol.entities import AttemptOutcome, Profile, Task

from bosun.agents.api import AttemptRequest
from bosun.agents.repo_instructions import instructions_section, mentioned_paths
from bosun.board.store import Store
from bosun.errors import BosunError

log = logging.getLogger(__name__)

_DEP_SUMMARY_CHARS = 600
_MAX_DEPS = 12
_HISTORY_CHARS = 12_000
_DESCRIPTION_CHARS = 20_000
_MAX_TOUCHED = 200  # paths looked up for their nearest AGENTS.md


def design_doc_path(run_id: int) -> str:
    """Where a run's design document lives in the repository."""
    return f"docs/bosun/run-{run_id}-design.md"


def _criteria(task: Task) -> str:
    if not task.acceptance_criteria:
        return "(none given: finish when the description is done and the tests pass)"
    return "\n".join(f"{i}. {c}" for i, c in enumerate(task.acceptance_criteria, 1))


async def _dependencies(store: Store, task: Task) -> str:
    lines = []
    for dep_id in task.dependencies[:_MAX_DEPS]:
        try:
            dep = await store.get_task(dep_id)
            attempts = await store.list_attempts(dep_id)
        except BosunError as exc:
            log.warning("cannot read dependency %s of task %s: %s", dep_id, task.id, exc)
            continue
        done = [a for a in attempts if a.summary and a.outcome is not AttemptOutcome.RUNNING]
        said = done[-1].summary[:_DEP_SUMMARY_CHARS] if done and done[-1].summary else ""
        lines.append(f"- {dep.key} ({dep.profile.value}, {dep.state.value}): {dep.title}")
        if said:
            lines.append(f"  its report: {said}")
    extra = len(task.dependencies) - _MAX_DEPS
    if extra > 0:
        lines.append(f"- … and {extra} more")
    return "\n".join(lines)


async def written_design_doc(store: Store, run_id: int) -> str | None:
    """The design document the run's director reported writing (its last finished
    attempt's files: a Markdown file, one named like a design first), or None."""
    try:
        tasks = await store.list_tasks(run_id)
        directors = [t for t in tasks if t.profile is Profile.DIRECTOR]
        attempts = [a for t in directors for a in await store.list_attempts(t.id)]
    except BosunError as exc:
        log.warning("cannot read run %s's director: %s", run_id, exc)
        return None
    for attempt in reversed(attempts):
        docs = [f for f in attempt.files_changed if f.lower().endswith(".md")]
        docs.sort(key=lambda f: "design" not in f.lower())
        if docs:
            return docs[0]
    return None


async def _where(store: Store, request: AttemptRequest) -> str:
    doc = design_doc_path(request.run.id)
    if request.task.profile is Profile.DIRECTOR:
        return f"Write the design document at `{doc}`."
    written = await written_design_doc(store, request.run.id)
    if written is not None:
        return f"The run's design document (its ground truth) is `{written}`."
    return f"The run's design document (its ground truth) is `{doc}` when present."


def _attempt_line(request: AttemptRequest) -> str:
    """`Attempt n of m.`; a retry a human granted past the limit says so."""
    allowed = request.task.max_retries + 1
    if request.attempt > allowed:
        return f"Attempt {request.attempt} (a human granted it beyond the {allowed} allowed)."
    return f"Attempt {request.attempt} of {allowed}."


async def _repository_instructions(store: Store, request: AttemptRequest) -> str:
    """The repository's agent instructions that apply to this task (see repo_instructions)."""
    task = request.task
    touched = mentioned_paths("\n".join([task.title, task.description, *task.acceptance_criteria]))
    try:
        for attempt in await store.list_attempts(task.id):
            touched += attempt.files_changed
    except BosunError as exc:
        log.warning("cannot read the attempts of task %s: %s", task.id, exc)
    touched = list(dict.fromkeys(touched))[:_MAX_TOUCHED]
    return await asyncio.to_thread(instructions_section, request.worktree, touched)


async def build_brief(store: Store, request: AttemptRequest) -> str:
    """The brief for `request`."""
    task, run = request.task, request.run
    parts = [
        # No run, task or branch ids beyond the design document's path: a replayed run
        # (new ids) then sends the same requests as the recording.
        f"# Objective of the run\n{run.objective.strip()}",
        f"# Your task: {task.key} — {task.title}\n"
        f"Profile: {task.profile.value}. {_attempt_line(request)} "
        f"{await _where(store, request)}",
    ]
    if task.description.strip():
        parts.append(f"## Description\n{task.description.strip()[:_DESCRIPTION_CHARS]}")
    parts.append(f"## Acceptance criteria\n{_criteria(task)}")
    deps = await _dependencies(store, task)
    if deps:
        parts.append(f"## Done before you (merged into your starting point)\n{deps}")
    if request.history.strip():
        history = request.history.strip()[:_HISTORY_CHARS]
        parts.append(
            "## Earlier attempts of this task (learn from them; do not repeat what failed)\n"
            + history
        )
    if request.guidance and request.guidance.strip():
        parts.append(f"## Guidance from a human (follow it)\n{request.guidance.strip()}")
    rules = await _repository_instructions(store, request)
    if rules:
        parts.append(rules)
    parts.append("Work through tools, then call `finish`.")
    return "\n\n".join(parts)
