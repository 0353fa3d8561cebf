"""The strategist (QA): deterministic checks first, then a verdict per acceptance criterion.

A failing test run fails QA on its own, without spending a model call. When the tests
pass, the strategist model judges each criterion from the evidence (the diff, the
worker's report, the check output) and answers in JSON. The answer is validated; an
invalid one is sent back with the validation error, a bounded number of times, after
which QA reports an error (the engine decides whether to retry QA or ask a human).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bosun_protocol.entities import Profile, Verdict
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bosun.agents.api import CheckResult, QAReport, QARequest
from bosun.agents.profiles import profile_of
from bosun.agents.qa_tools import QaTools
from bosun.agents.race import Interrupted, unless_cancelled
from bosun.agents.report import worktree_diff
from bosun.agents.suite_gate import SuiteGate
from bosun.config import Settings
from bosun.errors import BosunError
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.secrets import redact
from bosun.tools.sandbox import Sandbox

T = TypeVar("T")
# Opens the strategist's tools for its judging (None inside: no tools).
ToolsScope = Callable[[], contextlib.AbstractAsyncContextManager[QaTools | None]]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.S)
_SPACE = re.compile(r"\s+")


class _Judgement(BaseModel):
    model_config = ConfigDict(extra="ignore")

    criterion: str
    passed: bool
    evidence: str = Field(default="", max_length=4000)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    verdicts: list[_Judgement]
    summary: str = ""


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def parse_verdicts(text: str, criteria: list[str]) -> tuple[list[Verdict], str] | str:
    """The verdicts in criteria order and the summary, or a message saying what is wrong."""
    body = _FENCE.sub("", text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        return "the answer holds no JSON object"
    try:
        answer = _Answer.model_validate(json.loads(body[start : end + 1]))
    except ValueError as exc:  # JSON syntax, or a ValidationError (a ValueError too)
        detail = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        return f"the JSON does not match the required shape: {detail}"
    given = {_norm(j.criterion): j for j in answer.verdicts}
    missing = [c for c in criteria if _norm(c) not in given]
    if missing and len(answer.verdicts) == len(criteria):
        # One verdict per criterion, in order, with reworded criteria: take them in order
        # rather than spend a call on making the model copy text.
        given = {_norm(c): j for c, j in zip(criteria, answer.verdicts, strict=True)}
        missing = []
    if missing:
        listed = "; ".join(f'"{c}"' for c in missing)
        return f"no verdict for these criteria (copy each criterion verbatim): {listed}"
    verdicts = []
    for criterion in criteria:
        judged = given[_norm(criterion)]
        verdicts.append(
            Verdict(criterion=criterion, passed=judged.passed, evidence=redact(judged.evidence))
        )
    return verdicts, redact(answer.summary.strip())


def _evidence(
    request: QARequest, checks: list[CheckResult], verdicts: list[Verdict], diff: str, note: str
) -> str:
    task, report = request.task, request.report
    criteria = "\n".join(f"{i}. {c}" for i, c in enumerate(task.acceptance_criteria, 1))
    ran = "\n".join(
        f"$ {c.command}  → {v.criterion}: {'pass' if v.passed else 'FAIL'}\n{v.evidence}"
        for c, v in zip(checks, verdicts, strict=False)
    )
    return (
        f"# Task {task.key}: {task.title}\n{task.description.strip()}\n\n"
        f"# Acceptance criteria\n{criteria}\n\n"
        f"# The worker's report (attempt {request.attempt})\n{report.summary.strip()}\n"
        f"Files changed: {', '.join(report.files_changed) or '(none listed)'}\n\n"
        f"# Deterministic checks\n{ran or note or '(no tests were run)'}\n\n"
        f"# The changes\n{diff}"
    )


class Strategist:
    """Judges finished attempts."""

    def __init__(
        self,
        gateway: ModelGateway,
        settings: Settings,
        *,
        sandbox: Sandbox | None = None,
        hidden: list[Path] | None = None,
        max_asks: int = 3,
        max_tokens: int = 2048,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.sandbox = sandbox
        self.hidden = hidden or []
        self.max_asks = max_asks
        self.max_tokens = max_tokens
        self.suite = SuiteGate(settings, sandbox, self.hidden)

    async def judge(self, request: QARequest, tools: ToolsScope | None = None) -> QAReport:
        """Run the checks, then ask for verdicts unless the checks already failed; the
        strategist model may call the tools `tools` opens (its MCP servers', started
        only once there are criteria to judge) while it judges."""
        tested = await self.suite.gate(request, lambda work: self._cancellable(request, work))
        if tested.stop is not None:
            return tested.stop
        checks, verdicts = tested.checks, tested.verdicts
        if not request.task.acceptance_criteria:
            return QAReport(
                passed=True, verdicts=verdicts, checks=checks, summary="no criteria to judge"
            )
        diff = await worktree_diff(request.worktree, request.task.base_commit)

        async def ask() -> tuple[list[Verdict], str] | str:
            async with tools() if tools is not None else contextlib.nullcontext() as offered:
                return await self._ask(request, checks, verdicts, diff, tested.note, offered)

        judged = await self._cancellable(request, ask())
        if judged is None:
            return QAReport(
                passed=False, verdicts=verdicts, checks=checks, error="QA was cancelled"
            )
        if isinstance(judged, str):
            return QAReport(passed=False, verdicts=verdicts, checks=checks, error=judged)
        criteria_verdicts, summary = judged
        verdicts.extend(criteria_verdicts)
        return QAReport(
            passed=all(v.passed for v in verdicts),
            verdicts=verdicts,
            checks=checks,
            summary=summary,
        )

    async def _ask(
        self,
        request: QARequest,
        checks: list[CheckResult],
        verdicts: list[Verdict],
        diff: str,
        note: str,
        tools: QaTools | None = None,
    ) -> tuple[list[Verdict], str] | str:
        """Verdicts from the model, re-asked with the validation error while invalid;
        rounds of tool calls in between are answered (and bounded) by `tools`."""
        profile = profile_of(Profile.STRATEGIST)
        messages = [
            ChatMessage.system(profile.prompt),
            ChatMessage.user(_evidence(request, checks, verdicts, diff, note)),
        ]
        offered = tools.specs() if tools is not None else []
        problem = ""
        asks = turn = 0
        while asks < self.max_asks:
            turn += 1
            ctx = CallContext(
                role=profile.role,
                run_id=request.run.id,
                task_id=request.task.id,
                task_key=request.task.key,
                attempt=request.attempt,
                turn=turn,
            )
            try:
                response = await self.gateway.complete(
                    ModelRequest(messages=messages, tools=offered, max_tokens=self.max_tokens),
                    ctx,
                    options=request.run.options,
                )
            except BosunError as exc:  # model errors, budgets: QA could not judge
                return f"the strategist model failed: {exc.message}"
            if tools is not None and offered and response.tool_calls:
                messages += await tools.answer(response)
                # Calls past the bound are refused; each such round costs an ask.
                asks += tools.rounds > tools.max_rounds
                continue
            asks += 1
            parsed = parse_verdicts(response.text, request.task.acceptance_criteria)
            if not isinstance(parsed, str):
                return parsed
            problem = parsed
            messages += [
                ChatMessage.assistant(response.text),
                ChatMessage.user(
                    f"Your answer is invalid: {problem}. Answer again with only the JSON "
                    "object, one verdict per criterion, each criterion copied verbatim."
                ),
            ]
        return f"the strategist gave no valid verdicts in {self.max_asks} tries: {problem}"

    async def _cancellable(self, request: QARequest, work: Awaitable[T]) -> T | None:
        try:
            return await unless_cancelled(work, request.cancel)
        except Interrupted:
            return None
