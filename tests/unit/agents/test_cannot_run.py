"""Telling "the tests could not run" from "the tests failed", on real runners' messages."""

from __future__ import annotations

import pytest
from bosun.agents.cannot_run import cannot_run_reason


@pytest.mark.parametrize(
    ("code", "output", "reason"),
    [
        (1, "/usr/bin/python3: No module named pytest\n", "No module named pytest"),
        (1, "ModuleNotFoundError: No module named 'pytest'\n", "No module named 'pytest'"),
        (1, "> pkg@1.0.0 test\n> xo && ava\n\nsh: 1: xo: not found\n", "`xo` not found"),
        (127, "bash: line 1: pytest: command not found\n", "`pytest` not found"),
        (
            2,
            "make: pytest: No such file or directory\nmake: *** [Makefile:3: test] Error 127\n",
            "`pytest` not found",
        ),
        (2, "make: *** No rule to make target 'test'.  Stop.\n", "no rule for `test`"),
        (1, 'npm error Missing script: "test"\n', "no `test` script"),
        (1, "Error: spawn jest ENOENT\n", "`jest`"),
        (127, "something else entirely\n", "exit 127"),
        (126, "permission denied\n", "exit 126"),
    ],
)
def test_a_missing_runner_or_tool_is_named(code: int, output: str, reason: str) -> None:
    found = cannot_run_reason(code, output, had_results=False)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    ("code", "output", "had_results"),
    [
        # A failing test whose own code imports something missing: the suite ran.
        (1, "E   ModuleNotFoundError: No module named 'requests'\n1 failed\n", False),
        # Tests ran and one shells out to a missing tool: that test's failure.
        (1, "sh: 1: convert: not found\nFAILED tests/test_img.py::test_resize\n", True),
        (0, "sh: 1: xo: not found\n", False),  # a green run is green
        (None, "bash: pytest: command not found\n", False),  # timed out: not cannot-run
        (1, "AssertionError: expected 1 to equal 2\n", False),
    ],
)
def test_failures_and_green_runs_are_not_cannot_run(
    code: int | None, output: str, had_results: bool
) -> None:
    assert cannot_run_reason(code, output, had_results=had_results) is None
