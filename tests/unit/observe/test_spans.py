"""Span helpers with the SDK's in-memory exporter: prompt text only when opted in, redacted; failures marked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bosun.observe import spans
from bosun.observe.settings import TracingSettings
from bosun.observe.tracing import Tracing
from bosun.secrets import clear_for_tests, register_secret
from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.settings import ToolSettings
from bosun_protocol.entities import Profile
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

SECRET = "sk-test-0123456789abcdef"


@pytest.fixture
def exported() -> Iterator[tuple[InMemorySpanExporter, Tracing]]:
    """Tracing on, into memory, with capture_prompts; off again afterwards."""
    exporter = InMemorySpanExporter()
    tracing = Tracing(TracingSettings(capture_prompts=True), SimpleSpanProcessor(exporter))
    spans.activate(tracing)
    register_secret(SECRET)
    yield exporter, tracing
    spans.activate(None)
    tracing.provider.shutdown()
    clear_for_tests()


def test_prompt_text_is_captured_only_when_opted_in_and_always_redacted(
    exported: tuple[InMemorySpanExporter, Tracing],
) -> None:
    exporter, tracing = exported
    with spans.model_span("openai", "openai:gpt-x", "coder") as span:
        span.text("gen_ai.input.messages", lambda: f"use the key {SECRET}")
        span.set(gen_ai__usage__input_tokens=12)
    tracing.settings = TracingSettings(capture_prompts=False)
    with spans.model_span("openai", "openai:gpt-x", "coder") as span:
        span.text("gen_ai.input.messages", lambda: pytest.fail("made though not captured"))
    first, second = exporter.get_finished_spans()
    assert first.name == "chat gpt-x"
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["gen_ai.input.messages"] == "use the key [REDACTED]"
    assert first.attributes["gen_ai.usage.input_tokens"] == 12
    assert "gen_ai.input.messages" not in second.attributes


async def test_a_failed_tool_call_is_an_error_span_named_after_the_tool(
    exported: tuple[InMemorySpanExporter, Tracing], tmp_path: Path
) -> None:
    exporter, _ = exported
    settings = ToolSettings()
    executor = ToolExecutor(build_registry(settings), Policy.from_settings(settings))
    ctx = ToolContext(run_id=1, task_id=2, attempt=1, worktree_path=tmp_path, branch="b",
                      profile=Profile.CODER, settings=settings)  # fmt: skip
    await executor.call(ctx, "read_file", {"path": "missing.txt"})
    await executor.call(ctx, "no_such_tool", {})
    read, unknown = exporter.get_finished_spans()
    assert read.name == "execute_tool read_file"
    assert read.status.status_code is StatusCode.ERROR
    assert read.attributes is not None and read.attributes["bosun.tool.outcome"] == "error"
    assert unknown.name == "execute_tool (unknown)"  # a model's invented name is not a span name


def test_with_tracing_off_the_helpers_do_nothing() -> None:
    assert spans.active() is None
    with spans.tool_span("read_file") as span:
        span.set(a=1)
        span.fail("error", "x")
    assert span.span is None
