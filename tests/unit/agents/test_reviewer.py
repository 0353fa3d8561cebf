"""The optional reviewer model: every K turns it reads the trajectory against the task
and can nudge the agent once, then stop the attempt, through the watchdog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bosun.agents.reviewer import trajectory, verdict
from bosun.agents.settings import AgentSettings
from bosun.llm.messages import ChatMessage, ToolCall
from bosun_protocol.entities import AttemptOutcome, RunOptions


def _scenario(reviews: dict[int, str]) -> str:
    coder = "".join(
        f'[[reply]]\nrole = "coder"\nturn = {t}\ntext = "looking"\n'
        f'[[reply.tool_calls]]\nname = "list_directory"\narguments = {{ path = "d{t}" }}\n'
        for t in range(1, 13)
    )
    said = "".join(
        f"[[reply]]\nrole = \"reviewer\"\nturn = {t}\ntext = '''{text}'''\n"
        for t, text in reviews.items()
    )
    return coder + said + '[[reply]]\nrole = "reviewer"\ntext = \'{"verdict": "on_track"}\'\n'


async def test_the_reviewer_nudges_once_then_stops_the_attempt(
    harness_factory: Callable[..., Any],
) -> None:
    scenario = _scenario({
        2: '{"verdict": "nudge", "reason": "It only lists directories; edit README.md."}',
        4: '{"verdict": "stop", "reason": "Still only listing after being told."}',
    })  # fmt: skip
    h = await harness_factory(scenario)
    # Per run: the run's options name the reviewer's model (here the same scenario).
    h.run = h.run.model_copy(
        update={"options": RunOptions(models={"reviewer": f"scripted:{h.scenario}"})}
    )
    task = await h.task()
    agents = AgentSettings(review_every=2, idle_turns=0)
    report = await h.agents(None, agents).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.STALLED, report.error
    assert report.error == (
        "stopped by the reviewer: Still only listing after being told. (after one warning)"
    )
    assert report.turns == 4
    messages, _ = await h.store.transcript(task.id, 1)
    told = [m.content for m in messages if m.role == "user" and "Watchdog:" in m.content]
    assert len(told) == 1 and "edit README.md" in told[0]
    reviews = await h.calls("reviewer")
    assert sorted(c.turn for c in reviews) == [2, 4]  # every 2 turns, recorded and costed
    first = reviews[0].request["request"]["messages"][1]["content"]
    assert "# The task" in first and "list_directory" in first


async def test_without_a_reviewer_model_no_review_is_made(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario({}) + '[[reply]]\nrole = "coder"\nturn = 3\ntext = "x"\n')
    task = await h.task()
    report = await h.agents(None, AgentSettings(review_every=1, idle_turns=0)).run_attempt(
        h.request(task, max_turns=3)
    )
    assert report.outcome is AttemptOutcome.STALLED  # the turn limit, not a reviewer
    assert await h.calls("reviewer") == []


def test_a_reviewer_answer_is_read_leniently_and_unreadable_ones_are_ignored() -> None:
    assert verdict('Sure: {"verdict": "stop", "reason": "It deletes tests."}') == (
        "stop",
        "It deletes tests.",
    )
    assert verdict('{"verdict": "on_track", "reason": "fine"}') is None
    assert verdict('{"verdict": "nudge"}') is None  # a nudge must say what to do
    assert verdict("no json here") is None
    assert verdict('{"verdict": "stop", "reason": ') is None
    assert verdict("[1, 2]") is None


def test_the_trajectory_is_the_newest_steps_within_its_limit() -> None:
    call = ToolCall(id="c", name="read_file", arguments={"path": "a.py"})
    messages = [ChatMessage.assistant("step", [call]), ChatMessage.tool(call, "x" * 5_000)] * 50
    shown = trajectory(messages, limit=2_000)
    assert len(shown) <= 2_100
    assert shown.splitlines()[-1].startswith("  read_file ok: xxx")
    assert 'read_file({"path": "a.py"})' in shown
