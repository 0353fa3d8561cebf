"""Bosun's runs, tasks, transcripts and prompts as ACP v1 values — the one place that
knows both vocabularies, so ACP v2 (a draft upstream) is an addition here, not a rewrite.

A session is a conversation in one workspace whose prompts start runs; a run listed or
loaded is the session `run-<id>`. Each task is a tool call (`task-<id>`) whose status
follows the task; each tool call an agent makes inside an attempt is a tool call of its
own (`t<task>.<attempt>.<call>`). The run's tasks are the plan.
"""

from __future__ import annotations

from typing import Any, Literal

from acp import schema as acp
from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction
from bosun_protocol.entities import Message, Profile, Run, RunState, Task, TaskState
from bosun_protocol.review import FileDiff

from bosun.server.plain_text import clip

ToolKind = Literal[
    "read", "edit", "delete", "move", "search", "execute", "think", "fetch", "switch_mode", "other"
]
ToolStatus = Literal["pending", "in_progress", "completed", "failed"]
_S = TaskState
_A = ResolveAction

FINISHED_RUNS = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED})
RESULT_TEXT_LIMIT = 4000  # a tool's output shown in the editor, clipped

# -- ids --------------------------------------------------------------------------------


def session_of_run(run_id: int) -> str:
    """The session id a run is listed and loaded as."""
    return f"run-{run_id}"


def run_of_session(session_id: str) -> int | None:
    """The run a `run-<id>` session id names (None for any other id)."""
    head, _, tail = session_id.partition("-")
    return int(tail) if head == "run" and tail.isdigit() else None


def task_call_id(task_id: int) -> str:
    """The tool call that stands for a task."""
    return f"task-{task_id}"


# -- plan -------------------------------------------------------------------------------


def plan_status(state: TaskState) -> Literal["pending", "in_progress", "completed"]:
    """A task's state as a plan entry's status (ACP has three)."""
    if state in (_S.COMPLETE, _S.ABANDONED):
        return "completed"
    if state in (_S.PLANNED, _S.READY):
        return "pending"
    return "in_progress"


def plan_entries(tasks: list[Task]) -> list[acp.PlanEntry]:
    """The run's tasks as the plan: the ones others wait on are high priority."""
    needed = {d for t in tasks for d in t.dependencies}
    entries = []
    for task in sorted(tasks, key=lambda t: t.id):
        words = clip(task.title, 120)
        if task.state is _S.ABANDONED:
            words += " (abandoned)"
        elif task.state is _S.WAITING_HUMAN:
            words += " (waiting for you)"
        priority: Literal["high", "medium", "low"] = "medium"
        if task.id in needed or task.profile in (Profile.DIRECTOR, Profile.PLANNER):
            priority = "high"
        entries.append(
            acp.PlanEntry(content=words, priority=priority, status=plan_status(task.state))
        )
    return entries


def plan_update(tasks: list[Task]) -> acp.AgentPlanUpdate:
    """The whole plan (ACP replaces it with each update)."""
    return acp.AgentPlanUpdate(session_update="plan", entries=plan_entries(tasks))


# -- tasks as tool calls ----------------------------------------------------------------

_PROFILE_KINDS: dict[Profile, ToolKind] = {
    Profile.DIRECTOR: "think",
    Profile.PLANNER: "think",
    Profile.RESEARCHER: "search",
    Profile.TESTER: "execute",
}


def task_status(state: TaskState) -> ToolStatus:
    """A task's state as a tool call's status."""
    if state is _S.COMPLETE:
        return "completed"
    if state is _S.ABANDONED:
        return "failed"
    if state in (_S.PLANNED, _S.READY):
        return "pending"
    return "in_progress"


def task_title(task: Task) -> str:
    """`#3 Add slugify() (coder, try 2)`, and why it waits when it does."""
    attempt = f", try {task.attempt}" if task.attempt > 1 else ""
    title = f"#{task.id} {clip(task.title, 100)} ({task.profile.value}{attempt})"
    if task.state is _S.WAITING_HUMAN and task.reason:
        title += f" — waiting: {clip(task.reason, 80)}"
    return title


def task_call(task: Task) -> acp.ToolCallStart:
    """The tool call that opens when a task first appears."""
    return acp.ToolCallStart(
        session_update="tool_call",
        tool_call_id=task_call_id(task.id),
        title=task_title(task),
        kind=_PROFILE_KINDS.get(task.profile, "edit"),
        status=task_status(task.state),
        raw_input={"taskId": task.id, "key": task.key, "description": task.description},
    )


def task_update(task: Task, content: list[Any] | None = None) -> acp.ToolCallProgress:
    """The task's tool call after a change (with its diff once there is one)."""
    return acp.ToolCallProgress(
        session_update="tool_call_update",
        tool_call_id=task_call_id(task.id),
        title=task_title(task),
        status=task_status(task.state),
        content=content,
    )


def diff_content(files: list[FileDiff]) -> list[acp.FileEditToolCallContent]:
    """A task's changes as diff content, one entry per hunk (old and new sides of it)."""
    out = []
    for f in files:
        for hunk in f.hunks:
            old = [ln[1:] for ln in hunk.lines if ln[:1] in (" ", "-")]
            new = [ln[1:] for ln in hunk.lines if ln[:1] in (" ", "+")]
            out.append(
                acp.FileEditToolCallContent(
                    type="diff",
                    path=f.path,
                    old_text="\n".join(old) if old or f.status != "added" else None,
                    new_text="\n".join(new),
                )
            )
        if not f.hunks:  # binary, mode or an empty file: say what happened to it
            out.append(acp.FileEditToolCallContent(type="diff", path=f.path, new_text=""))
    return out


# -- an attempt's own tool calls --------------------------------------------------------

_TOOL_KINDS: dict[str, ToolKind] = {
    "read_file": "read",
    "list_directory": "read",
    "file_exists": "read",
    "git_status": "read",
    "git_diff": "read",
    "git_log": "read",
    "write_file": "edit",
    "edit_file": "edit",
    "git_commit": "edit",
    "delete_file": "delete",
    "search_codebase": "search",
    "run_command": "execute",
    "run_check": "execute",
    "ask_human": "think",
    "finish": "think",
    "create_subtasks": "think",
    "log_design_decision": "think",
    "post_insight": "think",
}


def call_id(task_id: int, attempt: int, call: str) -> str:
    """The id of one tool call an agent made."""
    return f"t{task_id}.{attempt}.{call}"


def attempt_calls(task: Task, message: Message) -> list[acp.ToolCallStart]:
    """The tool calls of one stored assistant message."""
    starts = []
    for call in message.tool_calls:
        name = str(call.get("name") or "tool")
        args = call.get("arguments")
        args = args if isinstance(args, dict) else {}
        path = args.get("path")
        locations = [acp.ToolCallLocation(path=path)] if isinstance(path, str) and path else None
        content: list[Any] | None = None
        if name == "write_file" and isinstance(path, str) and isinstance(args.get("content"), str):
            content = [
                acp.FileEditToolCallContent(type="diff", path=path, new_text=args["content"])
            ]
        detail = path or args.get("command") or args.get("query") or ""
        starts.append(
            acp.ToolCallStart(
                session_update="tool_call",
                tool_call_id=call_id(task.id, message.attempt, str(call.get("id") or message.id)),
                title=clip(f"#{task.id} {name} {detail}".strip(), 120),
                kind=_TOOL_KINDS.get(name, "other"),
                status="in_progress",
                locations=locations,
                content=content,
                raw_input=args,
            )
        )
    return starts


def attempt_result(task: Task, message: Message) -> acp.ToolCallProgress | None:
    """A stored tool result as the end of its call (None when it names no call)."""
    if not message.tool_call_id:
        return None
    text = message.content
    failed = text.startswith(("error:", "Error:", "refused:"))
    return acp.ToolCallProgress(
        session_update="tool_call_update",
        tool_call_id=call_id(task.id, message.attempt, message.tool_call_id),
        status="failed" if failed else "completed",
        content=[text_content(clip_block(text))],
    )


def text_content(text: str) -> acp.ContentToolCallContent:
    """Plain text as tool call content."""
    return acp.ContentToolCallContent(
        type="content", content=acp.TextContentBlock(type="text", text=text)
    )


def clip_block(text: str, limit: int = RESULT_TEXT_LIMIT) -> str:
    """Text kept to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters)"


# -- prompts as permission requests -----------------------------------------------------

Answer = tuple[ResolveAction, str | None, bool]  # action, choice, always


def permission_options(prompt: HumanPrompt) -> tuple[list[acp.PermissionOption], dict[str, Answer]]:
    """The prompt's answers as permission options, and what each option id answers."""
    options: list[acp.PermissionOption] = []
    answers: dict[str, Answer] = {}

    def add(option_id: str, name: str, kind: Any, answer: Answer) -> None:
        options.append(acp.PermissionOption(option_id=option_id, name=name, kind=kind))
        answers[option_id] = answer

    if prompt.kind is PromptKind.TOOL_APPROVAL:
        add("approve", "Allow this call", "allow_once", (_A.APPROVE, None, False))
        add(
            "approve-always",
            "Allow calls like it for this run",
            "allow_always",
            (_A.APPROVE, None, True),
        )
        add("deny", "Refuse it (the agent is told)", "reject_once", (_A.DENY, None, False))
        return options, answers
    if prompt.kind is PromptKind.LANDING:
        add("retry", "Land the run again", "allow_once", (_A.RETRY, None, False))
        add("abandon", "Keep the work on its branch", "reject_once", (_A.ABANDON, None, False))
        return options, answers
    if _A.RETRY in prompt.options:
        for i, choice in enumerate(prompt.choices):
            add(f"choice-{i}", clip(choice, 100), "allow_once", (_A.RETRY, choice, False))
    words = {
        _A.RETRY: ("Retry (your next message is its guidance)", "allow_once"),
        _A.SPAWN: ("Spawn a replacement task", "allow_once"),
        _A.ABANDON: ("Abandon the task", "reject_once"),
    }
    for option in prompt.options:
        if option in words:
            name, kind = words[option]
            add(option.value, name, kind, (option, None, False))
    return options, answers


def prompt_title(prompt: HumanPrompt, task: Task | None) -> str:
    """What the permission dialog says."""
    about = f"#{task.id} {clip(task.title, 60)}: " if task is not None else ""
    reason = prompt.reason.rpartition("\n(suggested answers:")[0] or prompt.reason
    if prompt.approval is not None:
        reason = f"allow {prompt.approval.tool} {clip(str(prompt.approval.arguments), 120)}?"
    return clip(f"{about}{reason}", 300)


def prompt_call_id(prompt: HumanPrompt) -> str:
    """The tool call a prompt is asked about: its task's, or the run's landing."""
    return (
        task_call_id(prompt.task_id) if prompt.task_id is not None else f"landing-{prompt.run_id}"
    )


# -- runs -------------------------------------------------------------------------------


def stop_reason(run: Run) -> Literal["end_turn", "cancelled"]:
    """How a turn that followed this run ends."""
    return "cancelled" if run.state is RunState.CANCELLED else "end_turn"


def spend_text(run: Run) -> str:
    """What the run cost, as words (ACP v1's usage updates describe one context window,
    which a run of many agents does not have)."""
    cost = run.cost
    tokens = cost.input_tokens + cost.output_tokens
    if not tokens:
        return ""
    money = f", ${cost.usd:.4f}" if cost.usd else ""
    return f" Spent {tokens:,} tokens in {cost.calls} model calls{money}."


def session_info(run: Run, cwd: str) -> acp.SessionInfo:
    """A run as a listed session."""
    return acp.SessionInfo(
        session_id=session_of_run(run.id),
        cwd=cwd,
        title=f"{clip(run.objective, 80)} ({run.state.value})",
        updated_at=run.updated_at.isoformat(),
    )


def agent_text(text: str) -> acp.AgentMessageChunk:
    """A message from Bosun itself (the run started, waits, ended)."""
    return acp.AgentMessageChunk(
        session_update="agent_message_chunk", content=acp.TextContentBlock(type="text", text=text)
    )


def thought_text(text: str) -> acp.AgentThoughtChunk:
    """Live text of a worker agent."""
    return acp.AgentThoughtChunk(
        session_update="agent_thought_chunk", content=acp.TextContentBlock(type="text", text=text)
    )


def user_text(text: str) -> acp.UserMessageChunk:
    """The objective, replayed as what the user said."""
    return acp.UserMessageChunk(
        session_update="user_message_chunk", content=acp.TextContentBlock(type="text", text=text)
    )
