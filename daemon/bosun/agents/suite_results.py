"""What a test run said, test by test: the failures QA compares with the base's.

A test command's results are read, in order of trust, from a JUnit XML file it wrote
(pytest, through `--junitxml`), or from its output as `go test -json`, `go test`,
`cargo test`, TAP (node --test, tape, prove) or pytest's short summary print them.
When none of them matches, the run has no per-test results and only its exit code
counts. Every reader is bounded: names, details and the number of failures kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_FAILURES = 5000  # kept per run; more are counted, not named
NAME_CHARS = 300
DETAIL_CHARS = 600
DETAIL_LINES = 8


@dataclass(frozen=True)
class Failure:
    """One failing test: its name as the runner gives it, and the lines saying why."""

    name: str
    detail: str = ""


@dataclass
class SuiteResults:
    """Per-test results of one run of the test command."""

    runner: str  # "junit", "go-json", "go", "cargo", "tap", "pytest"
    failures: list[Failure] = field(default_factory=list)
    passed: int | None = None  # None: the format does not list passing tests
    more_failures: int = 0  # failures beyond MAX_FAILURES, counted only
    note: str = ""  # why a better source was not used (a malformed JUnit file…)

    @property
    def failed_count(self) -> int:
        """Every failure seen, named or only counted."""
        return len(self.failures) + self.more_failures

    @property
    def names(self) -> set[str]:
        """The names of the failures kept."""
        return {f.name for f in self.failures}

    @property
    def ran(self) -> int | None:
        """Tests run (passed + failed) when the format counts passing ones."""
        return None if self.passed is None else self.passed + self.failed_count


class FailureCollector:
    """Failures in the order seen, one per name, bounded in number and size."""

    def __init__(self) -> None:
        self.failures: dict[str, Failure] = {}
        self.more = 0

    def add(self, name: str, detail: str = "") -> None:
        """Record a failure (a second one of the same name keeps the first detail)."""
        name = " ".join(name.split())[:NAME_CHARS] or "(unnamed test)"
        if name in self.failures:
            return
        if len(self.failures) >= MAX_FAILURES:
            self.more += 1
            return
        self.failures[name] = Failure(name, clip_detail(detail))

    def results(self, runner: str, passed: int | None, note: str = "") -> SuiteResults:
        """The collected failures as results of `runner`."""
        return SuiteResults(runner, list(self.failures.values()), passed, self.more, note)


def clip_detail(text: str) -> str:
    """The first meaningful lines of a failure's text, bounded."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    shown = "\n".join(lines[:DETAIL_LINES])
    if len(lines) > DETAIL_LINES:
        shown += "\n…"
    return shown if len(shown) <= DETAIL_CHARS else shown[: DETAIL_CHARS - 1] + "…"


def failure_summary(
    failures: list[Failure], *, more: int = 0, limit: int = 3000, heading: str = "failing"
) -> str:
    """Failing tests with their assertion lines, as a person (or the next attempt) reads it."""
    total = len(failures) + more
    if total == 0:
        return ""
    lines = [f"{total} {heading}:"]
    used = len(lines[0])
    shown = 0
    for failure in failures:
        entry = f"- {failure.name}"
        if failure.detail:
            entry += "\n" + "\n".join(f"    {line}" for line in failure.detail.splitlines())
        if used + len(entry) + 1 > limit and shown:
            break
        lines.append(entry[: max(limit - used, 80)])
        used += len(entry) + 1
        shown += 1
    if total > shown:
        lines.append(f"- … and {total - shown} more")
    return "\n".join(lines)


def name_list(names: list[str], *, limit: int = 10) -> str:
    """Up to `limit` names, comma-separated, with how many more."""
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")
