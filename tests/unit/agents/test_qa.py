"""QA: real test runs in a real worktree, then validated verdicts per criterion."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.agents.api import AttemptReport
from bosun.agents.checks import detect_test_command
from bosun.agents.qa import parse_verdicts
from bosun_protocol.entities import AttemptOutcome

CRITERIA = ["add() returns the sum of two numbers", "a test covers add()"]

GOOD = json.dumps(
    {
        "verdicts": [
            {"criterion": CRITERIA[0], "passed": True, "evidence": "calc.py: return a + b"},
            {"criterion": CRITERIA[1], "passed": True, "evidence": "test_calc.py::test_add"},
        ],
        "summary": "both met",
    }
)


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def _scenario(*replies: tuple[int, str]) -> str:
    out = []
    for turn, text in replies:
        out.append(f'[[reply]]\nrole = "strategist"\nturn = {turn}\ntext = {_toml_string(text)}\n')
    return "\n".join(out)


def _write_project(worktree: Path, *, correct: bool) -> None:
    body = "a + b" if correct else "a - b"
    (worktree / "calc.py").write_text(f"def add(a, b):\n    return {body}\n")
    (worktree / "test_calc.py").write_text(
        "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )


REPORT = AttemptReport(
    outcome=AttemptOutcome.FINISHED, summary="added add()", files_changed=["calc.py"]
)


async def test_passing_tests_then_valid_verdicts_pass_qa(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree), correct=True)
    qa = await h.agents().run_qa(h.qa_request(task, REPORT))

    assert qa.error is None
    assert qa.passed
    assert qa.checks[0].exit_code == 0
    assert "1 passed" in qa.checks[0].output_tail
    assert [v.criterion for v in qa.verdicts[1:]] == CRITERIA
    sent = (await h.calls("strategist"))[0].request["request"]["messages"][1]["content"]
    assert "return a + b" in sent  # the judge sees the new, uncommitted file
    assert "1 passed" in sent


async def test_failing_tests_fail_qa_without_a_model_call(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree), correct=False)
    qa = await h.agents().run_qa(h.qa_request(task, REPORT))

    assert not qa.passed
    assert qa.error is None
    assert qa.checks[0].exit_code == 1
    assert not qa.verdicts[0].passed
    assert "assert" in qa.verdicts[0].evidence
    assert await h.calls("strategist") == []


async def test_invalid_answer_is_reasked_with_the_validation_error(
    harness_factory: Callable[..., Any],
) -> None:
    half = json.dumps({"verdicts": [{"criterion": CRITERIA[0], "passed": True}]})
    h = await harness_factory(_scenario((1, "looks fine to me"), (2, half), (3, GOOD)))
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree), correct=True)
    qa = await h.agents().run_qa(h.qa_request(task, REPORT))

    assert qa.passed
    calls = await h.calls("strategist")
    assert len(calls) == 3
    third = calls[2].request["request"]["messages"][-1]["content"]
    assert "no verdict for these criteria" in third
    assert CRITERIA[1] in third


async def test_answers_that_stay_invalid_end_in_a_qa_error(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\nrole = "strategist"\ntext = "{not json"\n')
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree), correct=True)
    qa = await h.agents().run_qa(h.qa_request(task, REPORT))

    assert not qa.passed
    assert "no valid verdicts in 3 tries" in (qa.error or "")


async def test_a_failed_criterion_fails_qa_with_its_evidence(
    harness_factory: Callable[..., Any],
) -> None:
    answer = json.loads(GOOD)
    answer["verdicts"][1] = {"criterion": CRITERIA[1], "passed": False, "evidence": "no test"}
    h = await harness_factory(_scenario((1, json.dumps(answer))))
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree), correct=True)
    qa = await h.agents().run_qa(h.qa_request(task, REPORT))

    assert not qa.passed
    assert qa.verdicts[-1].evidence == "no test"


async def test_project_without_tests_or_criteria_passes_on_nothing_to_check(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task()
    qa = await h.agents().run_qa(h.qa_request(task, REPORT, test_command=None))

    assert qa.passed
    assert qa.checks == []


def test_verdicts_follow_criteria_order_whatever_the_answer_order() -> None:
    answer = json.loads(GOOD)
    answer["verdicts"].reverse()
    answer["verdicts"][0]["criterion"] = "  A TEST covers add() "  # spacing and case differ
    parsed = parse_verdicts("```json\n" + json.dumps(answer) + "\n```", CRITERIA)
    assert not isinstance(parsed, str)
    assert [v.criterion for v in parsed[0]] == CRITERIA


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no json here", "no JSON object"),
        ('{"verdicts": [{"criterion": "x"}]}', "verdicts.0.passed"),
        ('{"verdicts": "all good"}', "verdicts"),
    ],
)
def test_malformed_answers_are_named(text: str, problem: str) -> None:
    parsed = parse_verdicts(text, CRITERIA)
    assert isinstance(parsed, str)
    assert problem in parsed


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, "pytest"),
        ({"tests/test_x.py": ""}, "pytest"),
        ({"package.json": '{"scripts": {"test": "jest"}}'}, "npm test"),
        ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\""}}'}, None),
        ({"go.mod": "module x\n"}, "go test ./..."),
        ({"Cargo.toml": "[package]\n"}, "cargo test"),
        ({"Makefile": "all:\n\ttrue\ntest:\n\ttrue\n"}, "make test"),
        ({"README.md": "nothing to run\n"}, None),
    ],
)
def test_test_command_is_detected_from_project_files(
    tmp_path: Path, files: dict[str, str], expected: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = detect_test_command(tmp_path)
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found


def test_reworded_criteria_are_taken_in_order_when_each_has_a_verdict() -> None:
    answer = json.loads(GOOD)
    answer["verdicts"][0]["criterion"] = "criterion 1"
    answer["verdicts"][1]["passed"] = False
    parsed = parse_verdicts(json.dumps(answer), CRITERIA)
    assert not isinstance(parsed, str)
    assert [(v.criterion, v.passed) for v in parsed[0]] == [
        (CRITERIA[0], True),
        (CRITERIA[1], False),
    ]


async def test_cancelled_qa_stops_the_test_run_and_reports_an_error(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    fifo = Path(task.worktree or "") / "ready.fifo"
    os.mkfifo(fifo)
    request = h.qa_request(task, REPORT, test_command="echo started > ready.fifo; sleep 93.719")
    qa = asyncio.create_task(h.agents().run_qa(request))
    assert await asyncio.to_thread(fifo.read_text) == "started\n"
    request.cancel.set()
    report = await qa

    assert not report.passed
    assert report.error == "QA was cancelled"
    assert not any(b"93.719" in _cmdline(p) for p in os.listdir("/proc") if p.isdigit())


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


async def test_qa_never_tests_the_daemon_directory_in_place_of_the_worktree(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree or ""), correct=False)
    request = h.qa_request(task, REPORT)
    request.worktree = Path(".")  # what a caller holding a stale task row would pass
    report = await h.agents().run_qa(request)
    assert not report.passed
    assert report.checks[0].exit_code == 1  # the worktree's broken code was tested

    await h.store.update_task(task.id, event="test.lost", worktree=None)
    lost = await h.agents().run_qa(request)
    assert not lost.passed
    assert "no worktree" in (lost.error or "")


async def test_a_missing_test_command_cannot_run_which_is_not_a_failure(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    request = h.qa_request(task, REPORT, test_command="no-such-test-runner-xyz --all")
    report = await h.agents().run_qa(request)

    assert not report.passed
    assert report.error is None
    assert "`no-such-test-runner-xyz` not found" in (report.cannot_run or "")
    assert await h.calls("strategist") == []


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        # `python -m pytest` where pytest is not installed
        (f"{sys.executable} -I -m no_such_runner_xyz -q", "No module named no_such_runner_xyz"),
        # an npm script's tool missing: npm itself exits 1, not 127
        ("sh -c 'xo-missing-xyz --fix'; exit 1", "`xo-missing-xyz` not found"),
        ("printf 'test:\\n' > /dev/null; make -f /dev/null test", "make has no rule for `test`"),
    ],
)
async def test_a_missing_runner_or_tool_cannot_run_whatever_the_exit_code(
    harness_factory: Callable[..., Any], command: str, reason: str
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    report = await h.agents().run_qa(h.qa_request(task, REPORT, test_command=command))

    assert reason in (report.cannot_run or ""), report
    assert report.verdicts == []


async def test_a_failing_test_is_named_with_its_assertion_in_the_verdict(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(_scenario((1, GOOD)))
    task = await h.task(criteria=CRITERIA)
    _write_project(Path(task.worktree or ""), correct=False)
    report = await h.agents().run_qa(h.qa_request(task, REPORT))

    check = report.checks[0]
    assert check.results is not None and check.results.runner == "junit"
    assert [f.name for f in check.results.failures] == ["test_calc::test_add"]
    assert "test_calc::test_add" in report.summary
    assert "assert -1 == 5" in report.summary  # the assertion line, not a raw tail
    left = await asyncio.to_thread(lambda: list(Path(task.worktree or "").glob("*.xml")))
    assert left == []  # the JUnit report is written outside the worktree
