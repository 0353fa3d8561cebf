"""QA's first step: run the project's tests in the worktree and judge them against the base.

A task that changes only documentation is not run against the suite (unless
`qa.gate_docs_only`). A run that cannot run the tests at all ends QA with `cannot_run`.
A failing run fetches the base's results (`QARequest.baseline`, taken once per base
and cached by the engine) and passes when it adds no failure (see gate.py).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bosun_protocol.entities import Profile, Run, Verdict

from bosun.agents.api import CheckResult, QAReport, QARequest
from bosun.agents.cannot_run import output_excerpt
from bosun.agents.checks import detect_test_command, run_check
from bosun.agents.gate import judge_tests
from bosun.agents.report import changed_files
from bosun.agents.suite_results import name_list
from bosun.config import Settings
from bosun.tools.context import ToolContext
from bosun.tools.sandbox import Sandbox

T = TypeVar("T")
Cancellable = Callable[[Awaitable[CheckResult]], Awaitable[CheckResult | None]]


@dataclass
class GateResult:
    """What the test step found; `stop` set when QA ends here."""

    checks: list[CheckResult] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    stop: QAReport | None = None
    note: str = ""  # why no test ran (no command, documentation only)


def docs_only(files: list[str], patterns: list[str]) -> bool:
    """Whether the task changed files and every one is documentation.

    No change at all is not "documentation only": the tests run (what the base has).
    """
    return bool(files) and all(any(fnmatch.fnmatchcase(f, p) for p in patterns) for f in files)


class SuiteGate:
    """Runs the test command for QA: the task's worktree, or a base checkout."""

    def __init__(self, settings: Settings, sandbox: Sandbox | None, hidden: list[Path]) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self.hidden = hidden

    def command_for(self, worktree: Path, configured: str | None) -> str | None:
        """The configured test command, or the one detected in `worktree`."""
        return configured or detect_test_command(worktree, self.settings.tools)

    async def gate(self, request: QARequest, cancellable: Cancellable) -> GateResult:
        """Run and judge the tests of the attempt in `request`."""
        command = self.command_for(request.worktree, request.test_command)
        if not command:
            return GateResult(note="(the project has no test command)")
        qa = self.settings.qa
        if not qa.gate_docs_only:
            changed = await changed_files(request.worktree, request.task.base_commit)
            if changed is not None and docs_only(changed, qa.docs_patterns):
                what = name_list(changed) if changed else "nothing"
                return GateResult(
                    note=f"(tests not run: the task changes only documentation: {what})"
                )
        check = await cancellable(self.run(command, request.worktree, request.run, request))
        if check is None:
            return GateResult(stop=QAReport(passed=False, error="QA was cancelled"))
        checks = [check]
        if check.cannot_run is not None:
            why = (
                f"the test command `{command}` could not run: {check.cannot_run}\n"
                f"{output_excerpt(check.output_tail)}"
            )
            return GateResult(checks, stop=QAReport(passed=False, checks=checks, cannot_run=why))
        base = None
        if check.exit_code not in (0, None) and qa.baseline and request.baseline is not None:
            base = await request.baseline()  # taken once per run base, by the engine
        gate = judge_tests(command, check, base)
        verdicts = [gate.verdict]
        if not gate.passed:
            summary = gate.summary + "\n(criteria not judged until the tests pass)"
            stop = QAReport(passed=False, verdicts=verdicts, checks=checks, summary=summary)
            return GateResult(checks, verdicts, stop)
        return GateResult(checks, verdicts)

    async def run(
        self, command: str, worktree: Path, run: Run, request: QARequest | None = None
    ) -> CheckResult:
        """The test command's run in `worktree` (a task's, or a base checkout), or at the
        request's place when the attempt ran elsewhere."""
        if request is not None and request.place is not None:
            return await request.place.run_check(command, per_test=self.settings.qa.junit)
        ctx = ToolContext(
            run_id=run.id,
            task_id=request.task.id if request else 0,
            attempt=request.attempt if request else 0,
            worktree_path=worktree,
            branch=(request.task.branch or "") if request else "",
            profile=Profile.STRATEGIST,
            settings=self.settings.tools,
            sandbox=self.sandbox,
            hidden_paths=self.hidden,
        )
        return await run_check(command, ctx, per_test=self.settings.qa.junit)
