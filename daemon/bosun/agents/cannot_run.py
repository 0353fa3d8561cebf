"""Telling "the tests could not run" from "the tests failed".

A test command that is missing, not executable, or whose runner is not installed
(`No module named pytest`, `sh: 1: xo: not found` inside an npm script, `make: *** No
rule to make target 'test'`) says nothing about the work: no attempt can fix it, so it
must not burn one. The signs are read only from a run that produced no per-test
results; once tests ran, a missing tool inside one of them is that test's failure.
"""

from __future__ import annotations

import re

_NOT_EXECUTABLE = 126
_NOT_FOUND = 127
_TAIL_CHARS = 1500

# `python -m pytest` with no pytest installed prints "<python>: No module named pytest".
_NO_RUNNER_MODULE = re.compile(r"^\S*python[\d.]*: No module named ([\w.]+)", re.M)
_RUNNERS = r"pytest|_pytest|tox|nox|nose2?|coverage|hatch|poetry|unittest|pip"
_RUNNER_IMPORT = re.compile(rf"ModuleNotFoundError: No module named '({_RUNNERS})'")
# dash: "sh: 1: xo: not found"; bash: "bash: line 1: xo: command not found"; make too.
_SHELL_NOT_FOUND = re.compile(
    r"^(?:\S*sh|make(?:\[\d+\])?)(?:: line \d+| \d+)?:(?: \d+:)? ([^\s:]+): "
    r"(?:command not found|not found|No such file or directory)",
    re.M,
)
_MAKE_NO_RULE = re.compile(r"^make(?:\[\d+\])?: \*\*\* No rule to make target '([^']+)'", re.M)
_NPM_NO_SCRIPT = re.compile(r"^npm (?:ERR!|error) Missing script: \"?(\w+)", re.M | re.I)
_SPAWN_ENOENT = re.compile(r"Error: spawn (\S+) ENOENT")


def cannot_run_reason(exit_code: int | None, output: str, *, had_results: bool) -> str | None:
    """Why the command could not run the tests at all, or None when they ran (or failed)."""
    if had_results or exit_code == 0 or exit_code is None:
        return None
    for pattern, say in (
        (_NO_RUNNER_MODULE, "the test runner is not installed: No module named {}"),
        (_RUNNER_IMPORT, "the test runner is not installed: No module named '{}'"),
        (_SHELL_NOT_FOUND, "a command it needs is missing: `{}` not found"),
        (_MAKE_NO_RULE, "make has no rule for `{}`"),
        (_NPM_NO_SCRIPT, "package.json has no `{}` script"),
        (_SPAWN_ENOENT, "a program it starts is missing: `{}`"),
    ):
        found = pattern.search(output)
        if found:
            return say.format(found.group(1))
    if exit_code == _NOT_FOUND:
        return "the command was not found (exit 127)"
    if exit_code == _NOT_EXECUTABLE:
        return "the command is not executable (exit 126)"
    return None


def output_excerpt(output: str) -> str:
    """The end of a run's output, for a person deciding what is wrong with the set-up."""
    text = output.strip()
    return text if len(text) <= _TAIL_CHARS else "…" + text[-_TAIL_CHARS:]
