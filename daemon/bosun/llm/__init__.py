"""bosun.llm: neutral messages, the `Model` interface, providers, retries, limits, cost.

Callers use `ModelGateway.complete(request, ctx)`; everything else is reachable for
tests and tools (doctor, replay).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the SDKs are slow to import; load on first use
    from bosun.llm.doctor import ModelCheck, check_models
    from bosun.llm.errors import (
        AuthenticationError,
        BadRequestError,
        ContextTooLongError,
        ModelError,
        QuotaExceededError,
        RateLimitError,
        ReplayDivergenceError,
        ScenarioError,
        TransientError,
        UnknownModelError,
    )
    from bosun.llm.gateway import ModelGateway
    from bosun.llm.messages import (
        ChatMessage,
        Delta,
        ModelRequest,
        ModelResponse,
        ToolCall,
        ToolSpec,
        Usage,
    )
    from bosun.llm.model import CallContext, DeltaListener, Model
    from bosun.llm.providers import secret_env_names
    from bosun.llm.recorder import CallRecorder, RecordingSource
    from bosun.llm.settings import LlmSettings

_WHERE = {
    "AuthenticationError": "bosun.llm.errors",
    "BadRequestError": "bosun.llm.errors",
    "CallContext": "bosun.llm.model",
    "CallRecorder": "bosun.llm.recorder",
    "ChatMessage": "bosun.llm.messages",
    "ContextTooLongError": "bosun.llm.errors",
    "Delta": "bosun.llm.messages",
    "DeltaListener": "bosun.llm.model",
    "LlmSettings": "bosun.llm.settings",
    "Model": "bosun.llm.model",
    "ModelCheck": "bosun.llm.doctor",
    "ModelError": "bosun.llm.errors",
    "ModelGateway": "bosun.llm.gateway",
    "ModelRequest": "bosun.llm.messages",
    "ModelResponse": "bosun.llm.messages",
    "QuotaExceededError": "bosun.llm.errors",
    "RateLimitError": "bosun.llm.errors",
    "RecordingSource": "bosun.llm.recorder",
    "ReplayDivergenceError": "bosun.llm.errors",
    "ScenarioError": "bosun.llm.errors",
    "ToolCall": "bosun.llm.messages",
    "ToolSpec": "bosun.llm.messages",
    "TransientError": "bosun.llm.errors",
    "UnknownModelError": "bosun.llm.errors",
    "Usage": "bosun.llm.messages",
    "check_models": "bosun.llm.doctor",
    "secret_env_names": "bosun.llm.providers",
}

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CallContext",
    "CallRecorder",
    "ChatMessage",
    "ContextTooLongError",
    "Delta",
    "DeltaListener",
    "LlmSettings",
    "Model",
    "ModelCheck",
    "ModelError",
    "ModelGateway",
    "ModelRequest",
    "ModelResponse",
    "QuotaExceededError",
    "RateLimitError",
    "RecordingSource",
    "ReplayDivergenceError",
    "ScenarioError",
    "ToolCall",
    "ToolSpec",
    "TransientError",
    "UnknownModelError",
    "Usage",
    "check_models",
    "secret_env_names",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'bosun.llm' has no attribute {name!r}")
