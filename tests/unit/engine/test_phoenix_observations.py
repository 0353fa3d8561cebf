"""Phoenix's retries observed: in the trace, an event on the task's span per retry with
the failed attempt's outcome as `error.type`, the attempts' spans beneath it (the SDK's
in-memory exporter); in the metrics, a count per failed outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.observe import spans
from bosun.observe.metrics import Metrics
from bosun.observe.settings import TracingSettings
from bosun.observe.tracing import Tracing
from bosun.tools.context import SubtaskSpec
from bosun_protocol.entities import Profile, RunState
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .scripted import EngineFactory, ScriptedRunner, Step, fail, finish, plan


@pytest.fixture
def traced() -> Iterator[tuple[InMemorySpanExporter, Tracing]]:
    """Tracing on, into memory; off again afterwards."""
    memory = InMemorySpanExporter()
    tracing = Tracing(TracingSettings(), SimpleSpanProcessor(memory))
    spans.activate(tracing)
    yield memory, tracing
    spans.activate(None)
    tracing.provider.shutdown()


def in_span(step: Step) -> Step:
    """The step inside its attempt's span, as the real runner runs an attempt."""

    async def run(req: AttemptRequest) -> AttemptReport:
        with spans.attempt_span(req.run.id, req.task, req.attempt):
            return await step(req)

    return run


async def test_each_phoenix_retry_is_a_task_span_event_and_counted_with_what_failed(
    harness: EngineFactory, traced: tuple[InMemorySpanExporter, Tracing]
) -> None:
    memory, tracing = traced
    runner = ScriptedRunner(
        steps={"director": [plan(SubtaskSpec(key="x", title="x", profile=Profile.CODER))],
               "x": [in_span(fail("boom")), in_span(finish())]},
        qa_fail={"x": 1},  # attempt 2 finishes and fails QA; attempt 3 passes
    )  # fmt: skip
    h = await harness(runner)
    metrics = Metrics()
    listening = [
        h.store.subscribe(tracing.on_board_event),
        h.store.subscribe(metrics.on_board_event),
    ]
    try:
        run = await h.run()
        await h.wait_run(run.id, {RunState.COMPLETED})
    finally:
        for unsubscribe in listening:
            unsubscribe()
    x = await h.store.get_task_by_key(run.id, "x")
    finished = memory.get_finished_spans()
    (task_span,) = [s for s in finished if s.name == "bosun.task"
                    and s.attributes and s.attributes["bosun.task.id"] == x.id]  # fmt: skip
    retries = [
        dict(e.attributes or {}) for e in task_span.events if e.name == "bosun.phoenix.retry"
    ]
    assert retries == [
        {"bosun.attempt": 2, "bosun.phoenix.failures": 1, "error.type": "error"},
        {"bosun.attempt": 3, "bosun.phoenix.failures": 2, "error.type": "qa_failed"},
    ]
    # …and the same event on the attempt it started, under that task span.
    attempts = [s for s in finished if s.name == "bosun.attempt"]
    on_attempts = {
        int(str((s.attributes or {})["bosun.attempt"])): [
            dict(e.attributes or {}) for e in s.events
        ]
        for s in attempts
    }
    assert on_attempts == {1: [], 2: [retries[0]], 3: [retries[1]]}
    assert task_span.context is not None
    assert all(s.parent is not None and s.parent.span_id == task_span.context.span_id
               for s in attempts)  # fmt: skip
    for outcome in ("error", "qa_failed"):
        counted = metrics.registry.get_sample_value(
            "bosun_phoenix_retries_total", {"outcome": outcome}
        )
        assert counted == 1, outcome
