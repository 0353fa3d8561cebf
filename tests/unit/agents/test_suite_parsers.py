"""Per-runner readers of test results, on real runners' output (tests/fixtures/test_reports)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bosun.agents.suite_parsers import (
    MAX_XML_BYTES,
    parse_cargo,
    parse_go_json,
    parse_go_text,
    parse_junit,
    parse_pytest_text,
    parse_tap,
    read_results,
)
from bosun.agents.suite_results import MAX_FAILURES, NAME_CHARS, SuiteResults, failure_summary

REPORTS = Path(__file__).parents[2] / "fixtures" / "test_reports"


def _text(name: str) -> str:
    return (REPORTS / name).read_text()


def _failures(results: SuiteResults | str | None) -> dict[str, str]:
    assert isinstance(results, SuiteResults), results
    return {f.name: f.detail for f in results.failures}


def test_pytest_junit_names_failures_and_errors_with_their_assertion_lines() -> None:
    results = parse_junit((REPORTS / "pytest_junit.xml").read_bytes())
    failed = _failures(results)
    assert set(failed) == {
        "tests.test_broken",
        "tests.test_calc::test_add",
        "tests.test_calc.TestGroup::test_even[1]",
    }
    assert "assert -1 == 5" in failed["tests.test_calc::test_add"]
    assert "1 is odd" in failed["tests.test_calc.TestGroup::test_even[1]"]
    assert "No module named 'no_such_module_xyz'" in failed["tests.test_broken"]
    assert isinstance(results, SuiteResults) and results.passed == 2  # skipped not counted


def test_a_collection_error_is_a_named_failure() -> None:
    failed = _failures(parse_junit((REPORTS / "pytest_collection_error.xml").read_bytes()))
    assert list(failed) == ["tests.test_broken"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"<testsuite><testcase name='a'><failure>", "not well-formed"),
        (b"", "not well-formed"),
        (b"\x00\xff garbage", "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<testsuite><testcase name='&b;'/></testsuite>",
            "DOCTYPE",
        ),
    ],
)
def test_malformed_or_hostile_junit_is_refused_with_a_reason(data: bytes, problem: str) -> None:
    results = parse_junit(data)
    assert isinstance(results, str)
    assert problem in results


def test_a_junit_file_larger_than_the_bound_is_refused_unread() -> None:
    assert "more than" in str(parse_junit(b" " * (MAX_XML_BYTES + 1)))


def test_a_huge_junit_report_keeps_a_bounded_number_of_named_failures() -> None:
    cases = "".join(
        f'<testcase classname="m" name="t{i}{"x" * 400}"><failure message="boom {i}"/></testcase>'
        for i in range(MAX_FAILURES + 50)
    )
    results = parse_junit(f"<testsuites><testsuite>{cases}</testsuite></testsuites>".encode())
    assert isinstance(results, SuiteResults)
    assert len(results.failures) == MAX_FAILURES
    assert results.more_failures == 50
    assert results.failed_count == MAX_FAILURES + 50
    assert max(len(f.name) for f in results.failures) <= NAME_CHARS
    summary = failure_summary(results.failures, more=results.more_failures, limit=2000)
    assert len(summary) < 2100
    assert f"and {MAX_FAILURES + 50 - summary.count(chr(10) + '- m::')} more" in summary


def test_junit_from_other_runners_with_namespaces_and_nested_suites() -> None:
    xml = (
        b'<testsuites xmlns="urn:x"><testsuite name="outer"><testsuite name="inner">'
        b'<testcase classname="CalcTest" name="adds"/>'
        b'<testcase classname="CalcTest" name="subs"><failure>expected 2 but was 4\n'
        b"  at CalcTest.subs(CalcTest.java:12)</failure></testcase>"
        b"</testsuite></testsuite></testsuites>"
    )
    failed = _failures(parse_junit(xml))
    assert failed == {
        "CalcTest::subs": "expected 2 but was 4\n  at CalcTest.subs(CalcTest.java:12)"
    }


def test_go_test_text_names_tests_subtests_and_packages_that_did_not_build() -> None:
    failed = _failures(parse_go_text(_text("go_text.txt")))
    assert set(failed) == {
        "example.com/calc.TestSub",
        "example.com/calc.TestTable",
        "example.com/calc.TestTable/negative",
        "example.com/calc/broken (package)",
    }
    assert failed["example.com/calc.TestSub"] == "calc_test.go:14: Sub(3, 1) = 4; want 2"
    assert "undefined: missingFunc" in failed["example.com/calc/broken (package)"]


def test_go_test_json_names_failures_with_their_output_and_counts_passes() -> None:
    results = parse_go_json(_text("go_json.txt"))
    failed = _failures(results)
    assert set(failed) == {"example.com/calc.TestSub", "example.com/calc/broken (package)"}
    assert failed["example.com/calc.TestSub"] == "calc_test.go:14: Sub(3, 1) = 4; want 2"
    assert "undefined: missingFunc" in failed["example.com/calc/broken (package)"]
    assert isinstance(results, SuiteResults) and results.passed == 1


def test_go_test_json_skips_broken_and_enormous_lines() -> None:
    text = _text("go_json.txt")
    mangled = '{"Action": "fail", "Test": \n{not json}\n' + '{"x": "' + "y" * 2_000_000 + '"}\n'
    assert _failures(parse_go_json(mangled + text)) == _failures(parse_go_json(text))
    assert parse_go_json("plain text\n{}\n[1, 2]\n") is None


@pytest.mark.parametrize("name", ["cargo.txt", "cargo_quiet.txt"])
def test_cargo_names_the_failing_test_with_its_panic(name: str) -> None:
    results = parse_cargo(_text(name))
    failed = _failures(results)
    assert list(failed) in (["crate1::tests::subtracts"], ["tests::subtracts"])
    detail = next(iter(failed.values()))
    assert "assertion `left == right` failed" in detail
    assert "left: 2" in detail
    assert "rust_begin_unwind" not in detail  # the backtrace is left out
    assert isinstance(results, SuiteResults) and results.passed == 1


def test_node_tap_names_subtests_by_path_and_leaves_out_todo_and_parents() -> None:
    results = parse_tap(_text("node_tap.txt"))
    failed = _failures(results)
    assert list(failed) == ["group > inner bad"]
    assert "1 !== 2" in failed["group > inner bad"]
    assert "Test.runInAsyncScope" not in failed["group > inner bad"]  # no stack
    assert isinstance(results, SuiteResults) and results.passed == 2


def test_perl_tap_keeps_its_diagnostics_and_honours_skip() -> None:
    failed = _failures(parse_tap(_text("perl_tap.txt")))
    assert list(failed) == ["second is three"]
    assert "expected: '3'" in failed["second is three"]


def test_pytest_short_summary_is_read_when_there_is_no_junit_file() -> None:
    results = parse_pytest_text(_text("pytest_output.txt"))
    failed = _failures(results)
    assert set(failed) == {
        "tests/test_calc.py::test_add",
        "tests/test_calc.py::TestGroup::test_even[1]",
        "tests/test_broken.py",
    }
    assert failed["tests/test_calc.py::test_add"] == "assert -1 == 5"
    assert isinstance(results, SuiteResults) and results.passed == 2


def test_read_results_prefers_the_junit_file_and_says_why_it_did_not() -> None:
    output = _text("pytest_output.txt")
    junit = read_results(output, (REPORTS / "pytest_junit.xml").read_bytes())
    assert junit is not None and junit.runner == "junit"
    fallback = read_results(output, b"<truncated")
    assert fallback is not None and fallback.runner == "pytest"
    assert "not well-formed" in fallback.note


@pytest.mark.parametrize(
    ("name", "runner"),
    [
        ("go_text.txt", "go"),
        ("go_json.txt", "go-json"),
        ("cargo.txt", "cargo"),
        ("node_tap.txt", "tap"),
        ("perl_tap.txt", "tap"),
        ("pytest_output.txt", "pytest"),
    ],
)
def test_read_results_recognises_each_runner_from_its_output(name: str, runner: str) -> None:
    found = read_results(_text(name))
    assert found is not None and found.runner == runner


@pytest.mark.parametrize(
    "output",
    [
        "",
        "npm ERR! Test failed.  See above for more details.\n",
        "  1 passing (4ms)\n  1 failing\n\n  1) adds:\n     AssertionError: 1 == 2\n",
        "ok\n" * 10_000,  # not TAP without a plan or version line
        "\x00\x01\x02" * 1000,
    ],
)
def test_output_in_no_known_format_has_no_per_test_results(output: str) -> None:
    assert read_results(output) is None


def test_a_huge_output_is_read_in_bounded_time_and_memory() -> None:
    lines = [f"--- FAIL: TestN{i} (0.00s)\n    x_test.go:1: boom {i}" for i in range(20_000)]
    results = parse_go_text("\n".join([*lines, "FAIL\texample.com/big\t1.0s"]))
    assert results is not None
    assert len(results.failures) == MAX_FAILURES
    assert results.failed_count == 20_000
