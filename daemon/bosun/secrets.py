"""Known secret values, and their redaction from anything shown or stored.

Every API key or token the daemon learns (environment, config, a client at
`initialize`) is registered here; `redact()` replaces each one, and its base64 forms,
with a marker before text reaches a transcript, an event, a log or tool output.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections import ChainMap
from collections.abc import Mapping

_MIN_LEN = 8  # shorter values would redact ordinary words
_MARK = "[REDACTED]"

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
# Variables the launcher handed over a pipe (server/secret_handoff.py): in memory only.
_handed: dict[str, str] = {}


def _variants(value: str) -> set[str]:
    raw = value.encode()
    out = {value}
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        full = enc(raw).decode()
        out.add(full)
        out.add(full.rstrip("="))
        # A secret embedded in a longer base64 stream appears at one of three offsets.
        for shift in (1, 2):
            shifted = enc(b"\0" * shift + raw).decode()
            core = shifted[(shift * 4 + 2) // 3 + 1 : -4]
            if len(core) >= _MIN_LEN:
                out.add(core)
    return {v for v in out if len(v) >= _MIN_LEN}


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` hides it from now on."""
    global _pattern
    if not value or len(value) < _MIN_LEN:
        return
    with _lock:
        before = len(_values)
        _values.update(_variants(value))
        if len(_values) != before:
            ordered = sorted(_values, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def redact(text: str) -> str:
    """`text` with every known secret (and its base64 forms) replaced."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(_MARK, text)


def known_count() -> int:
    """How many secret variants are registered (for status output; never the values)."""
    return len(_values)


def hand_in(variables: Mapping[str, str]) -> None:
    """Keep variables handed to the daemon outside its environment; each is a secret."""
    for value in variables.values():
        register_secret(value)
    with _lock:
        _handed.update(variables)


def provider_environ() -> Mapping[str, str]:
    """Where provider keys are looked up: the handed variables, then the environment."""
    return ChainMap(_handed, os.environ)


def clear_for_tests() -> None:
    """Forget every secret (tests only)."""
    global _pattern
    with _lock:
        _values.clear()
        _handed.clear()
        _pattern = None
