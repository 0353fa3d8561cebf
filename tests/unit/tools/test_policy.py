"""Policy: deny wins, ask waits for a human, allow-always lasts for the run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.tools import (
    ApprovalChoice,
    ApprovalDecision,
    ApprovalRequest,
    Policy,
    ToolContext,
    ToolExecutor,
    build_registry,
)
from bosun.tools.settings import PolicyRule, ToolSettings


class GatedApprover:
    """Hands each request to the test and waits until the test answers it."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[tuple[ApprovalRequest, asyncio.Future[ApprovalDecision]]] = (
            asyncio.Queue()
        )

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        answer: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        await self.requests.put((request, answer))
        return await answer


def _executor(settings: ToolSettings, *rules: PolicyRule) -> ToolExecutor:
    return ToolExecutor(build_registry(settings), Policy(list(rules)))


ASK_ECHO = PolicyRule(action="ask", tool="run_command", command="echo *", reason="echo is loud")


def test_deny_wins_over_allow_and_ask() -> None:
    policy = Policy(
        [
            PolicyRule(action="allow", tool="*"),
            PolicyRule(action="ask", tool="run_command", command="rm *"),
            PolicyRule(action="deny", tool="run_command", regex=r"\brm\s+-rf\b"),
        ]
    )
    assert policy.evaluate("run_command", "rm -rf build").action == "deny"
    assert policy.evaluate("run_command", "rm build").action == "ask"
    assert policy.evaluate("run_command", "ls").action == "allow"
    assert policy.evaluate("read_file", None).action == "allow"


def test_command_rules_do_not_match_tools_without_a_command() -> None:
    policy = Policy([PolicyRule(action="deny", tool="*", command="*")])
    assert policy.evaluate("read_file", None).action == "allow"
    assert policy.evaluate("run_command", "ls").action == "deny"


@pytest.mark.parametrize(
    "command",
    ["git push origin main", "git -C .. push", "cd x && git checkout main", "git switch -c y",
     "git worktree add ../other", "git branch -D main", "git --git-dir=.git push"],
)  # fmt: skip
def test_default_policy_denies_pushing_and_branch_switching(command: str) -> None:
    assert Policy.from_settings(ToolSettings()).evaluate("run_command", command).action == "deny"


@pytest.mark.parametrize(
    "command", ["git status", "git diff HEAD", "git log -3", "pytest -q", "echo push"]
)
def test_default_policy_allows_ordinary_commands(command: str) -> None:
    assert Policy.from_settings(ToolSettings()).evaluate("run_command", command).action == "allow"


def test_turning_off_the_default_policy_keeps_only_configured_rules() -> None:
    settings = ToolSettings(default_policy=False, policy=[ASK_ECHO])
    assert Policy.from_settings(settings).rules == (ASK_ECHO,)


async def test_denied_call_never_runs(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], settings: ToolSettings
) -> None:
    executor = _executor(
        settings,
        PolicyRule(action="allow", tool="write_file"),
        PolicyRule(action="deny", tool="write_file", reason="read-only task"),
    )
    result = await executor.call(
        make_ctx(tmp_path), "write_file", {"path": "x.txt", "content": "x"}
    )
    assert result.outcome == "denied"
    assert "read-only task" in result.content
    assert not (tmp_path / "x.txt").exists()


async def test_ask_waits_for_the_human_then_runs(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], settings: ToolSettings
) -> None:
    approver = GatedApprover()
    ctx = make_ctx(tmp_path, approver=approver)
    call = asyncio.create_task(
        _executor(settings, ASK_ECHO).call(ctx, "run_command", {"command": "echo hi > out.txt"})
    )
    request, answer = await approver.requests.get()
    assert request.tool == "run_command"
    assert request.arguments["command"] == "echo hi > out.txt"
    assert request.reason == "echo is loud"
    assert request.task_id == ctx.task_id
    assert not call.done()
    assert not (tmp_path / "out.txt").exists()
    answer.set_result(ApprovalDecision(choice=ApprovalChoice.ALLOW_ONCE))
    result = await call
    assert not result.is_error, result.content
    assert (tmp_path / "out.txt").read_text() == "hi\n"


async def test_allow_once_asks_again_next_time(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], settings: ToolSettings
) -> None:
    approver = GatedApprover()
    executor = _executor(settings, ASK_ECHO)
    ctx = make_ctx(tmp_path, approver=approver)
    for _ in range(2):
        call = asyncio.create_task(executor.call(ctx, "run_command", {"command": "echo a"}))
        _, answer = await approver.requests.get()
        answer.set_result(ApprovalDecision(choice=ApprovalChoice.ALLOW_ONCE))
        assert not (await call).is_error


async def test_allow_always_is_remembered_for_the_run_only(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], settings: ToolSettings
) -> None:
    approver = GatedApprover()
    executor = _executor(settings, ASK_ECHO)
    ctx = make_ctx(tmp_path, approver=approver)
    call = asyncio.create_task(executor.call(ctx, "run_command", {"command": "echo one"}))
    _, answer = await approver.requests.get()
    answer.set_result(ApprovalDecision(choice=ApprovalChoice.ALLOW_ALWAYS))
    assert not (await call).is_error
    again = await executor.call(ctx, "run_command", {"command": "echo two"})
    assert not again.is_error
    assert "two" in again.content
    assert approver.requests.empty()
    other_run = make_ctx(tmp_path, approver=approver, run_id=2)
    call = asyncio.create_task(executor.call(other_run, "run_command", {"command": "echo three"}))
    _, answer = await approver.requests.get()
    answer.set_result(ApprovalDecision(choice=ApprovalChoice.DENY, note="not in this run"))
    result = await call
    assert result.outcome == "denied"
    assert "not in this run" in result.content


async def test_ask_without_a_reachable_human_is_a_denial(
    tmp_path: Path, make_ctx: Callable[..., ToolContext], settings: ToolSettings
) -> None:
    result = await _executor(settings, ASK_ECHO).call(
        make_ctx(tmp_path), "run_command", {"command": "echo x"}
    )
    assert result.outcome == "denied"
    assert "approval" in result.content


def test_an_invalid_rule_regex_is_refused_at_config_time() -> None:
    with pytest.raises(ValueError, match="invalid regex"):
        PolicyRule(action="deny", regex="(unclosed")
