"""`bosun doctor`: can bosun work here? Models, sandbox, git, the state directory, MCP
servers, and the project's set-up and tests run once on the base (cli/project_check.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from bosun.cli.common import EXIT_ERROR, EXIT_OK, guarded, print_json, run_async
from bosun.errors import BosunError


def add_parsers(sub: Any) -> None:
    """Register `bosun doctor`."""
    doc = sub.add_parser("doctor", help="check models, sandbox, git and the state directory")
    doc.add_argument("--model", action="append", help="check this provider:model (repeatable)")
    doc.add_argument("--json", action="store_true")
    doc.add_argument(
        "--base", default="HEAD", help="commit to run the set-up and tests on (default HEAD)"
    )
    doc.add_argument(
        "--no-project", action="store_true", help="skip running the set-up and the tests"
    )
    doc.set_defaults(func=guarded(cmd_doctor))


def _check(name: str, ok: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail, **extra}


def git_check() -> dict[str, Any]:
    """Whether git is installed and new enough for merge-tree --write-tree (2.38)."""
    exe = shutil.which("git")
    if exe is None:
        return _check("git", False, "git is not on PATH; install git 2.38 or newer")
    try:
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return _check("git", False, f"git does not run: {exc}")
    numbers = [int(p) for p in out.split()[-1].split(".")[:2] if p.isdigit()]
    ok = numbers >= [2, 38]
    hint = "" if ok else " (2.38 or newer is needed for conflict-free merges)"
    return _check("git", ok, out + hint)


def state_check(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """The workspace's state directory, and the settings it holds (defaults outside a repo)."""
    from bosun.cli.common import workspace_of
    from bosun.config import Settings, load_settings

    try:
        ws = workspace_of(args)
    except BosunError as exc:
        return _check("workspace", False, exc.message), Settings()
    try:
        settings = load_settings(ws.config_path)
    except BosunError as exc:
        return _check("workspace", False, exc.message), Settings()
    state = ws.state_dir
    if not state.exists():
        return _check("workspace", True, f"{ws.root} (state directory not created yet)"), settings
    mode = stat.S_IMODE(state.stat().st_mode)
    writable = os.access(state, os.W_OK | os.X_OK)
    refused = _board_refusal(ws, settings)
    ok = writable and mode & 0o077 == 0 and refused is None
    detail = f"{state} mode {mode:o}" + ("" if writable else ", not writable by you")
    if mode & 0o077:
        detail += f" (others can read it: run `chmod 700 {state}`)"
    if refused is not None:
        detail += f"; the board cannot be written: {refused}"
    return _check("workspace", ok, detail), settings


def _board_refusal(ws: Any, settings: Any) -> str | None:
    """Why the board (SQLite file or PostgreSQL, as configured) cannot be written."""
    from bosun.board.health import board_unwritable
    from bosun.board.location import PostgresBoard, board_location

    try:
        where = board_location(settings.board, ws.root, ws.db_path, env=dict(os.environ))
    except BosunError as exc:
        return exc.message
    if isinstance(where, PostgresBoard):
        from bosun.board.postgres.backend import board_refusal

        return board_refusal(where)
    return board_unwritable(where)


def budget_check(settings: Any) -> dict[str, Any]:
    """The budgets every run starts with; a warning (not a failure: it may be meant) when
    no token limit binds at all."""
    from bosun.cli.engine_commands import budget_line
    from bosun.llm.budget import BudgetLimits

    llm = settings.llm
    line = budget_line(llm, llm.default_model)
    limits = BudgetLimits.of(llm.budget, None)
    if limits.attempt_tokens is None and limits.task_tokens is None and limits.run_tokens is None:
        line += " (warning: no token limit, an unattended run can spend without bound)"
    return _check("budget", True, line)


async def _project(args: argparse.Namespace, settings: Any) -> list[dict[str, Any]]:
    """The set-up and test command, run once on the base (unless --no-project)."""
    from bosun.cli.common import workspace_of
    from bosun.cli.project_check import project_checks
    from bosun.tools.sandbox import current_sandbox

    if args.no_project:
        return []
    sandbox = current_sandbox(settings.tools.sandbox, settings.tools.allow_weak_sandbox)
    return await project_checks(workspace_of(args), settings, sandbox, args.base)


def _board_path(args: argparse.Namespace) -> Path:
    from bosun.cli.common import workspace_of

    try:
        return workspace_of(args).db_path
    except BosunError:
        return Path("/nonexistent")


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run every check and report; exit status 1 when one fails."""
    from bosun.llm.doctor import check_models
    from bosun.tools.errors import SandboxUnavailableError
    from bosun.tools.sandbox import sandbox_report

    async def go() -> int:
        workspace, settings = state_check(args)
        models = await check_models(settings.llm, args.model)
        try:
            report = sandbox_report(settings.tools.sandbox, settings.tools.allow_weak_sandbox)
            sandbox = _check(
                "sandbox", report.mode.value != "none", report.reason, **report.as_dict()
            )
        except SandboxUnavailableError as exc:
            sandbox = _check("sandbox", False, exc.message)
        project = await _project(args, settings) if workspace["ok"] and sandbox["ok"] else []
        checks = [
            *(
                _check(f"model {m.model}", m.ok, m.message, kind=m.kind, latencyMs=m.latency_ms)
                for m in models
            ),
            sandbox,
            budget_check(settings),
            await asyncio.to_thread(git_check),
            workspace,
            *project,
        ]
        if settings.mcp.servers:
            from bosun.tools.mcp.doctor import check_mcp_servers

            checks += await check_mcp_servers(settings)
        from bosun.observe.doctor import check_observability
        from bosun.secrets import provider_environ

        checks += await check_observability(settings, _board_path(args), provider_environ())
        healthy = all(c["ok"] for c in checks)
        if args.json:
            print_json({"ok": healthy, "checks": checks})
        else:
            for c in checks:
                print(f"{'ok  ' if c['ok'] else 'FAIL'} {c['check']}: {c['detail']}")
        return EXIT_OK if healthy else EXIT_ERROR

    return run_async(go())
