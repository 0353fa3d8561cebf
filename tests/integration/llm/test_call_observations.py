"""What a model call tells the metrics and the traces, through both real SDKs against a fake
server: the first-token latency as streamed, and each retried failure by its class."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.observe import hooks, spans
from bosun.observe.metrics import Metrics
from bosun.observe.settings import TracingSettings
from bosun.observe.tracing import Tracing
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import fake_settings, provider_of
from tests.fakes.replies import FakeProvider, fault, text

CTX = CallContext(role="coder", task_key="t1")
REQUEST = ModelRequest(messages=[ChatMessage.user("hello")], max_tokens=64)


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    """Metrics observing every call, as the daemon's endpoint does."""
    observed = Metrics()
    remove = hooks.add_observer(observed)
    yield observed
    remove()


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory; off again afterwards."""
    memory = InMemorySpanExporter()
    tracing = Tracing(TracingSettings(), SimpleSpanProcessor(memory))
    spans.activate(tracing)
    yield memory
    spans.activate(None)
    tracing.provider.shutdown()


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_first_token_latency_is_the_wait_for_the_first_streamed_chunk_and_tokens_count(
    fake: FakeProvider, gateway: ModelGateway, metrics: Metrics
) -> None:
    fake.push(text("a slow start, then a long answer", first_token_delay=0.2, input_tokens=40,
                   cached_tokens=30, output_tokens=9))  # fmt: skip
    await gateway.complete(REQUEST, CTX)
    labels = {"provider": provider_of(fake), "model": f"{provider_of(fake)}:fake-model"}
    tokens = {kind: _value(metrics, "bosun_model_tokens_total", **labels, role="coder", kind=kind)
              for kind in ("input", "cached", "output")}  # fmt: skip
    assert tokens == {"input": 40, "cached": 30, "output": 9}
    assert _value(metrics, "bosun_model_first_token_seconds_count", **labels) == 1
    first = _value(metrics, "bosun_model_first_token_seconds_sum", **labels)
    whole = _value(metrics, "bosun_model_call_duration_seconds_sum", **labels)
    assert 0.2 <= first <= whole


async def test_a_retried_failure_is_an_exception_event_on_the_call_span_and_counted_by_class(
    fake: FakeProvider, gateway: ModelGateway, metrics: Metrics, exporter: InMemorySpanExporter
) -> None:
    fake.push(fault("server"), fault("rate_limit"), text("fine at last"))
    response = await gateway.complete(REQUEST, CTX)
    assert response.text == "fine at last"
    (chat,) = exporter.get_finished_spans()
    assert chat.name == "chat fake-model"
    retried = [e for e in chat.events if e.name == "exception"]
    assert [e.attributes["error.type"] for e in retried if e.attributes] == [
        "transient",
        "rate_limit",
    ]
    first = retried[0].attributes
    assert first is not None
    assert first["exception.type"] == "TransientError" and first["bosun.retry.try"] == 1
    assert first["exception.escaped"] is False
    assert _value(metrics, "bosun_model_retries_total", kind="transient") == 1
    assert _value(metrics, "bosun_model_retries_total", kind="rate_limit") == 1


async def test_reasoning_tokens_are_counted_apart_as_the_provider_reports_them(
    metrics: Metrics,
) -> None:
    async with FakeOpenAI() as fake:  # OpenAI reports them apart (Anthropic's are estimated)
        gateway = ModelGateway(fake_settings(fake))
        fake.push(text("thought about it", output_tokens=50, reasoning_tokens=32))
        await gateway.complete(REQUEST, CTX)
        await gateway.aclose()
    labels = {"provider": "openai", "model": "openai:fake-model", "role": "coder"}
    assert _value(metrics, "bosun_model_tokens_total", **labels, kind="reasoning") == 32
    assert _value(metrics, "bosun_model_tokens_total", **labels, kind="output") == 50
