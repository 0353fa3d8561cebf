"""The demo's scenario and sample repository are valid, and their parts agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from bosun.agents.qa import parse_verdicts
from bosun.cli.demo_command import make_sample_repo, scenario_path
from bosun.llm.scenario import load_scenario
from bosun.tools import ToolSettings, build_registry
from bosun_protocol.entities import Profile

SCENARIO = load_scenario(str(scenario_path()))
REGISTRY = build_registry(ToolSettings())


def _created_criteria() -> dict[str, list[str]]:
    """Acceptance criteria of every task the scenario creates, by key."""
    found: dict[str, list[str]] = {}
    for reply in SCENARIO.reply:
        for call in reply.tool_calls:
            if call.name == "create_subtasks":
                for spec in call.arguments["tasks"]:
                    found[spec["key"]] = spec.get("acceptance_criteria", [])
    return found


def test_every_scripted_tool_call_is_valid_for_its_profile() -> None:
    for reply in SCENARIO.reply:
        for call in reply.tool_calls:
            tool = REGISTRY.get(call.name)
            assert tool is not None, call.name
            assert reply.role is not None
            assert REGISTRY.allowed(Profile(reply.role), call.name), (reply.where(), call.name)
            tool.args.model_validate(call.arguments)


def test_every_created_task_has_worker_replies_and_a_qa_answer_for_its_criteria() -> None:
    criteria = _created_criteria()
    assert set(criteria) == {"plan", "slugify", "top-words", "readme"}
    for key, wanted in criteria.items():
        assert any(r.task == key and r.role != "strategist" for r in SCENARIO.reply), key
        (qa,) = [r for r in SCENARIO.reply if r.role == "strategist" and r.task == key]
        parsed = parse_verdicts(qa.text, wanted)
        assert not isinstance(parsed, str), (key, parsed)
        assert all(v.passed for v in parsed[0])


def test_director_qa_answer_matches_the_engine_director_criteria() -> None:
    lifecycle = pytest.importorskip("bosun.engine.lifecycle")
    (qa,) = [r for r in SCENARIO.reply if r.role == "strategist" and r.task == "director"]
    parsed = parse_verdicts(qa.text, lifecycle.DIRECTOR_CRITERIA)
    assert not isinstance(parsed, str), parsed


def test_scenario_has_one_phoenix_retry_and_one_question_to_a_human() -> None:
    attempts = {(r.task, r.attempt) for r in SCENARIO.reply if r.attempt is not None}
    assert ("top-words", 2) in attempts
    asks = [c for r in SCENARIO.reply for c in r.tool_calls if c.name == "ask_human"]
    assert len(asks) == 1


@pytest.mark.parametrize(
    ("attempt", "passes"), [(1, False), (2, True)], ids=["first-fails", "retry-passes"]
)
def test_top_words_attempts_fail_then_pass_the_real_suite(
    tmp_path: Path, attempt: int, passes: bool
) -> None:
    repo = tmp_path / "wordkit"
    repo.mkdir()
    make_sample_repo(repo)
    for reply in SCENARIO.reply:
        if reply.task in ("slugify", "top-words") and reply.attempt in (None, attempt):
            for call in reply.tool_calls:
                if call.name == "write_file":
                    path = repo / call.arguments["path"]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(call.arguments["content"])
    run = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-q"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (run.returncode == 0) is passes, run.stderr
