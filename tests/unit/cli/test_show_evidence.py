"""`bosun show` prints the QA evidence that explains a verdict, not its first line."""

from __future__ import annotations

from bosun.cli import build_parser
from bosun.cli.run_commands import evidence_lines


def test_the_failing_assertion_deep_in_the_evidence_is_shown() -> None:
    evidence = (
        "ran: pytest -q\n" + "\n".join(f"line {i}" for i in range(10)) + "\nE   assert 1 == 2"
    )
    shown = evidence_lines(evidence)
    assert shown.splitlines()[-1] == "      E   assert 1 == 2"
    assert shown.splitlines()[0] == "      ran: pytest -q"


def test_long_evidence_is_cut_with_a_pointer_to_json() -> None:
    shown = evidence_lines("\n".join(f"l{i}" for i in range(100))).splitlines()
    assert len(shown) == 31
    assert shown[-1] == "      … 70 more lines (`bosun show --json`)"
    assert evidence_lines("") == "      (no evidence given)"


def test_run_takes_the_base_branch_the_detached_head_message_names() -> None:
    args = build_parser().parse_args(["run", "objective", "--base", "develop"])
    assert args.base == "develop"
