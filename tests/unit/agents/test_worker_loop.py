"""The worker loop against a scripted model, with real tools in a real git worktree."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.secrets import register_secret
from bosun.tools import ApprovalChoice, ApprovalDecision, ApprovalRequest, Policy
from bosun.tools.settings import PolicyRule
from bosun_protocol.entities import AttemptOutcome, RunOptions

FINISH_PATH = """
[[reply]]
role = "coder"
turn = 1
text = "Writing the module."
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "hello.py", content = "print('hello from the worker')\\n" }

[[reply]]
role = "coder"
turn = 2
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "python3 hello.py" }

[[reply]]
role = "coder"
turn = 3
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "hello.py prints a greeting", files_changed = ["hello.py"] }
"""


async def test_finish_path_writes_file_runs_it_and_reports(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(FINISH_PATH)
    task = await h.task(criteria=["hello.py prints a greeting"])
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    assert report.summary == "hello.py prints a greeting"
    assert report.files_changed == ["hello.py"]
    assert report.turns == 3
    assert (Path(task.worktree) / "hello.py").read_text().startswith("print(")
    messages, _ = await h.store.transcript(task.id, 1)
    roles = [m.role for m in messages]
    assert roles[:2] == ["system", "user"]
    assert "hello.py prints a greeting" in messages[1].content  # the criteria are in the brief
    tool_outputs = [m.content for m in messages if m.role == "tool"]
    assert any("hello from the worker" in out for out in tool_outputs)
    streamed = "".join(c.text for _, _, c in h.chunks)
    assert "Writing the module." in streamed
    assert "→ write_file" in streamed
    last = messages[-1].content
    assert last.startswith("After-action report: finished after 3 turn(s)")
    assert "files changed: hello.py" in last


TOOL_ERROR = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "read_file"
arguments = { path = "missing.txt" }

[[reply]]
role = "coder"
turn = 2
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "missing.txt", content = "now it exists\\n" }

[[reply]]
role = "coder"
turn = 3
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "created missing.txt" }
"""


async def test_failed_tool_call_is_shown_to_the_model_which_recovers(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(TOOL_ERROR)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED
    calls = await h.calls("coder")
    second = calls[1].request["request"]["messages"]
    error = next(m for m in second if m["role"] == "tool")
    assert error["is_error"] is True
    assert "missing.txt" in error["content"]
    assert report.files_changed == ["missing.txt"]


MALFORMED = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "write_file"
raw_arguments = '{"path": "a.txt", "content": '

[[reply]]
role = "coder"
turn = 2
[[reply.tool_calls]]
name = "no_such_tool"
arguments = {}

[[reply]]
role = "coder"
turn = 3
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "gave up on a.txt" }
"""


async def test_malformed_and_unknown_tool_calls_become_readable_tool_errors(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(MALFORMED)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED
    messages, _ = await h.store.transcript(task.id, 1)
    tool_outputs = [m.content for m in messages if m.role == "tool"]
    assert "not valid JSON" in tool_outputs[0]
    assert "unknown tool 'no_such_tool'" in tool_outputs[1]
    assert not (Path(task.worktree) / "a.txt").exists()


ASK_HUMAN = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "ask_human"
arguments = { question = "Which greeting: formal or casual?", options = ["formal", "casual"] }
"""


async def test_ask_human_stops_the_attempt_with_the_question(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(ASK_HUMAN)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.INTERRUPTED
    assert report.needs_human == (
        "Which greeting: formal or casual?\n(suggested answers: formal | casual)"
    )
    assert report.human_options == ["formal", "casual"]


LOOPING = """
[[reply]]
role = "coder"
[[reply.tool_calls]]
name = "list_directory"
arguments = { path = "" }
"""


async def test_turn_limit_ends_the_attempt_as_stalled(harness_factory: Callable[..., Any]) -> None:
    h = await harness_factory(LOOPING)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task, max_turns=3))

    assert report.outcome is AttemptOutcome.STALLED
    assert report.turns == 3
    assert "turn limit" in (report.error or "")
    assert "list_directory" in report.summary  # what was tried, for the next attempt


CHATTY = """
[[reply]]
role = "coder"
text = "I am thinking about it."
"""


async def test_answers_without_tool_calls_are_nudged_then_stalled(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(CHATTY)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.STALLED
    assert report.turns == 3
    second = (await h.calls("coder"))[1].request["request"]["messages"]
    assert "called no tool" in second[-1]["content"]


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if token.encode() in fh.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


LONG_COMMAND = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "echo started > ready.fifo; sleep 97.531", timeout_s = 120 }
"""


async def test_cancellation_stops_the_loop_and_kills_the_running_command(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(LONG_COMMAND)
    task = await h.task()
    fifo = Path(task.worktree) / "ready.fifo"
    os.mkfifo(fifo)
    request = h.request(task)
    attempt = asyncio.create_task(h.agents().run_attempt(request))
    # The command has started once it wrote to the fifo (the open blocks until then).
    assert await asyncio.to_thread(fifo.read_text) == "started\n"
    assert _processes_with("97.531")
    request.cancel.set()
    async with asyncio.timeout(15):
        report = await attempt

    assert report.outcome is AttemptOutcome.INTERRUPTED
    assert _processes_with("97.531") == []


CONTEXT_TOO_LONG = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "python3 -c 'print(20000 * \\"x\\")'" }

[[reply]]
role = "coder"
turn = 2
try = 1
error = "context_too_long"

[[reply]]
role = "coder"
turn = 2
try = 2
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "done after compaction" }
"""


async def test_context_too_long_is_compacted_and_retried_smaller(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(CONTEXT_TOO_LONG)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED
    assert report.summary == "done after compaction"
    calls = await h.calls("coder")
    sizes = [len(json.dumps(c.request["request"]["messages"])) for c in calls]
    assert len(calls) == 2  # the refused try is not recorded: turn 1, then turn 2's retry
    assert sizes[1] < sizes[0] + 5_000  # the 20,000-character output was cut for the retry


QUOTA = """
[[reply]]
role = "coder"
error = "quota"
message = "monthly quota spent"
"""


async def test_quota_spent_needs_a_human(harness_factory: Callable[..., Any]) -> None:
    h = await harness_factory(QUOTA)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.BUDGET_EXCEEDED
    assert "monthly quota spent" in (report.needs_human or "")


AUTH = """
[[reply]]
role = "coder"
error = "auth"
message = "key refused; set OPENAI_API_KEY"
"""


async def test_authentication_failure_is_an_error_for_a_human(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(AUTH)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.ERROR
    assert "OPENAI_API_KEY" in (report.needs_human or "")
    assert report.human_kind == "model_unusable"  # not an agent's question


async def test_spent_run_budget_ends_the_attempt_before_calling(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(FINISH_PATH, RunOptions(budget_tokens=5))
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.BUDGET_EXCEEDED
    assert report.needs_human
    assert await h.calls() == []


SLOW_COMMAND = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "sleep 86.421", timeout_s = 120 }
"""


async def test_time_limit_interrupts_a_running_command_as_timeout(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(SLOW_COMMAND)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task, time_limit_s=1.0))

    assert report.outcome is AttemptOutcome.TIMEOUT
    assert _processes_with("86.421") == []


LEAKY = """
[[reply]]
role = "coder"
turn = 1
text = "The key is sk-test-LEAKED-0123456789abcdef, writing it down."
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "echo sk-test-LEAKED-0123456789abcdef" }

[[reply]]
role = "coder"
turn = 2
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "done; key was sk-test-LEAKED-0123456789abcdef" }
"""


async def test_secrets_never_reach_the_transcript_or_the_live_stream(
    harness_factory: Callable[..., Any],
) -> None:
    secret = "sk-test-LEAKED-0123456789abcdef"
    register_secret(secret)
    h = await harness_factory(LEAKY)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED
    messages, _ = await h.store.transcript(task.id, 1)
    stored = " ".join(m.content + str(m.tool_calls) for m in messages)
    streamed = "".join(c.text for _, _, c in h.chunks)
    assert secret not in stored
    assert secret not in streamed
    assert secret not in report.summary
    assert "echo" in stored  # the call itself is still there


APPROVALS = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "echo first > first.txt" }

[[reply]]
role = "coder"
turn = 2
[[reply.tool_calls]]
name = "run_command"
arguments = { command = "echo second > second.txt" }

[[reply]]
role = "coder"
turn = 3
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "asked twice" }
"""


class _SlowHuman:
    """Approves the first call and denies the second, each after the test lets it answer."""

    def __init__(self) -> None:
        self.requests: list[ApprovalRequest] = []
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        self.asked.set()
        await self.answer.wait()
        self.answer.clear()
        if len(self.requests) == 1:
            return ApprovalDecision(choice=ApprovalChoice.ALLOW_ONCE)
        return ApprovalDecision(choice=ApprovalChoice.DENY, note="not the second file")


async def test_approval_waits_do_not_count_against_the_time_limit_and_denials_are_readable(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(APPROVALS)
    task = await h.task()
    agents = h.agents()
    agents.executor.policy = Policy([PolicyRule(action="ask", tool="run_command")])
    human = _SlowHuman()
    request = h.request(task, approver=human, time_limit_s=2.0)
    attempt = asyncio.create_task(agents.run_attempt(request))
    for _ in range(2):
        await human.asked.wait()
        human.asked.clear()
        # Longer than the attempt's whole time limit, spent waiting on the human.
        await asyncio.sleep(2.1)  # the thing under test is elapsed time itself
        human.answer.set()
    report = await attempt

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    assert (Path(task.worktree) / "first.txt").exists()
    assert not (Path(task.worktree) / "second.txt").exists()
    assert human.requests[1].arguments["command"] == "echo second > second.txt"
    messages, _ = await h.store.transcript(task.id, 1)
    denial = [m.content for m in messages if m.role == "tool"][1]
    assert "a human denied this call: not the second file" in denial


async def test_cancelling_the_attempt_coroutine_still_kills_the_running_command(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(LONG_COMMAND.replace("97.531", "95.313"))
    task = await h.task()
    fifo = Path(task.worktree) / "ready.fifo"
    os.mkfifo(fifo)
    attempt = asyncio.create_task(h.agents().run_attempt(h.request(task)))
    assert await asyncio.to_thread(fifo.read_text) == "started\n"
    attempt.cancel()  # what the engine does after its grace period
    with pytest.raises(asyncio.CancelledError):
        await attempt

    assert _processes_with("95.313") == []


ALWAYS_TOO_LONG = """
[[reply]]
role = "coder"
error = "context_too_long"
"""


async def test_context_still_too_long_after_compaction_is_an_error(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(ALWAYS_TOO_LONG)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.ERROR
    assert "context too long" in (report.error or "")
    assert "nothing left to cut" in (report.error or "")  # not the same request again
    assert report.needs_human is None


async def test_a_missing_worktree_is_refused_before_anything_runs(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(FINISH_PATH)
    task = await h.task()
    request = h.request(task)
    await h.store.update_task(task.id, event="test.lost", worktree=None)
    request.worktree = Path(".")
    report = await h.agents().run_attempt(request)

    assert report.outcome is AttemptOutcome.ERROR
    assert "no worktree" in (report.error or "")
    assert await h.calls() == []
    assert "hello.py" not in os.listdir()  # nothing written to the daemon's directory


async def test_a_relative_worktree_falls_back_to_the_one_on_the_board(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(FINISH_PATH)
    task = await h.task()
    request = h.request(task)
    request.worktree = Path(".")
    report = await h.agents().run_attempt(request)

    assert report.outcome is AttemptOutcome.FINISHED
    assert (Path(task.worktree or "") / "hello.py").exists()
    assert "hello.py" not in os.listdir()  # nothing written to the daemon's directory


OFF_SCRIPT = """
[[reply]]
role = "coder"
turn = 1
[[reply.tool_calls]]
name = "list_directory"
arguments = {}
"""


async def test_a_script_without_an_answer_asks_a_human_instead_of_retrying(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(OFF_SCRIPT)
    task = await h.task()
    report = await h.agents().run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.ERROR
    assert "no reply for role=coder" in (report.needs_human or "")
