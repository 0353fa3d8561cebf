"""A looping model behind the real SDK adapters is warned once, then stopped as stalled
within a bounded number of calls, with a reason naming the repeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bosun_protocol.entities import AttemptOutcome

from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeProvider
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
