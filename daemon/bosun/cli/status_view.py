"""`bosun status` for people: one table per run, its plan readable as a graph.

A task is indented under the plan by its depth (the longest chain of dependencies
before it), tasks come in an order where each follows everything it depends on, and
the `after` column names its dependencies by key; together they show the DAG without
drawing it. Open prompts follow the table with their ids and what they ask.
Task-written text (keys, titles, prompt reasons) goes through `visible` before it is
measured, so an escape sequence can neither control the terminal nor break the columns.
"""

from __future__ import annotations

from typing import Any

from bosun.cli.display import visible

ENDED_RUNS = frozenset({"completed", "failed", "cancelled"})
_INDENT = 2
_MAX_DEPTH_SHOWN = 8
_KEY_WIDTH = 24
_TITLE_WIDTH = 40
_REASON_WIDTH = 160


def clip(text: str, width: int) -> str:
    """One line of at most `width` characters, shown safely."""
    line = " ".join(visible(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def money(cost: dict[str, Any]) -> str:
    """A task's or run's spend, short: dollars when priced, else tokens."""
    tokens = cost.get("inputTokens", 0) + cost.get("outputTokens", 0)
    usd = cost.get("usd")
    if usd is None:
        return f"{tokens:,} tok"
    return f"${usd:.4f}"


def plan_order(tasks: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, task), each task after all its dependencies and, where it can be, right
    after the last of them, so a chain reads top to bottom (ties by id). A dependency
    outside the run counts as none; tasks caught in a cycle come last."""
    by_id = {t["id"]: t for t in tasks}
    deps = {t["id"]: [d for d in t["dependencies"] if d in by_id] for t in tasks}
    children: dict[int, list[int]] = {t["id"]: [] for t in tasks}
    for task_id, needs in deps.items():
        for d in needs:
            children[d].append(task_id)
    depth: dict[int, int] = {}
    placed: list[int] = []

    def visit(task_id: int) -> None:
        depth[task_id] = 1 + max((depth[d] for d in deps[task_id]), default=-1)
        placed.append(task_id)
        for child in sorted(children[task_id]):
            if child not in depth and all(d in depth for d in deps[child]):
                visit(child)

    for task_id in sorted(by_id):
        if task_id not in depth and all(d in depth for d in deps[task_id]):
            visit(task_id)
    for task_id in sorted(by_id):  # a cycle: shown, unindented
        if task_id not in depth:
            depth[task_id] = 0
            placed.append(task_id)
    return [(depth[i], by_id[i]) for i in placed]


def run_header(run: dict[str, Any], counts: str) -> str:
    """`run 4 [running] objective — counts; spend`."""
    return f"run {run['id']} [{run['state']}] {clip(run['objective'], 70)}\n    {counts}; spent {money(run['cost'])}"


def state_counts(tasks: list[dict[str, Any]]) -> str:
    """`3 complete, 1 active`, or `no tasks`."""
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no tasks"


def task_table(tasks: list[dict[str, Any]]) -> list[str]:
    """The run's tasks, one line each, in plan order."""
    keys = {t["id"]: t["key"] for t in tasks}
    rows = [("id", "task", "profile", "state", "try", "cost", "after", "title")]
    for depth, t in plan_order(tasks):
        pad = " " * (_INDENT * min(depth, _MAX_DEPTH_SHOWN))
        after = ",".join(clip(keys[d], 16) for d in t["dependencies"] if d in keys) or "-"
        rows.append(
            (
                str(t["id"]),
                pad + clip(t["key"], _KEY_WIDTH - len(pad)),
                t["profile"],
                t["state"],
                f"{t['attempt']}/{t['maxRetries'] + 1}",
                money(t["cost"]),
                clip(after, 30),
                clip(t["title"], _TITLE_WIDTH),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  "
        + "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True))
        + "  "
        + r[-1]
        for r in rows
    ]


def prompt_lines(prompts: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> list[str]:
    """Open prompts: id, whom it is about, what it asks, how to answer it."""
    if not prompts:
        return []
    keys = {t["id"]: t["key"] for t in tasks}
    lines = [f"  open prompts ({len(prompts)}):"]
    for p in prompts:
        task = p.get("taskId")
        about = f"task {task} ({clip(keys.get(task, '?'), 24)})" if task is not None else "the run"
        options = "/".join(p.get("options") or [])
        lines.append(
            f"    {p['promptId']}  {about} {p['kind']}: {clip(p['reason'], _REASON_WIDTH)}"
        )
        for i, choice in enumerate(p.get("choices") or [], 1):
            lines.append(f"      {i}) {clip(choice, 100)}")
        if task in keys:
            lines.append(f"      answer: bosun resolve {p['runId']}/{keys[task]} {options}")
        else:
            lines.append(f"      answer: bosun answer {p['promptId']} {options}")
    return lines


def render_run(detail: dict[str, Any], prompts: list[dict[str, Any]]) -> list[str]:
    """A run's block: header, table, prompts."""
    run, tasks = detail["run"], detail["tasks"]
    lines = [run_header(run, state_counts(tasks))]
    if run.get("reason"):
        lines.append(f"    {clip(run['reason'], _REASON_WIDTH)}")
    if tasks:
        lines += task_table(tasks)
    lines += prompt_lines(prompts, tasks)
    return lines
