"""The watchdog's spend rule: an attempt whose calls cost far more than the run's usual.

Every model call of a run adds its tokens (input and output) to the run's `RunSpend`,
shared by all its attempts in this daemon; an attempt whose last few calls average
`factor` times the run's median call or more is spending far faster than the rest
(a context that stopped being bounded, a model re-reading huge files). The median
needs some history first (`min_calls`), so a run's first calls never trip it; a
restarted daemon starts counting again.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

_KEEP = 500  # calls a run remembers


@dataclass
class RunSpend:
    """Tokens per model call over one run's most recent calls."""

    calls: deque[int] = field(default_factory=lambda: deque(maxlen=_KEEP))

    def add(self, tokens: int) -> None:
        """One call's tokens."""
        self.calls.append(max(0, tokens))

    def median(self) -> float:
        """The run's median call (0 when none)."""
        return statistics.median(self.calls) if self.calls else 0.0


@dataclass
class SpendWatch:
    """Per attempt: its recent calls against the run's median."""

    run: RunSpend
    factor: float = 5.0  # this many times the median raises an alarm (0: off)
    min_calls: int = 20  # calls the run must have made before the median counts
    window: int = 3  # the attempt's most recent calls averaged
    _recent: deque[int] = field(default_factory=deque)

    def after_call(self, tokens: int) -> str | None:
        """Count the call; what was seen when the attempt spends far above the run."""
        median = self.run.median() if len(self.run.calls) >= self.min_calls else 0.0
        self.run.add(tokens)
        self._recent.append(tokens)
        while len(self._recent) > self.window:
            self._recent.popleft()
        if not self.factor or not median or len(self._recent) < self.window:
            return None
        mean = sum(self._recent) / len(self._recent)
        if mean < self.factor * median:
            return None
        return (
            f"its last {len(self._recent)} model calls averaged {mean:,.0f} tokens, "
            f"{mean / median:.1f}× the run's median call ({median:,.0f} tokens)"
        )

    def reset(self) -> None:
        """Count afresh after a warning."""
        self._recent.clear()
