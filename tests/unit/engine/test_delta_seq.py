"""Live transcript deltas are numbered per attempt so a client can see a lost one."""

from __future__ import annotations

from bosun.engine.progress import NullNotifier
from bosun.engine.service import _delta_sink
from bosun_protocol.engine import TranscriptDelta


class Recorder(NullNotifier):
    """Keeps every delta the sink sends."""

    def __init__(self) -> None:
        self.deltas: list[TranscriptDelta] = []

    def transcript_delta(self, delta: TranscriptDelta) -> None:
        self.deltas.append(delta)


def test_deltas_count_from_one_per_attempt_and_per_task() -> None:
    notifier = Recorder()
    sink = _delta_sink(notifier)
    for task_id, attempt, text in [(1, 1, "a"), (1, 1, "b"), (2, 1, "c"), (1, 1, "d")]:
        sink(task_id, attempt, text)
    sink(1, 2, "e")  # attempt 2 starts again at 1
    sink(1, 2, "f")
    got = [(d.task_id, d.attempt, d.seq, d.delta) for d in notifier.deltas]
    assert got == [
        (1, 1, 1, "a"),
        (1, 1, 2, "b"),
        (2, 1, 1, "c"),
        (1, 1, 3, "d"),
        (1, 2, 1, "e"),
        (1, 2, 2, "f"),
    ]


def test_empty_chunks_are_not_sent_and_take_no_number() -> None:
    notifier = Recorder()
    sink = _delta_sink(notifier)
    sink(1, 1, "")
    sink(1, 1, "x")
    assert [d.seq for d in notifier.deltas] == [1]
