"""The words a plain LSP client shows: progress lines, prompt messages, action titles.

Plain clients (Neovim, Helix, Emacs eglot, Sublime) show these strings as they are, in
a status line or a one-line menu, so they speak to a person: the objective rather than
a run number alone, "being checked" rather than `awaiting_qa`, where the work went.
"""

from __future__ import annotations

from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction
from bosun_protocol.entities import Run, RunState, Task

# The order the live states are listed in, and how each is said.
_LIVE_WORDS = (
    ("active", "working"),
    ("awaiting_qa", "being checked"),
    ("awaiting_review", "awaiting your review"),
    ("waiting_human", "waiting for you"),
    ("failed", "retrying"),
    ("ready", "queued"),
)
_RUN_WORDS = {"planning": "planning", "paused": "paused", "landing": "landing"}
FINISHED_RUN_STATES = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED})

# What each answer does, said once under the question (plain menus show titles only).
ACTION_HELP = {
    ResolveAction.RETRY: "retry = run it again (with your answer as guidance)",
    ResolveAction.ABANDON: "abandon = give the task up (its dependents are asked next)",
    ResolveAction.SPAWN: "spawn = a new task replaces it and takes over its dependents",
    ResolveAction.APPROVE: "approve = allow this call",
    ResolveAction.DENY: "deny = refuse it (the agent is told)",
}
_LANDING_HELP = "retry = land again; abandon = keep the work on its branch, not landed"


def clip(text: str, size: int = 100) -> str:
    """One line of at most `size` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def progress_message(counts: dict[str, int]) -> tuple[str, int]:
    """A one-line summary of a run's tasks and its percentage finished.

    Abandoned tasks are finished but not done: they are counted apart."""
    total = sum(counts.values())
    done = counts.get("complete", 0)
    abandoned = counts.get("abandoned", 0)
    parts = [f"{done}/{total} tasks done"]
    if abandoned:
        parts.append(f"{abandoned} abandoned")
    for state, words in _LIVE_WORDS:
        if counts.get(state):
            parts.append(f"{counts[state]} {words}")
    percent = int(100 * (done + abandoned) / total) if total else 0
    return ", ".join(parts), percent


def progress_title(run: Run) -> str:
    """`Bosun run 3: <objective>`."""
    return f"Bosun run {run.id}: {clip(run.objective, 60)}"


def live_message(run: Run, counts: dict[str, int]) -> tuple[str, int]:
    """A progress report: the run's phase when it is not simply running, then its tasks."""
    message, percent = progress_message(counts)
    phase = _RUN_WORDS.get(run.state.value)
    return (f"{phase}: {message}" if phase else message), percent


def end_message(run: Run, counts: dict[str, int]) -> str:
    """`run completed: 3/3 tasks done — landed on main` (and where the work is otherwise)."""
    message, _ = progress_message(counts)
    if run.state is RunState.COMPLETED and not run.reason:
        where = f"landed on {run.base_branch}" if run.base_branch else "landed"
    elif run.reason:
        where = run.reason
    else:
        where = f"the work is on {run.run_branch}" if run.run_branch else ""
    text = f"run {run.state.value}: {message}"
    return f"{text} — {where}" if where else text


def message_actions(prompt: HumanPrompt) -> dict[str, tuple[ResolveAction, str | None]]:
    """The prompt's answers as message action titles: its choices first (each answers
    retry with that text), then its options. Titles are unique: a choice that reads like
    an option, or repeats after clipping, is marked as an answer."""
    answers: dict[str, tuple[ResolveAction, str | None]] = {}
    options = {o.value for o in prompt.options}
    for choice in prompt.choices:
        title = clip(choice)
        if title in options or title in answers:
            title = clip(f"answer: {choice}")
        if title not in answers and ResolveAction.RETRY in prompt.options:
            answers[title] = (ResolveAction.RETRY, choice)
    for option in prompt.options:
        answers[option.value] = (option, None)
    return answers


def prompt_message(prompt: HumanPrompt, task: Task | None) -> str:
    """The question as a menu's message: what it is about, the question, what each
    standard answer does, and how to answer in free text.

    The suggested answers are the menu's own entries, so they are not repeated here."""
    about = (
        f"task #{task.id} {clip(task.title, 60)}" if task is not None else (f"run {prompt.run_id}")
    )
    reason = prompt.reason
    if prompt.choices:
        # The agent's question carries its suggestions inline (agents/loop.py,
        # _question); the menu lists them as entries.
        head, sep, _ = reason.rpartition("\n(suggested answers:")
        reason = head if sep else reason
    lines = [f"Bosun — {about}: {reason.strip()}"]
    if prompt.kind is PromptKind.LANDING:
        lines.append(_LANDING_HELP)
    else:
        lines.append("; ".join(ACTION_HELP[o] for o in prompt.options if o in ACTION_HELP))
    if ResolveAction.RETRY in prompt.options and prompt.kind is not PromptKind.LANDING:
        lines.append(
            "To answer in your own words, run the command bosun.resolveTask with "
            f'{{"promptId": "{prompt.prompt_id}", "action": "retry", "guidance": "…"}}.'
        )
    return "\n".join(lines)
