"""The scripted model: deterministic answers from a scenario file."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from bosun.llm.errors import (
    ContextTooLongError,
    QuotaExceededError,
    RateLimitError,
    ScenarioError,
)
from bosun.llm.messages import ChatMessage, Delta, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.scenario import load_scenario, shipped_scenarios
from bosun.llm.scripted import ScriptedModel

SCENARIO = """
name = "sample"

[[reply]]
role = "coder"
text = "generic coder answer"

[[reply]]
role = "coder"
task = "alpha"
turn = 1
text = "alpha turn one"
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "a.txt", content = "A" }

[[reply]]
role = "coder"
task = "beta"
turn = 1
text = "beta turn one"

[[reply]]
role = "coder"
task = "broken"
[[reply.tool_calls]]
name = "write_file"
raw_arguments = '{"path": "a.txt", '

[[reply]]
task = "flaky"
try = 1
error = "rate_limit"
retry_after = 2.5

[[reply]]
task = "flaky"
text = "fine on the second try"

[[reply]]
task = "broke"
error = "quota"
message = "out of credit"

[[reply]]
task = "huge"
error = "context_too_long"

[[reply]]
task = "slow"
delay = 0.01
text = "slowly"

[[reply]]
role = "tester"
attempt = 2
text = "second attempt of a tester"
usage = { input_tokens = 100, output_tokens = 50 }
"""

REQUEST = ModelRequest(messages=[ChatMessage.user("go")], max_tokens=100)


@pytest.fixture
def model(tmp_path: Path) -> ScriptedModel:
    path = tmp_path / "sample.toml"
    path.write_text(SCENARIO)
    return ScriptedModel(load_scenario(str(path)))


async def test_the_most_specific_reply_wins(model: ScriptedModel) -> None:
    alpha = await model.complete(REQUEST, CallContext(role="coder", task_key="alpha", turn=1))
    other = await model.complete(REQUEST, CallContext(role="coder", task_key="alpha", turn=2))
    assert alpha.text == "alpha turn one"
    assert alpha.tool_calls[0].arguments == {"path": "a.txt", "content": "A"}
    assert alpha.stop_reason == "tool_calls"
    assert other.text == "generic coder answer"


async def test_answers_do_not_depend_on_the_order_tasks_run_in(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    calls = [
        CallContext(role="coder", task_key=k, attempt=a, turn=t)
        for k in ("alpha", "beta", "gamma")
        for a in (1, 2)
        for t in (1, 2, 3)
    ]
    answers = []
    for seed in (1, 2):
        model = ScriptedModel(load_scenario(str(path)))
        shuffled = calls[:]
        random.Random(seed).shuffle(shuffled)
        results = await asyncio.gather(*(model.complete(REQUEST, c) for c in shuffled))
        answers.append({c: r.model_dump() for c, r in zip(shuffled, results, strict=True)})
    assert answers[0] == answers[1]


async def test_malformed_tool_call_is_delivered_with_its_parse_error(model: ScriptedModel) -> None:
    response = await model.complete(REQUEST, CallContext(role="coder", task_key="broken"))
    [call] = response.tool_calls
    assert call.error is not None
    assert call.raw_arguments == '{"path": "a.txt", '


async def test_an_error_on_the_first_try_then_success_on_the_retry(model: ScriptedModel) -> None:
    ctx = CallContext(role="coder", task_key="flaky")
    with pytest.raises(RateLimitError) as caught:
        await model.complete(REQUEST, ctx)
    assert caught.value.retry_after == 2.5
    assert (await model.complete(REQUEST, ctx)).text == "fine on the second try"


async def test_scripted_errors_have_their_classes(model: ScriptedModel) -> None:
    with pytest.raises(QuotaExceededError, match="out of credit"):
        await model.complete(REQUEST, CallContext(task_key="broke"))
    with pytest.raises(ContextTooLongError):
        await model.complete(REQUEST, CallContext(task_key="huge"))


async def test_delay_and_streamed_text(model: ScriptedModel) -> None:
    seen: list[Delta] = []
    response = await model.complete(REQUEST, CallContext(task_key="slow"), seen.append)
    assert response.text == "slowly"
    assert "".join(d.text for d in seen) == "slowly"


async def test_usage_is_as_scripted_and_capped_at_max_tokens(model: ScriptedModel) -> None:
    ctx = CallContext(role="tester", attempt=2)
    full = await model.complete(REQUEST, ctx)
    assert (full.usage.input_tokens, full.usage.output_tokens) == (100, 50)
    small = REQUEST.model_copy(update={"max_tokens": 20})
    capped = await model.complete(small, ctx)
    assert capped.usage.output_tokens == 20
    assert capped.stop_reason == "max_tokens"


async def test_no_matching_reply_names_the_call(model: ScriptedModel) -> None:
    with pytest.raises(ScenarioError, match="role=writer task=zeta attempt=3 turn=4"):
        await model.complete(
            REQUEST, CallContext(role="writer", task_key="zeta", attempt=3, turn=4)
        )


def test_an_invalid_scenario_names_the_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[reply]]\nrole = "coder"\nturn = 0\ntext = "x"\n')
    with pytest.raises(ScenarioError, match=r"reply\.0\.turn"):
        load_scenario(str(path))
    path.write_text('[[reply]]\nrole = "coder"\n')
    with pytest.raises(ScenarioError, match="needs text, tool_calls or an error"):
        load_scenario(str(path))
    path.write_text("[[reply]\n")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(str(path))


def test_json_scenarios_work_too(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"reply": [{"role": "coder", "text": "from json"}]}')
    assert load_scenario(str(path)).reply[0].text == "from json"


def test_missing_files_and_unknown_names_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(str(tmp_path / "none.toml"))
    with pytest.raises(ScenarioError, match=r"no scenario named 'nope'.*demo"):
        load_scenario("nope")


async def test_the_shipped_demo_scenario_answers_every_role_of_the_demo_run() -> None:
    assert "demo" in shipped_scenarios()
    model = ScriptedModel(load_scenario("demo"))
    for role, key in (
        ("director", "director"),
        ("planner", "plan"),
        ("coder", "slugify"),
        ("coder", "top-words"),
        ("writer", "readme"),
    ):
        response = await model.complete(REQUEST, CallContext(role=role, task_key=key))
        assert response.text or response.tool_calls, (role, key)


def test_replay_compares_what_was_asked_not_ids_or_tool_output() -> None:
    from bosun.llm.replay import comparable, first_difference

    def req(user: str, tool_output: str) -> dict[str, object]:
        return {
            "max_tokens": 100,
            "messages": [
                {"role": "user", "content": user},
                {"role": "tool", "tool_call_id": "c1", "content": tool_output},
            ],
        }

    recorded = req("Task #3 on bosun/run-1 (commit 1a2b3c4d)", "4 passed in 0.31s")
    rerun = req("Task #7 on bosun/run-2 (commit 9f8e7d6c)", "4 passed in 0.12s")
    assert first_difference(comparable(recorded), comparable(rerun)) is None
    changed = req("Task #7 on bosun/run-2 (commit 9f8e7d6c), and also delete tests", "")
    assert first_difference(comparable(recorded), comparable(changed)) is not None
