"""The test gate's verdict: the task's run against the base's, test by test or by exit code."""

from __future__ import annotations

import pytest
from bosun.agents.api import CheckResult
from bosun.agents.gate import judge_tests
from bosun.agents.suite_results import Failure, SuiteResults
from bosun.engine.baselines import baseline_key, from_record, to_record

CMD = "pytest -q"


def run(code: int | None, *names: str, runner: str = "junit", tail: str = "") -> CheckResult:
    """A run of CMD: exit `code`, failing `names` (no names and no runner: unparsed)."""
    results = None
    if runner:
        results = SuiteResults(runner, [Failure(n, f"assert {n}") for n in names], passed=3)
    return CheckResult(CMD, code, tail or f"exit code: {code}", results=results)


def test_a_green_run_passes_and_still_shows_what_fails_on_the_base() -> None:
    gate = judge_tests(CMD, run(0), run(1, "t::old"))
    assert gate.passed
    assert "already failing on the base: 1 (t::old)" in gate.verdict.evidence


def test_failures_the_base_has_too_are_not_the_tasks() -> None:
    gate = judge_tests(CMD, run(1, "t::old"), run(1, "t::old", "t::flaky"))
    assert gate.passed
    assert gate.verdict.criterion == f"no new test failures (`{CMD}`)"
    assert gate.already_failing == ["t::old", "t::flaky"]


def test_a_new_failure_fails_the_gate_by_name_with_its_assertion() -> None:
    gate = judge_tests(CMD, run(1, "t::old", "t::new"), run(1, "t::old"))
    assert not gate.passed
    assert [f.name for f in gate.new_failures] == ["t::new"]
    assert "t::new" in gate.summary and "assert t::new" in gate.summary
    assert "t::old" not in gate.summary.split("already")[0]
    assert "(already failing on the base, not counted: 1)" in gate.summary


def test_on_a_green_or_missing_base_every_failure_is_new() -> None:
    for base in (run(0), None):
        gate = judge_tests(CMD, run(1, "t::a"), base)
        assert not gate.passed
        assert gate.verdict.criterion == f"the project's tests pass (`{CMD}`)"
        assert [f.name for f in gate.new_failures] == ["t::a"]


def test_without_per_test_results_the_same_exit_code_as_the_base_passes_marked() -> None:
    gate = judge_tests(CMD, run(1, runner=""), run(1, runner=""))
    assert gate.passed
    assert "compared by exit code only" in gate.verdict.evidence
    other = judge_tests(CMD, run(2, runner=""), run(1, runner=""))
    assert not other.passed


def test_a_run_that_names_no_failure_where_the_base_did_is_worse() -> None:
    # e.g. the task broke collection: pytest exits 2 with nothing per test.
    gate = judge_tests(CMD, run(2), run(1, "t::old"))
    assert not gate.passed
    assert "in a way the base does not" in gate.summary


@pytest.mark.parametrize("base", [run(1, "t::a"), None])
def test_a_timed_out_run_fails_whatever_the_base(base: CheckResult | None) -> None:
    gate = judge_tests(CMD, run(None, runner=""), base)
    assert not gate.passed
    assert "timed out" in gate.summary


def test_an_unparsed_failure_gives_the_next_attempt_the_lines_that_say_why() -> None:
    tail = "exit code: 1\n> jest\n  ✕ adds (3 ms)\n  AssertionError: expected 3 to equal 4\nnoise\n"
    gate = judge_tests(CMD, run(1, runner="", tail=tail), None)
    assert "AssertionError: expected 3 to equal 4" in gate.summary
    assert "noise" not in gate.summary


def test_the_base_record_survives_the_journal_and_a_foreign_one_is_ignored() -> None:
    base = run(1, "t::old")
    back = from_record(to_record(base))
    assert back is not None and back.results is not None
    assert back.exit_code == 1 and back.results.names == {"t::old"}
    assert judge_tests(CMD, run(1, "t::old"), back).passed
    assert from_record({"version": 99}) is None
    assert from_record({"version": 1, "results": {"runner": "junit"}}) is None
    assert baseline_key("abc", None) != baseline_key("abc", CMD)


def test_a_long_failure_summary_keeps_its_lines_in_the_next_attempts_history() -> None:
    from bosun.engine.phoenix import clip

    names = [f"tests/test_big.py::test_case_{i}" for i in range(200)]
    gate = judge_tests(CMD, run(1, *names), None)
    error = "QA failed: " + gate.summary + "\n(criteria not judged until the tests pass)"
    assert clip(error, 800) == error  # not squashed onto one line
    assert "test_case_0" in error and "more" in error
