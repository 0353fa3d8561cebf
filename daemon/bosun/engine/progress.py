"""What the engine tells clients beyond board changes: prompts, answers, live transcript
text and run progress — as domain facts, through the `Notifier` port.

The engine knows no client protocol: the presenter beside the transports
(`bosun.server.presenter.HubNotifier`) turns these facts into plain-LSP progress and
prompts and rich `bosun/*` notifications; `bosun acp` translates the `bosun/*` stream
into ACP session updates. `EngineView` is what a presenter may read of the engine's live
state to catch up a client that connects late.
"""

from __future__ import annotations

from typing import Protocol

from bosun_protocol.engine import HumanPrompt, PromptResolved, TranscriptDelta
from bosun_protocol.entities import Run, Task


class Notifier(Protocol):
    """Where the engine's own notifications go."""

    def prompt_opened(self, prompt: HumanPrompt, task: Task | None, seq: int) -> None: ...

    def prompt_resolved(self, note: PromptResolved) -> None: ...

    def run_progress(self, run: Run, counts: dict[str, int]) -> None: ...

    def transcript_delta(self, delta: TranscriptDelta) -> None: ...


class NullNotifier:
    """Tells no one (tests and benchmarks without clients)."""

    def prompt_opened(self, prompt: HumanPrompt, task: Task | None, seq: int) -> None:
        """Nothing."""

    def prompt_resolved(self, note: PromptResolved) -> None:
        """Nothing."""

    def run_progress(self, run: Run, counts: dict[str, int]) -> None:
        """Nothing."""

    def transcript_delta(self, delta: TranscriptDelta) -> None:
        """Nothing."""


class EngineView(Protocol):
    """What a client that connects late is caught up with (the engine's live state)."""

    def open_prompts(self) -> list[HumanPrompt]: ...

    def live_runs(self) -> list[tuple[Run, dict[str, int]]]: ...

    async def task(self, task_id: int) -> Task | None: ...
