"""`bosun mcp`: the workspace daemon as an MCP server (stdio), built with the official SDK.

Another agent (Claude Code, Codex, Cursor…) hands Bosun a long, parallel job and comes
back to it: start an objective, follow runs and tasks, read a task's diff and
transcript, answer the prompts Bosun raises, review a task. Every tool is one or two
requests to the daemon, which does the work and keeps the state; this process only
translates, so it can come and go while runs go on. Errors of the daemon (an unknown
task, a prompt already answered) come back as tool errors with the daemon's message.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from bosun.delegate.daemon_link import DaemonLink

_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
_DECIDE = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)
_TRANSCRIPT_CHARS = 4000  # per message: a transcript page stays readable for the caller

INSTRUCTIONS = """Bosun runs coding agents on this repository in parallel, each task in
its own git worktree, with QA, retries and human review. Delegate a whole objective with
start_objective, then follow it with run_status; answer what Bosun asks with
list_prompts and answer_prompt; read a task's work with task_diff and task_transcript;
approve or send back tasks awaiting review with review_task."""


def _task_line(task: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "key", "title", "state", "profile", "attempt", "reason", "dependsOn")
    return {k: task[k] for k in keep if task.get(k) not in (None, "", [])}


def _run_summary(run: dict[str, Any], tasks: list[dict[str, Any]] | None) -> dict[str, Any]:
    out = {k: run.get(k) for k in ("id", "state", "objective", "createdAt", "cost")}
    if tasks is not None:
        counts: dict[str, int] = {}
        for t in tasks:
            counts[t["state"]] = counts.get(t["state"], 0) + 1
        out["taskCounts"] = counts
        out["tasks"] = [_task_line(t) for t in tasks]
    return out


def _diff_text(diff: dict[str, Any]) -> str:
    """A task's diff as unified-diff text, with each hunk's id (for partial approval)."""
    lines = [f"task {diff['taskId']}: {diff['baseCommit'][:12]}..{diff['headCommit'][:12]}"]
    for f in diff["files"]:
        lines.append(f"--- {f['path']} ({f['status']}, +{f['addedLines']} -{f['removedLines']})")
        for h in f.get("hunks", []):
            lines.append(f"{h['header']}  [hunk {h['id']}]")
            lines.extend(h.get("lines", []))
        if f.get("truncated"):
            lines.append("… hunks left out; ask for this path alone to see them")
    return "\n".join(lines)


def build_server(link: DaemonLink) -> MCPServer:
    """The MCP server whose tools relay to the daemon behind `link`."""
    server = MCPServer("bosun", instructions=INSTRUCTIONS)

    @server.tool(annotations=_WRITE)
    async def start_objective(
        objective: Annotated[str, Field(min_length=1, max_length=100_000)],
        model: Annotated[
            str | None, Field(description="provider:model; default from config")
        ] = None,
        workers: Annotated[int | None, Field(ge=1, le=64)] = None,
        review_gate: Annotated[
            bool | None, Field(description="a human reviews before merge")
        ] = None,
    ) -> dict[str, Any]:
        """Start a Bosun run for an objective; returns the run (follow it with run_status)."""
        options: dict[str, Any] = {}
        if model:
            options["model"] = model
        if workers:
            options["workers"] = workers
        if review_gate is not None:
            options["reviewGate"] = review_gate
        created = await link.request(
            "bosun/createRun", {"objective": objective, "options": options}
        )
        return _run_summary(created["run"], None)

    @server.tool(annotations=_READ)
    async def list_runs(limit: Annotated[int, Field(ge=1, le=100)] = 10) -> dict[str, Any]:
        """Runs of this workspace, newest first, with their states."""
        runs = (await link.request("bosun/listRuns", {"limit": limit}))["runs"]
        return {"runs": [_run_summary(r, None) for r in runs]}

    @server.tool(annotations=_READ)
    async def run_status(run_id: int) -> dict[str, Any]:
        """One run: its state, cost, and every task with its state and reason."""
        got = await link.request("bosun/getRun", {"runId": run_id})
        return _run_summary(got["run"], got["tasks"])

    @server.tool(annotations=_READ)
    async def task_detail(task_id: int) -> dict[str, Any]:
        """One task: description, criteria, QA verdicts, and each attempt's outcome."""
        got = await link.request("bosun/getTask", {"taskId": task_id})
        task = got["task"]
        keep = ("description", "acceptanceCriteria", "verdicts", "cost", "branch")
        detail = {**_task_line(task), **{k: task.get(k) for k in keep}}
        attempts = [
            {k: a.get(k) for k in ("number", "outcome", "error", "cost")} for a in got["attempts"]
        ]
        return {"task": detail, "attempts": attempts}

    @server.tool(annotations=_READ)
    async def task_diff(
        task_id: int, path: Annotated[str | None, Field(description="only this file")] = None
    ) -> str:
        """What a task changed, as a unified diff with hunk ids."""
        params: dict[str, Any] = {"taskId": task_id}
        if path:
            params["path"] = path
        return _diff_text(await link.request("bosun/taskDiff", params))

    @server.tool(annotations=_READ)
    async def task_transcript(
        task_id: int,
        attempt: int | None = None,
        after_id: Annotated[int, Field(ge=0, description="continue after this entry")] = 0,
        limit: Annotated[int, Field(ge=1, le=200)] = 40,
    ) -> dict[str, Any]:
        """A page of what a task's agent said and did (latest attempt unless given)."""
        params: dict[str, Any] = {"taskId": task_id, "afterId": after_id, "limit": limit}
        if attempt is not None:
            params["attempt"] = attempt
        page = await link.request("bosun/transcript", params)
        messages = [
            {
                "id": m["id"],
                "role": m["role"],
                "content": m.get("content", "")[:_TRANSCRIPT_CHARS],
                **(
                    {"tools": [c.get("name") for c in m["toolCalls"]]} if m.get("toolCalls") else {}
                ),
            }
            for m in page["messages"]
        ]
        return {"messages": messages, "more": page["more"]}

    @server.tool(annotations=_READ)
    async def list_prompts(run_id: int | None = None) -> dict[str, Any]:
        """Open questions Bosun asks a human (tool approvals, stuck tasks, landing)."""
        params = {"runId": run_id} if run_id is not None else {}
        return await link.request("bosun/humanQueue", params)  # type: ignore[no-any-return]

    @server.tool(annotations=_DECIDE)
    async def answer_prompt(
        prompt_id: str,
        action: Literal["retry", "abandon", "spawn", "approve", "deny"],
        guidance: Annotated[str | None, Field(max_length=20_000)] = None,
        choice: Annotated[str | None, Field(description="one of the prompt's choices")] = None,
        always: Annotated[bool, Field(description="approve: for the rest of the run")] = False,
    ) -> dict[str, Any]:
        """Answer one of Bosun's prompts, as a human at the editor would."""
        params: dict[str, Any] = {"promptId": prompt_id, "action": action, "always": always}
        if guidance is not None:
            params["guidance"] = guidance
        if choice is not None:
            params["choice"] = choice
        result = await link.request("bosun/resolveTask", params)
        task = result.get("task") if isinstance(result, dict) else None
        return {"answered": prompt_id, "task": _task_line(task) if task else None}

    @server.tool(annotations=_DECIDE)
    async def review_task(
        task_id: int,
        decision: Literal["approve", "request_changes", "reject"],
        comment: Annotated[str | None, Field(max_length=20_000)] = None,
    ) -> dict[str, Any]:
        """Decide on a task awaiting review: merge it, send it back with a comment, or reject it."""
        body: dict[str, Any] = {"kind": decision}
        if decision == "request_changes":
            body["comments"] = [{"body": comment or "changes requested"}]
        elif decision == "reject" and comment:
            body["reason"] = comment
        result = await link.request("bosun/reviewTask", {"taskId": task_id, "decision": body})
        return {"task": _task_line(result["task"])}

    @server.tool(annotations=_DECIDE)
    async def cancel_run(run_id: int) -> dict[str, Any]:
        """Cancel a run's remaining work."""
        return _run_summary((await link.request("bosun/cancelRun", {"runId": run_id}))["run"], None)

    @server.resource("bosun://runs/{run_id}", mime_type="application/json")
    async def run_resource(run_id: str) -> str:
        """A run and its tasks, as the daemon reports them."""
        try:
            got = await link.request("bosun/getRun", {"runId": int(run_id)})
        except (ToolError, ValueError) as exc:
            raise ResourceError(str(exc)) from exc
        return json.dumps(_run_summary(got["run"], got["tasks"]), indent=1)

    return server
