"""The intake's bounds: nesting depth, pre-auth size, clipped echoes."""

from __future__ import annotations

import pytest
from bosun.server.intake import (
    MAX_DEPTH,
    PREAUTH_MAX_BYTES,
    Refused,
    body_limit,
    check_preauth_size,
    clip,
    decode,
    too_deep,
)


def test_nesting_at_the_limit_is_accepted_and_one_deeper_is_refused() -> None:
    assert decode(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(Refused) as info:
        decode(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert info.value.code == -32700


def test_nesting_past_the_decoders_recursion_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(Refused) as info:
        decode(b'{"a":' * 200_000 + b"1" + b"}" * 200_000)
    assert info.value.code == -32700


def test_depth_counts_dicts_and_lists_alike() -> None:
    value: object = 1
    for i in range(MAX_DEPTH + 1):
        value = {"k": value} if i % 2 else [value]
    assert too_deep(value)
    assert not too_deep({"a": [1, {"b": [2]}]})


def test_invalid_json_message_is_clipped() -> None:
    with pytest.raises(Refused) as info:
        decode(b"\xff" * 100_000)
    assert info.value.code == -32700 and len(info.value.message) < 400


def test_preauth_limit_applies_only_before_authentication() -> None:
    assert body_limit(16 << 20, authenticated=False) == PREAUTH_MAX_BYTES
    assert body_limit(16 << 20, authenticated=True) == 16 << 20
    check_preauth_size(PREAUTH_MAX_BYTES + 1, authenticated=True)
    with pytest.raises(Refused) as info:
        check_preauth_size(PREAUTH_MAX_BYTES + 1, authenticated=False)
    assert info.value.code == -32059


def test_clip_says_how_long_the_value_was() -> None:
    assert clip("short") == "short"
    assert clip("x" * 1000).endswith("… (1000 chars)")
