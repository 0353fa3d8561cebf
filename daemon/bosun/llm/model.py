"""The one interface every model implements, and what each call knows about its caller."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from bosun.llm.messages import Delta, ModelRequest, ModelResponse

DeltaListener = Callable[[Delta], None]


class CallContext(BaseModel):
    """Who is calling: scripted and replayed models answer by (role, task key, attempt, turn).

    `attempt` and `turn` count from 1; `turn` is the call's number within the attempt.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = "coder"
    run_id: int | None = None
    task_id: int | None = None
    task_key: str = ""
    attempt: int = Field(default=1, ge=0)
    turn: int = Field(default=1, ge=0)

    def label(self) -> str:
        """The context in words, for error messages."""
        return (
            f"role={self.role} task={self.task_key or '-'} attempt={self.attempt} turn={self.turn}"
        )


class Model(ABC):
    """An async model: one request in, one response out, deltas streamed to a listener.

    Implementations make exactly one try; failures are raised as classified
    `bosun.llm.errors` (the retry layer decides what to do with them).
    """

    name: str  # "provider:model" as configured
    provider: str  # the provider part, which keys rate limits

    @abstractmethod
    async def complete(
        self,
        request: ModelRequest,
        ctx: CallContext,
        on_delta: DeltaListener | None = None,
    ) -> ModelResponse:
        """Answer `request` once."""

    async def aclose(self) -> None:  # noqa: B027 — most models hold nothing to close
        """Release connections."""
