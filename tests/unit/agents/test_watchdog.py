"""The watchdog: repeats and error streaks get one warning, then the attempt is stopped."""

from __future__ import annotations

from bosun.agents.watchdog import Watchdog
from bosun.llm.messages import ToolCall


def _call(name: str = "read_file", **args: object) -> ToolCall:
    return ToolCall(id="c", name=name, arguments=args or {"path": "a.py"})


def test_the_same_call_is_warned_about_once_then_stops_the_attempt() -> None:
    dog = Watchdog(repeat_limit=3)
    assert dog.observe(_call(), None) is None
    assert dog.observe(_call(), None) is None
    nudge = dog.observe(_call(), None)
    assert nudge is not None and nudge.action == "nudge"
    assert "`read_file` was called 3 times with the same arguments" in nudge.seen
    assert '"path": "a.py"' in nudge.seen
    assert "The next such warning ends this attempt" in nudge.nudge_text()
    assert dog.observe(_call(), None) is None  # counting starts again after the warning
    assert dog.observe(_call(), None) is None
    stop = dog.observe(_call(), None)
    assert stop is not None and stop.action == "stop"
    assert stop.reason().startswith("looping: `read_file` was called 3 times")


def test_argument_order_does_not_hide_a_repeat_and_other_arguments_are_other_calls() -> None:
    dog = Watchdog(repeat_limit=3)
    dog.observe(ToolCall(id="1", name="grep", arguments={"a": 1, "b": 2}), None)
    dog.observe(ToolCall(id="2", name="grep", arguments={"b": 2, "a": 1}), None)
    assert dog.observe(ToolCall(id="3", name="grep", arguments={"a": 1, "b": 2}), None)
    other = Watchdog(repeat_limit=3)
    assert all(other.observe(_call(path=f"f{i}.py"), None) is None for i in range(50))


def test_repeats_far_apart_are_not_a_loop() -> None:
    dog = Watchdog(repeat_limit=3, window=12)
    for i in range(40):
        call = _call() if i % 10 == 0 else _call(path=f"f{i}.py")
        assert dog.observe(call, None) is None


def test_the_same_error_in_a_row_is_a_loop_but_an_edit_between_test_runs_is_not() -> None:
    failing = "exit code 1 after 0.42 s\nFAILED test_x.py::test_y - assert 1 == 2"
    dog = Watchdog(error_limit=4)
    for i in range(20):  # edit, then test: the edits succeed, the streak never builds
        assert dog.observe(_call("write_file", path="x.py", content=str(i)), None) is None
        assert dog.observe(_call("run_command", command=f"pytest -k t{i}"), failing) is None
    stuck = Watchdog(error_limit=4)
    seen = [
        stuck.observe(
            _call("run_command", command=f"pytest -x{i}"), failing.replace("0.42", str(i))
        )
        for i in range(4)
    ]
    assert seen[:3] == [None, None, None]
    assert seen[3] is not None and seen[3].action == "nudge"
    assert "the same error came back from 4 calls in a row" in seen[3].seen


def test_limits_of_zero_turn_the_watchdog_off() -> None:
    dog = Watchdog(repeat_limit=0, error_limit=0)
    assert all(dog.observe(_call(), "boom") is None for _ in range(100))


def test_a_tasks_scope_is_the_neighbourhood_of_the_paths_it_names() -> None:
    from bosun.agents.progress import out_of_scope, scope_roots

    text = "Fix daemon/bosun/agents/watchdog.py (see docs/cost.md, tests/unit/agents/)."
    roots = scope_roots(text)
    assert roots == ["daemon/bosun/"]  # tests and docs say nothing of where
    changed = ["daemon/bosun/llm/x.py", "vendor/a.c", "tests/test_a.py", "docs/x.md", "x_test.go"]
    assert out_of_scope(changed, roots, text) == ["vendor/a.c"]
    assert scope_roots("Add a flag to setup.py") is None  # a top-level file: no narrower scope
    assert scope_roots("No paths, e.g. none at all, version 1.2.3") is None
    assert scope_roots("see https://example.invalid/a/b/c") is None


def test_spend_far_above_the_runs_median_is_seen_only_after_enough_history() -> None:
    from bosun.agents.spend import RunSpend, SpendWatch

    run = RunSpend()
    first = SpendWatch(run, factor=4.0, min_calls=5, window=2)
    assert all(first.after_call(1_000) is None for _ in range(5))
    watch = SpendWatch(run, factor=4.0, min_calls=5, window=2)
    assert watch.after_call(9_000) is None  # one call is not a rate
    seen = watch.after_call(9_000)
    assert seen is not None and "9.0× the run's median call (1,000 tokens)" in seen
    off = SpendWatch(RunSpend(), factor=0.0, min_calls=1, window=1)
    assert off.after_call(1) is None and off.after_call(10**9) is None
