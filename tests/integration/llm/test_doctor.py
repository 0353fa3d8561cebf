"""`check_models`: one tiny request per model, latency or the reason in plain words."""

from __future__ import annotations

from bosun.llm.doctor import check_models
from bosun.llm.settings import LlmSettings

from tests.fakes.llm_settings import fake_settings, provider_of
from tests.fakes.replies import FakeProvider, fault, text


async def test_a_healthy_model_reports_its_latency(fake: FakeProvider) -> None:
    fake.push(text("ok"))
    [check] = await check_models(fake_settings(fake), env={})
    assert check.ok
    assert check.latency_ms is not None
    assert check.latency_ms > 0
    assert check.model == f"{provider_of(fake)}:fake-model"
    assert len(fake.requests) == 1


async def test_a_refused_key_is_reported_classified_without_retrying(fake: FakeProvider) -> None:
    fake.push(fault("auth"), text("unreached"))
    [check] = await check_models(fake_settings(fake), env={})
    assert not check.ok
    assert check.kind == "authentication"
    assert "refused the API key" in check.message
    assert len(fake.requests) == 1


async def test_offline_and_misconfigured_models_are_reported_without_a_request() -> None:
    settings = LlmSettings(
        default_model="scripted:demo", roles={"coder": "anthropic:claude-sonnet-4-5"}
    )
    checks = await check_models(settings, env={})
    by_model = {c.model: c for c in checks}
    assert by_model["scripted:demo"].ok
    assert "scenario demo" in by_model["scripted:demo"].message
    missing = by_model["anthropic:claude-sonnet-4-5"]
    assert (missing.ok, missing.kind) == (False, "authentication")
    assert "ANTHROPIC_API_KEY" in missing.message
    [odd] = await check_models(settings, ["weird:model"], env={})
    assert odd.kind == "unknown_model"
