"""`bosun demo` end to end, as a user runs it: a subprocess, a real daemon, under 60 s."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

pytest.importorskip("bosun.engine.service")  # the demo needs the engine in the daemon


def test_demo_completes_with_a_phoenix_retry_and_a_human_answer() -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "bosun", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["run"]["state"] == "completed"
    tasks = {t["key"]: t for t in summary["tasks"]}
    assert set(tasks) == {"director", "plan", "slugify", "top-words", "readme"}
    assert all(t["state"] == "complete" for t in tasks.values())
    assert tasks["top-words"]["attempts"] == ["qa_failed", "qa_passed"]
    assert tasks["readme"]["attempts"][-1] == "qa_passed"
    assert len(tasks["readme"]["attempts"]) == 2
    assert "HUMAN NEEDED" in proc.stderr  # live progress goes to stderr with --json
    assert "wordkit/frequency.py" in summary["landedFiles"]
    # One commit per task that changed files (squashed: top-words' failed attempt is not
    # in the history), each named after its task.
    subjects = [line.split()[1] for line in summary["runBranchLog"].splitlines()]
    assert sorted(subjects) == ["director:", "readme:", "slugify:", "top-words:"]
    assert took < 60, f"the demo took {took:.1f} s"


def test_interactive_demo_takes_the_answer_from_the_terminal_and_prints_a_summary() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bosun", "demo", "--interactive"],
        input="Plain code blocks, and keep them short.\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "your answer" in out
    assert "answered: retry (Plain code blocks, and keep them short.)" in out
    assert "=== bosun demo: run 1 completed" in out
    assert "top-words" in out and "1: qa_failed, 2: qa_passed" in out
    assert "landed on main:" in out
    assert "run branch bosun/run-1:" in out
