"""QA's test gate: the task's test run against the base's, test by test where it can.

The gate asks "did the task add a failure?", not "is the suite green?": a project whose
suite is already red on the base (real projects often are) still lands unrelated work.
With per-test results on both sides a failure is new when its name does not fail on
the base; without them, a failing run passes the gate only when the base fails the
same way (same exit code), and the evidence says the comparison was by exit code only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bosun_protocol.entities import Verdict

from bosun.agents.api import CheckResult
from bosun.agents.suite_results import Failure, failure_summary, name_list

_SUMMARY_CHARS = 700  # with "QA failed: " and the note after it, within the 800 Phoenix keeps
_EVIDENCE_CHARS = 3800
_RAW_TAIL_CHARS = 1500
_NOTABLE = re.compile(r"(?i)\b(error|assert\w*|fail\w*|expected|panic\w*|exception)\b")
_NOTABLE_LINES = 6


@dataclass
class GateOutcome:
    """The gate's verdict and what the next attempt should read when it failed."""

    verdict: Verdict
    summary: str = ""
    new_failures: list[Failure] = field(default_factory=list)
    already_failing: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the task's tests pass the gate."""
        return self.verdict.passed


def base_failures(base: CheckResult | None) -> list[str]:
    """Names failing on the base (empty when it is green or reports no names)."""
    if base is None or base.exit_code == 0 or base.results is None:
        return []
    return [f.name for f in base.results.failures]


def judge_tests(command: str, check: CheckResult, base: CheckResult | None) -> GateOutcome:
    """Judge the task's run `check` of `command` against the base's run `base`."""
    red_base = base is not None and base.exit_code not in (0, None) and base.cannot_run is None
    criterion = (
        f"no new test failures (`{command}`)"
        if red_base
        else f"the project's tests pass (`{command}`)"
    )
    old = base_failures(base) if red_base else []
    new, how = _new_failures(check, base if red_base else None)
    passed = check.exit_code == 0 or (red_base and not new and how != "worse")
    parts = [f"exit code: {check.exit_code}" if check.exit_code is not None else "timed out"]
    if new:
        parts.append(failure_summary(new, limit=_EVIDENCE_CHARS // 2, heading="new failing"))
    if how == "exit-code":
        parts.append(
            "(no per-test results: compared by exit code only; the base fails the same way)"
        )
    elif how == "worse":
        parts.append(f"the run failed without naming a failing test; {_base_said(base)}")
    if old:
        parts.append(f"already failing on the base: {len(old)} ({name_list(old)})")
    tail = check.output_tail[-(_RAW_TAIL_CHARS // 3 if new else _RAW_TAIL_CHARS) :]
    parts.append(f"--- output (end) ---\n{tail}")
    evidence = "\n".join(parts)[:_EVIDENCE_CHARS]
    summary = "" if passed else _summary(check, new, how, old)
    return GateOutcome(Verdict(criterion=criterion, passed=passed, evidence=evidence), summary,
                       new, old)  # fmt: skip


def _new_failures(check: CheckResult, base: CheckResult | None) -> tuple[list[Failure], str]:
    """The task's failures the base does not have, and how that was decided."""
    if check.exit_code == 0:
        return [], "green"
    mine = check.results
    if base is None:
        return (list(mine.failures) if mine else []), "no-base"
    theirs = base.results
    if mine is not None and theirs is not None and mine.runner == theirs.runner:
        known = theirs.names
        new = [f for f in mine.failures if f.name not in known]
        if new or mine.failed_count > 0 or check.exit_code == base.exit_code:
            return new, "per-test"
        return [], "worse"  # e.g. a collection error on a suite the base could collect
    if check.exit_code == base.exit_code:
        return [], "exit-code"
    return [], "worse"


def _base_said(base: CheckResult | None) -> str:
    if base is None:
        return "there is no base run to compare with"
    return f"the base exits {base.exit_code}"


def _summary(check: CheckResult, new: list[Failure], how: str, old: list[str]) -> str:
    if check.exit_code is None:
        return "the tests timed out; criteria not judged until they pass"
    if new:
        text = "the tests fail: " + failure_summary(new, limit=_SUMMARY_CHARS - 40)
    elif how == "worse":
        text = f"the tests fail (exit code {check.exit_code}) in a way the base does not"
    else:
        text = f"the tests fail (exit code {check.exit_code})"
    if not new:
        notable = notable_lines(check.output_tail)
        if notable:
            text += ":\n" + notable
    if old:
        text += f"\n(already failing on the base, not counted: {len(old)})"
    return text[:_SUMMARY_CHARS]


def notable_lines(output: str) -> str:
    """The lines of an unparsed output that say what went wrong (errors, assertions)."""
    found: list[str] = []
    for line in output.splitlines():
        text = line.strip()
        if text and _NOTABLE.search(text) and text not in found:
            found.append(text[:200])
    return "\n".join(found[-_NOTABLE_LINES:])
