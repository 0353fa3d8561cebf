"""A misbehaving model behind the real SDK adapters: what the context, the board and
"compact and retry" do with huge arguments and a provider's context limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun_protocol.entities import AttemptOutcome

from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeProvider, FakeReply, FakeToolCall


def call(name: str, **args: Any) -> FakeReply:
    """An answer calling one tool."""
    return FakeReply(text="", tool_calls=[FakeToolCall.of(name, args)])


def script(*replies: FakeReply) -> Callable[[dict[str, Any]], FakeReply]:
    """Answer the n-th request the model sees with replies[n-1]; past the end, `finish`.

    Counted, not read from the request: compaction folds old answers away.
    """
    answered = iter(replies)

    def answer(_body: dict[str, Any]) -> FakeReply:
        return next(answered, None) or call("finish", summary="done")

    return answer


async def test_a_refused_5_mb_write_is_never_sent_again_nor_stored_per_call(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    huge = "y" * 5_200_000  # over write_max_bytes: the tool refuses it
    reads = [call("read_file", path="README.md") for _ in range(5)]
    write = call("write_file", path="big.txt", content=huge)
    write.arguments_chunk = 65_536
    fake.behaviour = script(write, *reads)
    report = await h.agents(fake_settings(fake)).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    assert not (Path(task.worktree or "") / "big.txt").exists()
    sizes = [len(r.body) for r in fake.requests]
    assert len(sizes) == 7
    assert max(sizes[1:]) < 60_000, sizes  # was 5-9 MB per prompt
    messages, _ = await h.store.transcript(task.id, 1)
    stored = max(len(str(m.tool_calls)) for m in messages)
    assert stored < 110_000  # the transcript keeps a bounded copy
    recorded = await h.calls("coder")
    assert max(len(str(c.request)) for c in recorded) < 100_000  # each request recorded
    # The board holds the one response with the call whole (a replay must write what the
    # model asked for), not a copy of it per later prompt (80 MB after 12 calls before).
    board = sum(p.stat().st_size for p in h.repo.parent.glob("board.db*"))
    assert board < 14_000_000, board


async def test_compact_and_retry_shrinks_the_request_under_the_providers_limit(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    worktree = Path(task.worktree or "")
    for name in ("a.txt", "b.txt", "c.txt"):
        (worktree / name).write_text(f"{name}\n" + "z" * 9_000)
    reads = [call("read_file", path=p) for p in ("a.txt", "b.txt", "c.txt")]
    fake.behaviour = script(*reads)
    first = await _pinned_size(h, fake)
    fake.requests.clear()
    fake.max_body = first + 22_000  # a, b fit; with c the request is too long
    report = await h.agents(fake_settings(fake)).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    sizes = [len(r.body) for r in fake.requests]
    refused = [s for s in sizes if s > fake.max_body]
    assert len(refused) == 1, sizes
    after = sizes[sizes.index(refused[0]) + 1]
    assert after <= fake.max_body < refused[0]  # the retry was smaller, and it fit
    notes = [m.content for m in (await h.store.transcript(task.id, 1))[0] if m.role == "system"]
    assert any("compacted from" in n for n in notes)


async def test_a_limit_below_the_task_itself_fails_with_the_reason_not_the_same_request(
    harness_factory: Callable[..., Any], fake: FakeProvider
) -> None:
    h = await harness_factory("")
    task = await h.task()
    fake.max_body = 1_000  # smaller than the system prompt and brief
    report = await h.agents(fake_settings(fake)).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.ERROR
    assert "nothing left to cut" in (report.error or "")
    assert "system prompt and brief are" in (report.error or "")
    assert len(fake.requests) == 1  # nothing was resent unchanged


async def _pinned_size(h: Any, fake: FakeProvider) -> int:
    """The size of a first request (system prompt, brief and tools) for this task."""
    probe = await h.task("probe")
    fake.replies.append(call("finish", summary="probe"))
    await h.agents(fake_settings(fake)).run_attempt(h.request(probe))
    return len(fake.requests[0].body)
