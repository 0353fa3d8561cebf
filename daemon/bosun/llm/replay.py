"""`replay:<run-id>`: answers a new run with a recorded run's responses.

Calls are matched by (role, task key, attempt, turn), and then by what the agent saw:
when that call is missing or differs, a recorded call of the same role, task and turn
in another attempt whose request is the same serves it. Attempt numbers shift when one
run met an infrastructure failure the other did not (a worktree that failed to move
made a retry); attempt numbers are masked in the comparison for the same reason. A call
no recording matches stops the replay with an error naming that first divergence, the
attempts the recording holds for the task and, when they differ from the replay's, why
the two runs parted; `divergence_of` reads it back from wherever it is quoted.
A whole run is replayed by `bosun replay RUN` (bosun.cli.replay_command): a new run at
the recorded run's base commit, this model, and the recorded human answers.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from bosun.llm.errors import ReplayDivergenceError
from bosun.llm.messages import Delta, ModelRequest, ModelResponse, ToolCall
from bosun.llm.model import CallContext, DeltaListener, Model
from bosun.llm.recorder import RecordingSource
from bosun.secrets import redact

CallKey = tuple[str, str, int, int]
_SHOWN = 80  # characters of a differing value quoted in the error
# The error's words, as they reach a human through an attempt's error or prompt reason.
_DIVERGED = re.compile(
    r"replay of run (?P<run>\d+) diverged at "
    r"(?P<call>role=\S+ task=\S+ attempt=\d+ turn=\d+): (?P<difference>.+)"
)


def divergence_of(text: str | None) -> dict[str, Any] | None:
    """The divergence a ReplayDivergenceError message describes, found in any text that
    quotes it (an attempt's error, a prompt's reason): which call, what differed."""
    found = _DIVERGED.search(text or "")
    if found is None:
        return None
    return {
        "run": int(found["run"]),
        "call": found["call"],
        "difference": found["difference"].strip(),
    }


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def first_difference(recorded: Any, current: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, in words; None when equal."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        for key in sorted(set(recorded) | set(current)):
            where = f"{path}.{key}" if path else str(key)
            if key not in current:
                return f"{where}: recorded {_show(recorded[key])}, now missing"
            if key not in recorded:
                return f"{where}: not recorded, now {_show(current[key])}"
            found = first_difference(recorded[key], current[key], where)
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(current, list):
        for i, (a, b) in enumerate(zip(recorded, current, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(recorded) != len(current):
            return f"{path}: recorded {len(recorded)} items, now {len(current)}"
        return None
    if isinstance(recorded, str) and isinstance(current, str) and recorded != current:
        at = next(
            (i for i, (a, b) in enumerate(zip(recorded, current, strict=False)) if a != b),
            min(len(recorded), len(current)),
        )
        return (
            f"{path or '(request)'} (character {at}): recorded {_excerpt(recorded, at)}, "
            f"now {_excerpt(current, at)}"
        )
    if recorded != current:
        return f"{path or '(request)'}: recorded {_show(recorded)}, now {_show(current)}"
    return None


def _excerpt(text: str, at: int) -> str:
    """The text around position `at`, where two long strings first differ."""
    start = max(0, at - _SHOWN // 4)
    piece = text[start : start + _SHOWN]
    return ("…" if start else "") + repr(piece) + ("…" if start + _SHOWN < len(text) else "")


# What necessarily differs between a run and its replay: the run's and tasks' numbers,
# commit ids, measured durations, and what commands printed (the environment's answer,
# quoted in QA's evidence and in Phoenix's history: test timings, stray processes); a
# command's exit code stays compared. Masked on both sides before comparing.
_VOLATILE = (
    (re.compile(r" \(\d+ background process\(es\) it left were stopped\)"), ""),
    (re.compile(r"--- output \([^)]*\) ---\n.*?(?=\n\n#|\n\$ |\Z)", re.S), "--- output ---"),
    (re.compile(r"--- output \([^)]*\) --- [^\n]*"), "--- output ---"),  # flattened history
    (re.compile(r"\b(run|task)([-_ /]?)(\d+)\b", re.I), r"\1\2<n>"),
    (re.compile(r"\b(Attempt|attempt)( \d+)( of \d+)?"), r"\1 <n>"),
    (re.compile(r"#\d+\b"), "#<n>"),
    (re.compile(r"\b[0-9a-f]{7,40}\b"), "<sha>"),
    (re.compile(r"\b\d+\.\d+\s?(s|ms|sec|seconds)?\b"), "<t>"),
)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        for pattern, repl in _VOLATILE:
            value = pattern.sub(repl, value)
        return value
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def restored_response(recorded: dict[str, Any]) -> ModelResponse:
    """A recorded response as it was answered: calls stored with their raw arguments only
    (gateway.stored_response) are parsed again, exactly as the stream assembler did."""
    data = dict(recorded)
    calls = []
    for call in data.get("tool_calls") or []:
        if isinstance(call, dict) and "arguments" not in call:
            parsed = ToolCall.parse(
                str(call.get("id", "")),
                str(call.get("name", "")),
                str(call.get("raw_arguments", "")),
            )
            calls.append(parsed.model_dump(mode="json"))
        else:
            calls.append(call)
    data["tool_calls"] = calls
    return ModelResponse.model_validate(data)


# max_tokens varies with the budget left; cache marks only say where a provider's cache
# may cut, and reasoning settings how long the model thinks (recordings made before
# either have none).
_UNCOMPARED = ("max_tokens", "cache_marks", "thinking_tokens", "reasoning_effort")


def _comparable_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    # A tool's output is the environment's answer; reasoning blocks are the model's own
    # (served by the replay) and absent from recordings made before they were kept.
    drop = {"content", "thinking"} if message.get("role") == "tool" else {"thinking"}
    return {k: v for k, v in message.items() if k not in drop}


def comparable(request: dict[str, Any]) -> dict[str, Any]:
    """The part of a request that must match between a run and its replay.

    What was asked of the model must match: the prompts, the task, and the model's own
    earlier turns (which replay serves, so they match unless the run went elsewhere).
    What the environment answered (tool output: test timings, listings, commit ids)
    is not compared, only which call it answers; max_tokens varies with budget left.
    """
    out = {k: v for k, v in request.items() if k not in _UNCOMPARED}
    messages = out.get("messages")
    if isinstance(messages, list):
        out["messages"] = [_comparable_message(m) for m in messages]
    masked: dict[str, Any] = _mask(out)
    return masked


class ReplayModel(Model):
    """Serves a recorded run's responses, checking each request against the recording."""

    provider = "replay"

    def __init__(self, name: str, source: RecordingSource) -> None:
        self.name = name
        run = name.partition(":")[2]
        if not run.isdigit():
            raise ReplayDivergenceError(f"{name}: replay needs a run id, e.g. replay:12")
        self.run_id = int(run)
        self._source = source
        self._calls: dict[CallKey, tuple[dict[str, Any], dict[str, Any]]] | None = None
        self._lock = asyncio.Lock()

    async def _load(self) -> dict[CallKey, tuple[dict[str, Any], dict[str, Any]]]:
        async with self._lock:
            if self._calls is None:
                recorded = await self._source.recorded_calls(self.run_id)
                if not recorded:
                    raise ReplayDivergenceError(
                        f"run {self.run_id} has no recorded calls to replay", provider="replay"
                    )
                self._calls = {
                    (c.role, c.key, c.attempt or 0, c.turn): (c.request, c.response)
                    for c in recorded
                }
            return self._calls

    async def complete(
        self, request: ModelRequest, ctx: CallContext, on_delta: DeltaListener | None = None
    ) -> ModelResponse:
        """The recorded response to this call."""
        calls = await self._load()
        key = (ctx.role, ctx.task_key, ctx.attempt, ctx.turn)
        where = f"replay of run {self.run_id} diverged at {ctx.label()}"
        now = comparable(json.loads(redact(json.dumps(request.model_dump(mode="json")))))
        found = calls.get(key)
        diff = None
        if found is not None:
            diff = first_difference(comparable(found[0].get("request", {})), now)
        if found is None or diff is not None:
            shifted = self._same_elsewhere(calls, key, now)
            if shifted is None:
                raise self._diverged(calls, key, where, diff, ctx)
            found = shifted
        recorded_response = found[1]
        response = restored_response(recorded_response["response"])
        if on_delta is not None and response.text:
            on_delta(Delta(kind="text", text=response.text))
        return response.model_copy(update={"model": self.name})

    @staticmethod
    def _same_elsewhere(
        calls: dict[CallKey, tuple[dict[str, Any], dict[str, Any]]],
        key: CallKey,
        now: dict[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The recorded call of the same role, task and turn in another attempt whose
        request is this one (the nearest attempt first)."""
        role, task, attempt, turn = key
        others = sorted(
            (k for k in calls if k[0] == role and k[1] == task and k[3] == turn and k != key),
            key=lambda k: abs(k[2] - attempt),
        )
        for other in others:
            if first_difference(comparable(calls[other][0].get("request", {})), now) is None:
                return calls[other]
        return None

    def _diverged(
        self,
        calls: dict[CallKey, tuple[dict[str, Any], dict[str, Any]]],
        key: CallKey,
        where: str,
        diff: str | None,
        ctx: CallContext,
    ) -> ReplayDivergenceError:
        """Why no recorded call answers this one, as precisely as the recording says."""
        role, task, attempt, _ = key
        attempts = sorted({k[2] for k in calls if k[0] == role and k[1] == task})
        if diff is not None:
            said = f"the request differs at {diff}"
        elif attempt in attempts:
            turns = sorted(k[3] for k in calls if k[:3] == key[:3])
            said = (
                f"no such call recorded (the recording holds turns {turns} for this role, "
                "task and attempt)"
            )
        elif attempts:
            said = (
                f"no such call recorded (the recording holds attempts {attempts} for this "
                f"role and task, none {attempt}, and no other attempt made this request: the "
                "runs parted earlier, e.g. one met an infrastructure failure that cost or "
                "made an attempt)"
            )
        else:
            said = "no such call recorded (the recording has none for this role and task)"
        data: dict[str, Any] = {"at": ctx.model_dump(), "recordedAttempts": attempts}
        if diff is not None:
            data["difference"] = diff
        return ReplayDivergenceError(f"{where}: {said}", provider="replay", data=data)
