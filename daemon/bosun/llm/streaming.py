"""What both SDK adapters share: one streamed try, with failures classified."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import Any

from bosun.llm.assembly import StreamAssembler
from bosun.llm.classify import classify
from bosun.llm.errors import TransientError
from bosun.llm.messages import ModelRequest, ModelResponse
from bosun.llm.model import CallContext, DeltaListener, Model


class StreamingModel(Model):
    """A provider adapter: opens a stream, feeds its items to an assembler, classifies errors."""

    def __init__(
        self,
        name: str,
        *,
        provider: str,
        model_id: str,
        api_key: str,
        base_url: str | None,
        timeout: float,
        key_setting: str,
        prompt_cache: bool = True,
    ) -> None:
        self.name = name
        self.prompt_cache = prompt_cache  # mark cacheable prefixes where the API wants it
        self.provider = provider
        self.model_id = model_id
        self.key_setting = key_setting
        self.client = self.make_client(api_key, base_url, timeout)

    @abstractmethod
    def make_client(self, api_key: str, base_url: str | None, timeout: float) -> Any:
        """The SDK client, with the SDK's own retries off (ours are the only ones)."""

    @abstractmethod
    async def open_stream(self, request: ModelRequest) -> Any:
        """Send the request; the SDK's async stream of chunks or events."""

    @abstractmethod
    def absorb(self, asm: StreamAssembler, item: Any) -> bool:
        """Take one streamed item in; whether it completed the answer."""

    async def complete(
        self, request: ModelRequest, ctx: CallContext, on_delta: DeltaListener | None = None
    ) -> ModelResponse:
        """Stream one answer; a stream that ends early is a transient failure."""
        asm = StreamAssembler(on_delta)
        finished = False
        try:
            stream = await self.open_stream(request)
            try:
                async for item in stream:
                    finished = self.absorb(asm, item) or finished
            finally:
                await stream.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = classify(
                exc,
                provider=self.provider,
                key_setting=self.key_setting,
                partial=asm.partial_text(),
            )
            if error is None:
                raise
            raise error from exc
        if not finished:
            raise TransientError(
                f"{self.provider} stream ended before the answer was complete",
                provider=self.provider,
                partial=asm.partial_text(),
            )
        return asm.result(self.name)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.client.close()
