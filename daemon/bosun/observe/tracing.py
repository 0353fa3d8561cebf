"""OpenTelemetry traces: a span per run → task → attempt → model call / tool call.

Runs and tasks live longer than any coroutine, so their spans are opened and ended
from the board's events (a Store listener): a run's span when it is created and when
it ends, a task's span under it likewise. An attempt's span is the current span of the
attempt's coroutine (`attempt_span`), so the model calls (`model_span`, GenAI semantic
conventions: `chat {model}`) and tool calls (`tool_span`: `execute_tool {name}`) made in
it nest by themselves through the context. Spans go to an OTLP/HTTP exporter in
batches; with tracing off every helper is a no-op context. Prompt and answer text is
put on spans only with `capture_prompts`, redacted; secrets never.

The helpers the daemon's code calls are in `spans` (cheap when tracing is off).

A daemon that restarts mid-run starts new spans for the runs and tasks it picks up (the
old ones died with the process that held them).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from bosun_protocol.entities import Event, Run, RunState, Task, TaskState
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

from bosun.observe.settings import TracingSettings
from bosun.secrets import redact, register_secret

log = logging.getLogger(__name__)

_RUN_ENDS = {RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED}
_TASK_ENDS = {TaskState.COMPLETE, TaskState.ABANDONED}


class Tracing:
    """The daemon's tracer and the spans of the runs and tasks it watches."""

    def __init__(self, settings: TracingSettings, processor: SpanProcessor) -> None:
        self.settings = settings
        resource = Resource.create({"service.name": settings.service_name})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("bosun")
        self._runs: dict[int, Span] = {}
        self._tasks: dict[int, Span] = {}
        self._retried: dict[int, dict[str, Any]] = {}  # task → its Phoenix retry, for attempt n+1

    # --- runs and tasks, from the board ----------------------------------------------

    def _run_span(self, run_id: int, run: Run | None = None) -> Span:
        span = self._runs.get(run_id)
        if span is None:
            span = self.tracer.start_span("bosun.run", attributes={"bosun.run.id": run_id})
            if run is not None:
                span.set_attribute("bosun.run.objective", redact(run.objective[:300]))
            self._runs[run_id] = span
        return span

    def _task_span(self, run_id: int, task: Task) -> Span:
        span = self._tasks.get(task.id)
        if span is None:
            parent = trace.set_span_in_context(self._run_span(run_id))
            span = self.tracer.start_span(
                "bosun.task", context=parent,
                attributes={"bosun.run.id": run_id, "bosun.task.id": task.id,
                            "bosun.task.key": task.key, "bosun.task.profile": task.profile.value},
            )  # fmt: skip
            self._tasks[task.id] = span
        return span

    def on_board_event(self, event: Event, run: Run | None, task: Task | None) -> None:
        """Open and end run and task spans as the board says."""
        # Events after the end (a worktree removed) must not open the span again.
        if run is not None and not (run.state in _RUN_ENDS and run.id not in self._runs):
            span = self._run_span(run.id, run)
            if run.state in _RUN_ENDS:
                span.set_attribute("bosun.run.state", run.state.value)
                if run.state is not RunState.COMPLETED:
                    span.set_status(Status(StatusCode.ERROR, run.state.value))
                span.end()
                self._runs.pop(run.id, None)
        if task is not None and not (task.state in _TASK_ENDS and task.id not in self._tasks):
            span = self._task_span(task.run_id, task)
            phoenix = (event.data or {}).get("phoenix") if event.kind == "task.transition" else None
            if phoenix is not None:
                self._phoenix_retry(span, event, phoenix)
            if task.state in _TASK_ENDS:
                span.set_attribute("bosun.task.state", task.state.value)
                span.set_attribute("bosun.task.attempts", task.attempt)
                if task.state is TaskState.ABANDONED:
                    span.set_status(Status(StatusCode.ERROR, "abandoned"))
                span.end()
                self._tasks.pop(task.id, None)
                self._retried.pop(task.id, None)

    def _phoenix_retry(self, span: Span, event: Event, number: int) -> None:
        """Phoenix re-queued the task: an event on the task's span now (the failed
        attempt's span has ended), and the same on the next attempt's when it begins."""
        data = event.data or {}
        attributes = {"bosun.attempt": number, "bosun.phoenix.failures": data.get("failures", 0)}
        if data.get("after"):
            attributes["error.type"] = data["after"]  # the failed attempt's outcome
        span.add_event("bosun.phoenix.retry", attributes)
        if event.task_id is not None:
            self._retried[event.task_id] = attributes

    # --- attempts, model calls, tool calls ------------------------------------------

    @contextlib.contextmanager
    def attempt(
        self, run_id: int, task: Task, number: int, name: str = "bosun.attempt"
    ) -> Iterator[Span]:
        """The attempt's span (or its QA check's), current for the calls made inside."""
        parent = trace.set_span_in_context(self._task_span(run_id, task))
        with self.tracer.start_as_current_span(
            name, context=parent,
            attributes={"bosun.run.id": run_id, "bosun.task.id": task.id,
                        "bosun.attempt": number},
        ) as span:  # fmt: skip
            retry = self._retried.get(task.id)
            if retry is not None and retry["bosun.attempt"] == number and name == "bosun.attempt":
                span.add_event("bosun.phoenix.retry", self._retried.pop(task.id))
            yield span

    def close(self) -> None:
        """End what is still open (the daemon stops) and flush the exporter."""
        for span in [*self._tasks.values(), *self._runs.values()]:
            span.set_attribute("bosun.unfinished", True)
            span.end()
        self._tasks.clear()
        self._runs.clear()
        self.provider.shutdown()


def exporter_for(settings: TracingSettings, environ: Mapping[str, str]) -> SpanProcessor:
    """A batching processor over the OTLP/HTTP exporter the settings describe."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    headers = dict(settings.headers)
    for header, var in settings.secret_headers.items():
        value = environ.get(var)
        if value is None:
            log.warning("tracing: the secret variable %s (for %s) is not set", var, header)
            continue
        register_secret(value)
        headers[header] = value
    exporter = OTLPSpanExporter(
        endpoint=settings.endpoint, headers=headers, timeout=settings.export_timeout_s
    )
    return BatchSpanProcessor(exporter)
