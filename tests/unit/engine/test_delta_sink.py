"""The daemon's live transcript deltas: numbered per attempt so a client can see a lost
one, and the "message stored" marker (a chunk with a message id and no text) sent in that
count, so a live view can swap the text it streamed for the stored message."""

from __future__ import annotations

from bosun.agents.transcript import TranscriptChunk
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


def test_stored_markers_without_text_are_forwarded_in_the_gapless_count() -> None:
    notifier = Recorder()
    sink = _delta_sink(notifier)
    sink(1, 1, TranscriptChunk("assistant", "Reading the README."))
    sink(1, 1, TranscriptChunk("assistant", "", message_id=15))  # the marker
    sink(1, 1, TranscriptChunk("tool", "\n[read_file] # Sample\n", message_id=16))
    sink(1, 1, TranscriptChunk("system", "", message_id=17))
    got = [(d.seq, d.role, d.delta, d.message_id) for d in notifier.deltas]
    assert got == [
        (1, "assistant", "Reading the README.", None),
        (2, "assistant", "", 15),
        (3, "tool", "\n[read_file] # Sample\n", 16),
        (4, "system", "", 17),
    ]


def test_a_marker_is_a_valid_wire_delta_with_an_empty_text() -> None:
    notifier = Recorder()
    _delta_sink(notifier)(3, 2, TranscriptChunk("assistant", "", message_id=9))
    [marker] = notifier.deltas
    wire = marker.model_dump(mode="json", by_alias=True)
    assert wire == {
        "taskId": 3,
        "attempt": 2,
        "role": "assistant",
        "delta": "",
        "messageId": 9,
        "seq": 1,
    }
    assert TranscriptDelta.model_validate(wire) == marker


def test_chunks_with_neither_text_nor_message_id_are_not_sent_and_take_no_number() -> None:
    notifier = Recorder()
    sink = _delta_sink(notifier)
    sink(1, 1, TranscriptChunk("assistant", ""))
    sink(1, 1, TranscriptChunk("assistant", "", message_id=4))
    assert [(d.seq, d.message_id) for d in notifier.deltas] == [(1, 4)]
