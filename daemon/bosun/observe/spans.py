"""The span helpers the gateway, the tool executor and the runner call (cheap when tracing is off).

OpenTelemetry itself is imported only by `tracing`, which the daemon loads when
`[observe.tracing] endpoint` is set; with tracing off every helper here is a no-op
context and nothing of the SDK is imported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bosun_protocol.entities import Task

from bosun.secrets import redact

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from bosun.observe.tracing import Tracing

_TEXT_LIMIT = 8000

_active: Tracing | None = None


def activate(tracing: Tracing | None) -> None:
    """Make `tracing` the daemon's (None: off)."""
    global _active
    _active = tracing


def active() -> Tracing | None:
    """The daemon's tracing, if on."""
    return _active


@contextlib.contextmanager
def attempt_span(
    run_id: int, task: Task, number: int, name: str = "bosun.attempt"
) -> Iterator[None]:
    """The attempt's span (`bosun.qa` for its QA check) when tracing is on."""
    tracing = _active
    if tracing is None:
        yield
        return
    with tracing.attempt(run_id, task, number, name):
        yield


class CallSpan:
    """What a call's span is told after the call (a no-op when tracing is off)."""

    def __init__(self, span: Span | None, capture: bool = False) -> None:
        self.span = span
        self.capture = capture

    def set(self, **attributes: Any) -> None:
        """Attributes by OpenTelemetry name (dots spelled as `__`)."""
        if self.span is None:
            return
        for key, value in attributes.items():
            if value is not None:
                self.span.set_attribute(key.replace("__", "."), value)

    def text(self, key: str, value: Callable[[], str]) -> None:
        """Prompt or answer text: only with capture_prompts (then made), redacted and cut."""
        if self.span is not None and self.capture:
            self.span.set_attribute(key, redact(value())[:_TEXT_LIMIT])

    def fail(self, kind: str, message: str) -> None:
        """Mark the call failed."""
        if self.span is not None:
            from opentelemetry.trace import Status, StatusCode

            self.span.set_attribute("error.type", kind)
            self.span.set_status(Status(StatusCode.ERROR, redact(message)[:500]))


@contextlib.contextmanager
def _call_span(name: str, attributes: dict[str, Any]) -> Iterator[CallSpan]:
    tracing = _active
    if tracing is None:
        yield CallSpan(None)
        return
    from opentelemetry.trace import SpanKind

    with tracing.tracer.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False,
        set_status_on_exception=False,
    ) as span:  # fmt: skip
        yield CallSpan(span, tracing.settings.capture_prompts)


def model_span(provider: str, model: str, role: str) -> contextlib.AbstractContextManager[CallSpan]:
    """A model call's span (GenAI conventions: `chat {model}`)."""
    short = model.partition(":")[2] or model
    return _call_span(
        f"chat {short}",
        {"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
         "gen_ai.request.model": short, "bosun.role": role},
    )  # fmt: skip


def tool_span(tool: str) -> contextlib.AbstractContextManager[CallSpan]:
    """A tool call's span (`execute_tool {name}`)."""
    return _call_span(
        f"execute_tool {tool}", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool}
    )


def model_retry(kind: str, error_class: str, message: str, tries: int, wait: float) -> None:
    """A failed try of a model call that will be tried again: an `exception` event (the
    OpenTelemetry convention for an exception recorded on a span) on the call's span,
    with the error's class as `error.type`. Called inside the call, whose span is current."""
    if _active is None:
        return
    from opentelemetry import trace

    trace.get_current_span().add_event(
        "exception",
        {"exception.type": error_class, "exception.message": redact(message)[:500],
         "exception.escaped": False, "error.type": kind, "bosun.retry.try": tries,
         "bosun.retry.wait_s": round(wait, 3)},
    )  # fmt: skip
