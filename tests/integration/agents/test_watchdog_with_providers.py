"""A looping model behind the real SDK adapters is warned once, then stopped as stalled
within a bounded number of calls, with a reason naming the repeat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun.agents.settings import AgentSettings
from bosun.llm.settings import BudgetSettings
from bosun_protocol.entities import AttemptOutcome

from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeProvider, FakeReply
from tests.integration.agents.test_context_with_providers import call


async def test_a_model_repeating_one_call_is_warned_then_stopped(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    fake.default = call("read_file", path="README.md")  # forever, whatever it is told
    report = await h.agents(fake_settings(fake)).run_attempt(h.request(task, max_turns=40))

    assert report.outcome is AttemptOutcome.STALLED
    assert "looping" in (report.error or "")
    assert "`read_file` was called 3 times with the same arguments" in (report.error or "")
    assert "README.md" in (report.error or "")
    assert len(fake.requests) == 6  # was 40 per attempt: warned at 3, stopped at 6
    warned = [b for b in fake.bodies() if "Watchdog:" in str(b["messages"][-1])]
    assert len(warned) == 1  # the warning reached the model once, right after the 3rd call
    messages, _ = await h.store.transcript(task.id, 1)
    notes = [m.content for m in messages if m.role == "system"]
    assert any(n.startswith("watchdog warned the model") for n in notes)
    assert any(n.startswith("watchdog: looping") for n in notes)


async def test_a_model_that_changes_course_after_the_warning_goes_on(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    same = call("list_directory", path="")
    fake.push(same, same, same, call("read_file", path="README.md"), call("finish", summary="ok"))
    report = await h.agents(fake_settings(fake)).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    assert report.summary == "ok"


async def test_a_model_that_never_changes_the_worktree_is_warned_then_stopped(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    worktree = Path(task.worktree or "")
    for i in range(10):
        (worktree / f"notes{i}.txt").write_text(f"note {i}\n")
    reads = iter(call("read_file", path=f"notes{i % 10}.txt") for i in range(100))
    fake.behaviour = lambda _body: next(reads)  # different files: no repeat, no change
    agents = AgentSettings(idle_turns=3)
    report = await h.agents(fake_settings(fake), agents).run_attempt(h.request(task, max_turns=40))

    assert report.outcome is AttemptOutcome.STALLED, report.error
    assert (report.error or "").startswith("no progress: the worktree has not changed in 3 turns")
    assert len(fake.requests) == 6  # warned after 3 idle turns, stopped 3 later
    warned = [b for b in fake.bodies() if "Reading alone does not" in str(b["messages"][-1])]
    assert len(warned) == 1


async def test_a_model_that_writes_is_not_stopped_for_no_progress(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    steps = [call("write_file", path=f"f{i}.txt", content=f"{i}\n") for i in range(8)]
    fake.push(*steps, call("finish", summary="wrote them"))
    report = await h.agents(fake_settings(fake), AgentSettings(idle_turns=2)).run_attempt(
        h.request(task)
    )
    assert report.outcome is AttemptOutcome.FINISHED, report.error


async def test_edits_far_outside_the_named_paths_are_warned_then_stopped(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task(description="Fix the parser in lib/core/parse.py.")
    (Path(task.worktree or "") / "lib" / "core").mkdir(parents=True)
    fake.push(
        call("write_file", path="lib/core/parse.py", content="x = 1\n"),  # in scope
        call("write_file", path="tests/test_parse.py", content="x = 1\n"),  # tests: in scope
        call("write_file", path="vendor/a.c", content="int a;\n"),
        call("write_file", path="vendor/b.c", content="int b;\n"),  # two far: warned
        call("write_file", path="tools/c.sh", content="echo\n"),  # still far: stopped
        call("finish", summary="never reached"),
    )
    agents = AgentSettings(scope_files=2, idle_turns=0)
    report = await h.agents(fake_settings(fake), agents).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.STALLED, report.error
    error = report.error or ""
    assert error.startswith("out of scope: 3 changed files lie far outside what the task names")
    assert "(lib/)" in error and "tools/c.sh" in error and "parse" not in error
    assert len(fake.requests) == 5


async def test_calls_far_above_the_runs_median_are_warned_then_stopped(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    small = [call("list_directory", path="") for _ in range(4)]
    for reply in small:
        reply.input_tokens = 1_000
    huge = [call("read_file", path="README.md") for _ in range(8)]
    for i, reply in enumerate(huge):
        reply.input_tokens = 60_000 + i  # ten times and more the median of 1,000
    fake.push(*small, *huge)
    agents = AgentSettings(spend_min_calls=4, spend_factor=5.0, repeat_limit=0, idle_turns=0)
    report = await h.agents(fake_settings(fake), agents).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.STALLED, report.error
    error = report.error or ""
    assert error.startswith("spending far above the run: its last 3 model calls averaged")
    assert "the run's median call" in error
    # Warned at the first big call (the last three then average 20,000), stopped when the
    # next three big ones (after the warning, counted afresh) average 60,000.
    assert len(fake.requests) == 4 + 1 + 3


async def test_an_attempt_over_its_budget_stops_stalled_for_phoenix_not_a_human(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()

    def read(i: int) -> FakeReply:
        reply = call("read_file", path="README.md", n=i)  # never the same call twice
        reply.input_tokens = 6_000
        return reply

    reads = iter(read(i) for i in range(100))
    fake.behaviour = lambda _body: next(reads)
    settings = fake_settings(fake, budget=BudgetSettings(attempt_tokens=20_000))
    agents = AgentSettings(repeat_limit=0, error_limit=0, idle_turns=0)
    report = await h.agents(settings, agents).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.STALLED, report.error
    assert (report.error or "").startswith("attempt budget of 20000 tokens")
    assert report.needs_human is None  # Phoenix retries; the task's budget is not spent
    spent = (await h.store.get_attempt(task.id, 1)).cost
    assert spent.input_tokens + spent.output_tokens <= 20_000
