"""`bosun task deps TASK +DEP -DEP`: a -DEP is a dependency, not a flag."""

from __future__ import annotations

from bosun.cli import build_parser
from bosun.cli.plan_commands import rewrite_argv


def test_minus_and_plus_dependencies_become_remove_and_add() -> None:
    words = rewrite_argv(["-C", "/r", "task", "deps", "4/docs", "+api", "-draft", "--json"])
    assert words == ["-C", "/r", "task", "deps", "4/docs", "--add=api", "--remove=draft", "--json"]
    args = build_parser().parse_args(words)
    assert (args.task, args.add, args.remove, args.json) == ("4/docs", ["api"], ["draft"], True)


def test_other_commands_are_left_alone() -> None:
    words = ["resolve", "deps", "retry", "-g", "x"]  # a task whose key is "deps"
    assert rewrite_argv(words) == words
