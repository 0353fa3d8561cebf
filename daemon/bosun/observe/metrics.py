"""The daemon's Prometheus metrics (prometheus-client), in a registry of its own.

Counters and histograms follow the reports of `hooks` (model and tool calls, retries)
and the board's events (attempts); gauges of state (runs and tasks by state, clients,
sandbox) are read from the board when scraped, so they are never stale. Labels are
bounded sets — states, outcomes, roles, configured models and tools, error kinds —
never a run's or a task's id.
"""

from __future__ import annotations

from typing import Any

from bosun_protocol.entities import Event, Run, Task
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bosun.observe.hooks import ModelCallRecord, ToolCallRecord

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
_TOOL_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)
_WAIT_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600)
_UNKNOWN = "unknown"


class Metrics:
    """Every metric the endpoint serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Gauge("bosun_runs", "Runs on the board, by state.", ["state"], registry=r)
        self.tasks = Gauge("bosun_tasks", "Tasks on the board, by state.", ["state"], registry=r)
        self.attempts_started = Counter(
            "bosun_attempts_started", "Attempts started.", ["profile"], registry=r
        )
        self.attempts = Counter(
            "bosun_attempts_finished", "Attempts finished, by outcome.", ["outcome"], registry=r
        )
        labels = ["provider", "model", "role"]
        self.model_calls = Counter(
            "bosun_model_calls", "Model calls, by outcome (ok or the error's kind).",
            [*labels, "outcome"], registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "bosun_model_tokens", "Tokens of model calls (input includes cached, output reasoning).",
            [*labels, "kind"], registry=r,
        )  # fmt: skip
        self.cost = Counter(
            "bosun_model_cost_usd", "Money spent on model calls with a known price.", labels,
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "bosun_model_call_duration_seconds", "Model call latency, retries included.",
            ["provider", "model"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.retries = Counter(
            "bosun_model_retries", "Model errors retried, by kind.", ["kind"], registry=r
        )
        self.phoenix = Counter(
            "bosun_phoenix_retries", "Failed attempts Phoenix retried, by the failure's outcome.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.tool_calls = Counter(
            "bosun_tool_calls", "Tool calls, by tool and outcome.", ["tool", "outcome"],
            registry=r,
        )  # fmt: skip
        self.tool_latency = Histogram(
            "bosun_tool_call_duration_seconds", "Tool call duration.", ["tool"],
            buckets=_TOOL_BUCKETS, registry=r,
        )  # fmt: skip
        self.clients = Gauge(
            "bosun_connected_clients", "Clients connected to the daemon.", registry=r
        )
        self.sandbox = Gauge(
            "bosun_sandbox_info", "The command sandbox in force (1 for the mode).", ["mode"],
            registry=r,
        )  # fmt: skip
        self.board_events = Counter(
            "bosun_board_events", "Events appended to the board.", registry=r
        )
        self.commits = Histogram(
            "bosun_board_commit_duration_seconds", "Board write transactions (COMMIT, fsync).",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1), registry=r,
        )  # fmt: skip
        # Parts and totals are separate metrics, not values of one label: a sum over a
        # label's values must mean something (Prometheus's naming guidance).
        self.slots_busy = Gauge(
            "bosun_worker_slots_busy", "Worker slots running an attempt now.", registry=r
        )
        self.slots_limit = Gauge(
            "bosun_worker_slots_limit", "Worker slots configured (engine.workers).", registry=r
        )
        self.queue = Gauge(
            "bosun_ready_queue_tasks", "Ready tasks waiting for a worker slot.", registry=r
        )
        self.ready_wait = Histogram(
            "bosun_ready_wait_seconds", "Time a ready task waited for a worker slot.",
            buckets=_WAIT_BUCKETS, registry=r,
        )  # fmt: skip
        self.first_token = Histogram(
            "bosun_model_first_token_seconds",
            "Time from a model request's admission to its first streamed chunk.",
            ["provider", "model"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.pool_ready = Gauge(
            "bosun_worktree_pool_ready", "Warm worktrees checked out, waiting to be handed out.",
            registry=r,
        )  # fmt: skip
        self.pool_target = Gauge(
            "bosun_worktree_pool_target", "The warm pool's configured size (git.warm_pool).",
            registry=r,
        )  # fmt: skip
        self.acquire = Histogram(
            "bosun_worktree_acquire_duration_seconds",
            "Making a task's worktree, from the warm pool or a new checkout.", ["source"],
            buckets=_TOOL_BUCKETS, registry=r,
        )  # fmt: skip

    # --- hooks.Observer ------------------------------------------------------------

    def model_call(self, record: ModelCallRecord) -> None:
        """Count a model call, its tokens, cost and latency."""
        labels = (record.provider or _UNKNOWN, record.model or _UNKNOWN, record.role or _UNKNOWN)
        self.model_calls.labels(*labels, record.error or "ok").inc()
        self.latency.labels(*labels[:2]).observe(record.seconds)
        if record.first_token_seconds is not None:
            self.first_token.labels(*labels[:2]).observe(record.first_token_seconds)
        if record.error is not None:
            return
        self.tokens.labels(*labels, "input").inc(record.input_tokens)
        self.tokens.labels(*labels, "output").inc(record.output_tokens)
        self.tokens.labels(*labels, "cached").inc(record.cached_tokens)
        self.tokens.labels(*labels, "reasoning").inc(record.reasoning_tokens)
        if record.usd is not None:
            self.cost.labels(*labels).inc(record.usd)

    def tool_call(self, record: ToolCallRecord) -> None:
        """Count a tool call and its duration."""
        self.tool_calls.labels(record.tool, record.outcome).inc()
        self.tool_latency.labels(record.tool).observe(record.seconds)

    def retry(self, error_kind: str) -> None:
        """Count a retried model error."""
        self.retries.labels(error_kind).inc()

    def board_commit(self, seconds: float, writes: int) -> None:
        """Time a committed board transaction."""
        self.commits.observe(seconds)

    def task_dispatched(self, waited: float) -> None:
        """Time a ready task's wait for its slot."""
        self.ready_wait.observe(waited)

    def worktree_acquired(self, seconds: float, source: str) -> None:
        """Time a task worktree's making."""
        self.acquire.labels(source).observe(seconds)

    # --- the board ---------------------------------------------------------------------

    def on_board_event(self, event: Event, run: Run | None, task: Task | None) -> None:
        """Count what the board's events say (a Store listener)."""
        self.board_events.inc()
        if event.kind == "attempt.started":
            profile = task.profile.value if task is not None else _UNKNOWN
            self.attempts_started.labels(profile).inc()
        elif event.kind == "task.transition" and (event.data or {}).get("phoenix"):
            self.phoenix.labels(str((event.data or {}).get("after") or _UNKNOWN)).inc()
        elif event.kind == "attempt.finished":
            outcome = (event.data or {}).get("outcome")
            self.attempts.labels(str(getattr(outcome, "value", outcome) or _UNKNOWN)).inc()

    def set_states(self, runs: dict[str, int], tasks: dict[str, int]) -> None:
        """Runs and tasks by state, as the board holds them now (every state, zeros too)."""
        from bosun_protocol.entities import RunState, TaskState

        for state in RunState:
            self.runs.labels(state.value).set(runs.get(state.value, 0))
        for tstate in TaskState:
            self.tasks.labels(tstate.value).set(tasks.get(tstate.value, 0))

    def set_daemon(self, clients: int, sandbox_mode: str | None, services: dict[str, Any]) -> None:
        """Clients connected, the sandbox mode, and what the engine and git plane hold now."""
        self.clients.set(clients)
        slots = slots_of(services)
        if slots is not None:
            self.slots_busy.set(slots[0])
            self.slots_limit.set(slots[1])
        graph = getattr(services.get("engine"), "graph", None)
        if graph is not None:
            self.queue.set(graph.queued())
        worktrees = getattr(services.get("git"), "worktrees", None)
        if worktrees is not None:
            self.pool_ready.set(worktrees.pooled())
            self.pool_target.set(worktrees.pool_size)
        if sandbox_mode:
            self.sandbox.clear()
            self.sandbox.labels(sandbox_mode).set(1)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def slots_of(services: dict[str, Any]) -> tuple[int, int] | None:
    """(busy, total) worker slots of the engine, when it runs."""
    engine = services.get("engine")
    busy = getattr(getattr(engine, "dispatcher", None), "running", None)
    total = getattr(getattr(engine, "settings", None), "workers", None)
    return (busy, total) if isinstance(busy, int) and isinstance(total, int) else None


def sandbox_mode_of(services: dict[str, Any]) -> str | None:
    """The sandbox mode the daemon probed at start."""
    report = services.get("sandbox")
    return str(report.get("mode")) if isinstance(report, dict) else None
