"""`bosun doctor`'s model checks: one tiny request per model, latency or the reason."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from bosun.errors import BosunError
from bosun.llm.messages import ChatMessage, ModelRequest
from bosun.llm.model import CallContext
from bosun.llm.providers import build_model, split_name
from bosun.llm.retry import RetryingCaller
from bosun.llm.roles import configured_models
from bosun.llm.scenario import load_scenario
from bosun.llm.settings import LlmSettings

PROBE = ModelRequest(messages=[ChatMessage.user("Reply with the single word: ok")], max_tokens=8)


class ModelCheck(BaseModel):
    """The outcome of checking one model."""

    model_config = ConfigDict(extra="forbid")

    model: str
    ok: bool
    latency_ms: float | None = None
    kind: str | None = None  # the error's classification when not ok
    message: str = ""


async def _check_one(name: str, settings: LlmSettings, env: Mapping[str, str] | None) -> ModelCheck:
    try:
        provider, ref = split_name(name)
        if provider == "scripted":
            scenario = load_scenario(ref)
            return ModelCheck(
                model=name,
                ok=True,
                message=f"scenario {scenario.name}: {len(scenario.reply)} replies",
            )
        if provider == "replay":
            return ModelCheck(model=name, ok=True, message="replays a recorded run (not probed)")
        model = build_model(name, settings, env=env)
    except BosunError as exc:
        return ModelCheck(
            model=name, ok=False, kind=exc.data.get("kind", "config"), message=exc.message
        )
    # One try, short deadline: doctor reports the first failure instead of waiting it out.
    retry = settings.retry.model_copy(
        update={
            "max_attempts": 1,
            "first_token_timeout": min(30.0, settings.retry.first_token_timeout),
        }
    )
    started = time.monotonic()
    try:
        response = await RetryingCaller(retry).call(model, PROBE, CallContext(role="doctor"))
    except BosunError as exc:
        return ModelCheck(
            model=name, ok=False, kind=exc.data.get("kind", "error"), message=exc.message
        )
    finally:
        await model.aclose()
    ms = round((time.monotonic() - started) * 1000, 1)
    said = response.text.strip()[:40] or "(no text)"
    return ModelCheck(model=name, ok=True, latency_ms=ms, message=f"answered {said!r} in {ms:g} ms")


async def check_models(
    settings: LlmSettings,
    models: list[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> list[ModelCheck]:
    """Check `models` (default: every model the config names), all at once."""
    names = models or configured_models(settings)
    return list(await asyncio.gather(*(_check_one(n, settings, env) for n in names)))
