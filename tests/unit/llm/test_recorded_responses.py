"""A recorded response stores a parsed call's arguments once, and replays exactly."""

from __future__ import annotations

import json

from bosun.llm.gateway import stored_response
from bosun.llm.messages import ModelResponse, ToolCall
from bosun.llm.replay import restored_response


def test_a_parsed_call_is_stored_as_its_raw_text_only_and_restored_exactly() -> None:
    raw = '{"path": "big.txt",  "content": "' + "y" * 100_000 + '"}'
    response = ModelResponse(text="writing", tool_calls=[ToolCall.parse("c1", "write_file", raw)])
    stored = stored_response(response)
    assert "arguments" not in stored["tool_calls"][0]
    assert len(json.dumps(stored)) < 110_000  # once, not twice
    assert restored_response(json.loads(json.dumps(stored))) == response


def test_calls_that_cannot_be_rebuilt_from_raw_text_keep_their_arguments() -> None:
    built = ToolCall(id="c2", name="read_file", arguments={"path": "a"})  # no raw text
    broken = ToolCall.parse("c3", "write_file", '{"path": ')  # malformed: raw is all there is
    response = ModelResponse(tool_calls=[built, broken])
    stored = stored_response(response)
    assert stored["tool_calls"][0]["arguments"] == {"path": "a"}
    assert restored_response(stored) == response


def test_recordings_made_before_keep_replaying() -> None:
    old = ModelResponse(tool_calls=[ToolCall.parse("c4", "list_directory", '{"path": ""}')])
    assert restored_response(old.model_dump(mode="json")) == old
