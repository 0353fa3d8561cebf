"""What the board benchmark measured: one configuration's result, and the summaries
printed from results (bench/board_transitions.py)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Result:
    """One measured configuration."""

    name: str
    transitions: int
    seconds: float
    latencies: list[float]
    transactions: int
    cpu: float = 0.0  # process CPU seconds (all threads): robust to a busy machine
    commits: list[float] = field(default_factory=list)  # each COMMIT's seconds
    load: float = 0.0  # 1-minute load average at the end
    steal: float = 0.0  # % of the machine's CPU time the hypervisor gave to other guests

    @property
    def rate(self) -> float:
        return self.transitions / self.seconds

    def pct(self, q: float) -> float:
        return pct(self.latencies, q)

    @property
    def cpu_us(self) -> float:
        return self.cpu / max(1, self.transitions) * 1e6

    @property
    def slow_commits(self) -> int:
        """COMMITs over 2 ms: the disk's stalls, each of which delays a whole batch."""
        return sum(took > 0.002 for took in self.commits)

    @property
    def per_commit(self) -> float:
        return self.transitions / max(1, self.transactions)

    def line(self) -> str:
        text = (
            f"{self.name:<24} {self.rate:>7,.0f}/s  p50 {self.pct(0.5):6.2f} ms  "
            f"p99 {self.pct(0.99):6.2f} ms  ({self.per_commit:.1f} per commit, "
            f"{self.cpu_us:.0f} µs CPU each)"
        )
        if self.commits:
            text += (
                f"  COMMIT p50 {pct(self.commits, 0.5):.2f} p99 {pct(self.commits, 0.99):.2f} "
                f"max {max(self.commits) * 1000:.1f} ms, {self.slow_commits} over 2 ms"
            )
        return text + f"  load {self.load:.1f}, steal {self.steal:.1f}%"


def cpu_ticks() -> list[int]:
    """The machine's CPU time counters (/proc/stat's first line); [] off Linux."""
    try:
        with open("/proc/stat") as stat:
            return [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return []


def steal_percent(before: list[int], after: list[int]) -> float:
    """Steal time between two readings, as % of all CPU time (8th counter)."""
    # On a virtual machine the hypervisor runs other guests on our cores: stolen time
    # stalls our threads (and the disk's completions) whatever the board does.
    if len(before) < 8 or len(after) < 8:
        return 0.0
    delta = [b - a for a, b in zip(before, after, strict=True)]
    return 100.0 * delta[7] / max(1, sum(delta[:8]))


def pct(samples: list[float], q: float) -> float:
    """The q-quantile of `samples` (seconds) in ms."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(runs: list[Result]) -> str:
    """Best and median of the runs' p50, p99, rate and CPU per transition."""
    p99 = [r.pct(0.99) for r in runs]
    p50 = [r.pct(0.5) for r in runs]
    cpu = [r.cpu_us for r in runs]
    rate = [r.rate for r in runs]
    met = sum(q <= 5.0 for q in p99)
    # Every run's samples together: the p99 of all the transitions measured.
    pooled = pct([x for r in runs for x in r.latencies], 0.99)
    return (
        f"  pooled p99 {pooled:.2f} ms over {sum(len(r.latencies) for r in runs):,} transitions; "
        f"best p99 {min(p99):.2f} ms, median p99 {statistics.median(p99):.2f} ms; "
        f"best p50 {min(p50):.2f} ms, median p50 {statistics.median(p50):.2f} ms; "
        f"median {statistics.median(rate):,.0f}/s; CPU best {min(cpu):.0f} µs, "
        f"median {statistics.median(cpu):.0f} µs per transition; "
        f"p99 ≤ 5 ms in {met} of {len(runs)} runs"
    )


def side_by_side(
    lite: tuple[list[Result], list[Result]], pg: tuple[list[Result], list[Result]]
) -> None:
    """PostgreSQL against SQLite: closed-loop throughput, open-loop p50/p99."""

    def pooled(runs: list[Result], q: float) -> float:
        return pct([x for r in runs for x in r.latencies], q)

    print("side by side (group commit):")
    for name, (closed, runs) in (("sqlite", lite), ("postgresql", pg)):
        print(
            f"  {name:<11} closed loop {closed[0].rate:>7,.0f}/s, {closed[0].cpu_us:.0f} µs CPU "
            f"each; open loop pooled p50 {pooled(runs, 0.5):.2f} ms, p99 {pooled(runs, 0.99):.2f} ms"
        )
    print(
        f"  postgresql / sqlite: {pg[0][0].rate / lite[0][0].rate:.2f}x closed-loop throughput, "
        f"{pooled(pg[1], 0.99) / pooled(lite[1], 0.99):.2f}x open-loop p99"
    )
