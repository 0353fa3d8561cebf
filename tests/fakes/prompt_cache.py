"""Providers' prompt caching, imitated closely enough to price a conversation.

Anthropic (explicit): a request marks up to four `cache_control` breakpoints; the prefix
up to each breakpoint (tools, then system, then messages, block by block) is written to
the cache when at least 1,024 tokens long, and lives five minutes from its last use. A
lookup at a breakpoint also tries the 20 block boundaries before it, so a breakpoint on
the previous request's last message still hits when the conversation grew past it.

OpenAI-style (automatic, as OpenAI, DeepSeek and many compatible servers do it): any
request of 1,024 tokens or more is cached; the part of a new request that repeats an
earlier one from its first character is read from the cache, in steps of 128 tokens.

Tokens are four characters here (the fakes' own rule; bosun's estimate is 3.5).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CHARS_PER_TOKEN = 4
MIN_TOKENS = 1024
_LOOKBACK = 20
_TTL_S = 300.0


def tokens(chars: int) -> int:
    """The fakes' token count of `chars` characters."""
    return max(1, chars // CHARS_PER_TOKEN) if chars else 0


@dataclass(frozen=True)
class CacheUsage:
    """What one request cost in input: all of it, what was read and what was written."""

    input_tokens: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0


def _unmarked(block: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True)


def _anthropic_blocks(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """The request as cache units in cache order: (canonical text, is a breakpoint)."""
    units: list[tuple[str, bool]] = []
    for tool in body.get("tools") or []:
        units.append((_unmarked(tool), "cache_control" in tool))
    system = body.get("system")
    if isinstance(system, str):
        units.append((json.dumps(system), False))
    elif system:
        units += [(_unmarked(block), "cache_control" in block) for block in system]
    for message in body.get("messages", []):
        content = message["content"]
        if isinstance(content, str):
            units.append((message["role"] + json.dumps(content), False))
            continue
        for block in content:
            units.append((message["role"] + _unmarked(block), "cache_control" in block))
    return units


@dataclass
class AnthropicCache:
    """Explicit breakpoints with a five-minute TTL."""

    clock: Callable[[], float] = time.monotonic
    entries: dict[str, float] = field(default_factory=dict)  # prefix hash → last used

    def usage(self, body: dict[str, Any]) -> CacheUsage:
        """Read what is cached, write what the breakpoints mark; the request's input."""
        now = self.clock()
        units = _anthropic_blocks(body)
        hashes, sizes = [], []
        digest, chars = hashlib.sha256(), 0
        for text, _ in units:
            digest.update(text.encode())
            chars += len(text)
            hashes.append(digest.hexdigest())
            sizes.append(chars)
        total = tokens(chars)
        breakpoints = [i for i, (_, marked) in enumerate(units) if marked]
        hit = -1
        for b in breakpoints:
            for i in range(b, max(-1, b - _LOOKBACK - 1), -1):
                used = self.entries.get(hashes[i])
                if used is not None and now - used <= _TTL_S and i > hit:
                    hit = i
                    break
        read = tokens(sizes[hit]) if hit >= 0 else 0
        if hit >= 0:
            self.entries[hashes[hit]] = now  # a read refreshes the entry's TTL
        written = 0
        for b in breakpoints:
            if b > hit and tokens(sizes[b]) >= MIN_TOKENS:
                self.entries[hashes[b]] = now
                written = tokens(sizes[b]) - read
        return CacheUsage(total, read, max(0, written))


def _openai_text(body: dict[str, Any]) -> str:
    parts = [json.dumps(body.get("tools") or [], sort_keys=True)]
    parts += [json.dumps(m, sort_keys=True) for m in body.get("messages", [])]
    return "".join(parts)


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # the longest m with a[:m] == b[:m], by halving (C-speed compares)
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass
class AutomaticCache:
    """Automatic prefix caching from 1,024 tokens, in 128-token steps."""

    keep: int = 16  # earlier requests remembered
    seen: list[str] = field(default_factory=list)

    def usage(self, body: dict[str, Any]) -> CacheUsage:
        """The request's input and the part of it an earlier request already cached."""
        text = _openai_text(body)
        total = tokens(len(text))
        best = max((_common_prefix(text, old) for old in self.seen), default=0)
        cached = tokens(best) // 128 * 128
        if cached < MIN_TOKENS:
            cached = 0
        if total >= MIN_TOKENS:
            self.seen = [*self.seen[-(self.keep - 1) :], text]
        return CacheUsage(total, min(cached, total))
