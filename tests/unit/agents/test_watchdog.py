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
    assert "The next repeat ends this attempt" in nudge.nudge_text()
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
