"""The watchdog over one attempt: a model going round in circles is told so once, then
stopped, instead of spending its whole turn limit (and every retry's) on the same call.

It watches every tool call and its result:

- the same call (tool and arguments, byte for byte once canonical) made `repeat_limit`
  times within the last `repeat_window` calls: its result will not change;
- the same error (a tool's failure, by its opening with numbers such as durations
  blanked) from `error_limit` failed calls in a row, whatever the calls were; any call
  that succeeds (an edit between two test runs) breaks the streak;

and after each turn (`after_turn`):

- no change to the worktree for `idle_turns` turns, or edits far outside the paths the
  task names (progress.py);
- calls costing far more than the run's median call (spend.py);
- a reviewer model's verdict, every few turns, when one is configured (reviewer.py).

The first time either is seen the model gets one note saying what was seen and what to
do instead; the next time (the same pattern or another) the attempt ends `stalled` with
a reason naming the repeat, so Phoenix and the human see why. The turn limit and the
time limit stay where they were (the loop and the engine's supervision).
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bosun.agents.progress import WorktreeWatch
from bosun.agents.spend import SpendWatch
from bosun.llm.messages import ToolCall

_SHOWN = 160  # characters of a call's arguments or an error quoted back


Kind = Literal["looping", "no_progress", "spend", "scope", "reviewer"]
# How a stop's reason starts, per kind (Phoenix and humans read it; see phoenix.py).
LABELS: dict[str, str] = {
    "looping": "looping",
    "no_progress": "no progress",
    "spend": "spending far above the run",
    "scope": "out of scope",
    "reviewer": "stopped by the reviewer",
}
_ADVICE: dict[str, str] = {
    "looping": "Repeating it will not give a different result. Change approach (read "
    "something else, edit, run a different command)",
    "no_progress": "Reading alone does not complete the task. Make the change the task "
    "asks for now",
    "spend": "Work with smaller reads and outputs (a line range, a narrower search, a "
    "shorter command output)",
    "scope": "Keep to the files the task is about; undo the unrelated edits (git_diff shows them)",
    "reviewer": "Follow the reviewer's advice",
}


@dataclass(frozen=True)
class Alarm:
    """What the watchdog saw: `nudge` the model once, or `stop` the attempt."""

    action: Literal["nudge", "stop"]
    seen: str  # what was seen, in words
    kind: Kind = "looping"

    def nudge_text(self) -> str:
        """The note the model gets."""
        return (
            f"Watchdog: {self.seen}. {_ADVICE[self.kind]}, or call `finish` if the criteria "
            "are met, or `ask_human` if you are stuck. The next such warning ends this "
            "attempt."
        )

    def reason(self) -> str:
        """Why the attempt was stopped."""
        return f"{LABELS[self.kind]}: {self.seen} (after one warning)"


class TrajectoryReviewer(Protocol):
    """A model that reads the attempt so far (reviewer.py)."""

    async def review(self, turn: int) -> tuple[Literal["nudge", "stop"], str] | None:
        """None when the attempt is on track; else what to do and why."""
        ...


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def call_key(call: ToolCall) -> str:
    """A call as the watchdog compares it: the tool and its canonical arguments."""
    arguments = call.raw_arguments if call.error is not None else json.dumps(
        call.arguments, sort_keys=True, ensure_ascii=False
    )  # fmt: skip
    return f"{call.name} {arguments}"


@dataclass
class Watchdog:
    """Per attempt: fed each call and result, says when to nudge and when to stop."""

    repeat_limit: int = 3  # identical calls within the window (0: never)
    error_limit: int = 4  # identical errors within the window (0: never)
    window: int = 12  # the most recent calls looked at
    progress: WorktreeWatch | None = None
    spend: SpendWatch | None = None
    reviewer: TrajectoryReviewer | None = None
    nudged: bool = False
    _calls: deque[str] = field(default_factory=deque)
    _error: str = ""  # the current streak's error, and its length
    _streak: int = 0

    def observe(self, call: ToolCall, error: str | None) -> Alarm | None:
        """One call and, when it failed, its output; an alarm when a pattern shows."""
        key = call_key(call)
        self._calls.append(key)
        while len(self._calls) > self.window:
            self._calls.popleft()
        gist = _gist(error) if error is not None else ""
        self._streak = self._streak + 1 if gist and gist == self._error else (1 if gist else 0)
        self._error = gist
        seen = self._repeated_call(key, call) or self._repeated_error(call)
        return None if seen is None else self._raise("looping", seen)

    async def begin(self) -> None:
        """Before the first turn (the worktree's state to compare with)."""
        if self.progress is not None:
            await self.progress.begin()

    async def after_turn(self, turn: int, tokens: int) -> Alarm | None:
        """After a turn's calls (`tokens`: its model call's): the per-turn rules."""
        if self.spend is not None:
            seen = self.spend.after_call(tokens)
            if seen is not None:
                return self._raise("spend", seen)
        if self.progress is not None:
            found = await self.progress.after_turn()
            if found is not None:
                return self._raise(*found)
        if self.reviewer is not None:
            said = await self.reviewer.review(turn)
            if said is not None:
                action, why = said
                if action == "stop" and self.nudged:
                    return Alarm("stop", why, "reviewer")
                return self._raise("reviewer", why)
        return None

    def _raise(self, kind: Kind, seen: str) -> Alarm:
        if self.nudged:
            return Alarm("stop", seen, kind)
        self.nudged = True
        # Every pattern counts again from here: the model gets a fair chance to change.
        self._calls.clear()
        self._streak = 0
        for rule in (self.progress, self.spend):
            if rule is not None:
                rule.reset()
        return Alarm("nudge", seen, kind)

    def _repeated_call(self, key: str, call: ToolCall) -> str | None:
        if self.repeat_limit <= 0:
            return None
        times = sum(1 for k in self._calls if k == key)
        if times < self.repeat_limit:
            return None
        shown = _short(key[len(call.name) + 1 :])
        return f"`{call.name}` was called {times} times with the same arguments ({shown})"

    def _repeated_error(self, call: ToolCall) -> str | None:
        if self.error_limit <= 0 or self._streak < self.error_limit:
            return None
        return (
            f"the same error came back from {self._streak} calls in a row (last "
            f"`{call.name}`): {_short(self._error)}"
        )


def _gist(text: str) -> str:
    """An error as compared: its opening, numbers blanked (times, pids, line numbers)."""
    return re.sub(r"\d+(?:\.\d+)?", "N", " ".join(text.split())[:400]) or "(empty error)"
