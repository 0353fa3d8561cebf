"""The parts around the loop: the brief, the live transcript, the after-action report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun.agents.brief import build_brief, design_doc_path
from bosun.agents.report import Trace, after_action, changed_files
from bosun.agents.transcript import Transcript, TranscriptChunk
from bosun.llm.messages import Delta
from bosun.secrets import register_secret
from bosun.tools.board_host import BoardFrameworkHost
from bosun_protocol.entities import AttemptOutcome, Profile

from tests.unit.agents.conftest import git


async def test_brief_carries_criteria_dependencies_history_and_guidance(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    dep = await h.task("parser", criteria=["parses"])
    await h.store.finish_attempt(
        dep.id, 1, AttemptOutcome.QA_PASSED, summary="wrote parse() in parser.py"
    )
    task = await h.task("cli", criteria=["`tool --help` works", "exit code 2 on bad input"],
                        depends_on=["parser"])  # fmt: skip
    request = h.request(
        task,
        attempt=2,
        history="Attempt 1 ended: qa_failed\n  QA FAIL: exit code",
        guidance="use argparse",
    )
    brief = await build_brief(h.store, request)

    assert "1. `tool --help` works\n2. exit code 2 on bad input" in brief
    assert "parser (coder" in brief and "wrote parse() in parser.py" in brief
    assert "Attempt 1 ended: qa_failed" in brief
    assert "## Guidance from a human (follow it)\nuse argparse" in brief
    assert "Attempt 2 of 5" in brief
    assert design_doc_path(h.run.id) in brief


async def test_brief_names_the_design_document_the_director_wrote(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    director = await h.task("director", profile=Profile.DIRECTOR)
    await h.store.finish_attempt(
        director.id, 1, AttemptOutcome.QA_PASSED, summary="designed",
        files_changed=["src/x.py", "docs/notes.md", "docs/architecture/design-v2.md"],
    )  # fmt: skip
    worker = await h.task("core")
    brief = await build_brief(h.store, h.request(worker))
    assert "design document (its ground truth) is `docs/architecture/design-v2.md`." in brief
    assert design_doc_path(h.run.id) not in brief


async def test_brief_of_a_retry_granted_past_the_limit_says_so(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    task = await h.task("stubborn")
    brief = await build_brief(h.store, h.request(task, attempt=6))
    assert "Attempt 6 (a human granted it beyond the 5 allowed)." in brief
    assert "of 5" not in brief


async def test_live_stream_holds_back_partial_words_so_split_secrets_are_redacted(
    harness_factory: Callable[..., Any],
) -> None:
    secret = "sk-live-SPLIT-9876543210fedcba"
    register_secret(secret)
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    task = await h.task()
    chunks: list[TranscriptChunk] = []
    transcript = Transcript(h.store, task.id, 1, lambda _t, _a, c: chunks.append(c))
    for piece in ("the key is sk-live-SP", "LIT-98765", "43210fedcba and more"):
        transcript.stream(Delta(kind="text", text=piece))
    transcript.flush()

    shown = "".join(c.text for c in chunks)
    assert secret not in shown
    assert shown == "the key is [REDACTED] and more"


async def test_a_huge_tool_call_is_streamed_live_only_up_to_the_limit(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    task = await h.task()
    chunks: list[TranscriptChunk] = []
    transcript = Transcript(h.store, task.id, 1, lambda _t, _a, c: chunks.append(c),
                            limit_chars=5_000)  # fmt: skip
    transcript.stream(Delta(kind="tool_call", index=0, call_id="c", name="write_file"))
    for _ in range(1_000):  # 1 MB of arguments, 1 KB a delta
        transcript.stream(Delta(kind="tool_call", index=0, arguments="y y " * 256))
    transcript.stream(Delta(kind="tool_call", index=1, call_id="d", name="read_file"))
    transcript.stream(Delta(kind="tool_call", index=1, arguments='{"path": "a"}'))
    transcript.flush()

    shown = "".join(c.text for c in chunks)
    assert len(shown) < 5_300
    assert "→ write_file" in shown and "the rest of the arguments is not streamed" in shown
    assert '→ read_file {"path": "a"}' in shown  # the next call is shown again


async def test_a_failing_live_listener_never_fails_the_attempt(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    task = await h.task()

    def broken(_t: int, _a: int, _c: TranscriptChunk) -> None:
        raise RuntimeError("client went away")

    transcript = Transcript(h.store, task.id, 1, broken)
    transcript.stream(Delta(kind="text", text="hello world "))
    await transcript.note("still stored")
    messages, _ = await h.store.transcript(task.id, 1)
    assert messages[-1].content == "still stored"


async def test_changed_files_sees_commits_edits_and_new_files(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory('[[reply]]\ntext = "unused"\n')
    task = await h.task()
    wt = Path(task.worktree or "")
    (wt / "committed.txt").write_text("c\n")
    git(wt, "add", "committed.txt")
    git(wt, "commit", "-q", "-m", "one")
    (wt / "README.md").write_text("# changed\n")
    (wt / "new.txt").write_text("n\n")

    assert await changed_files(wt, task.base_commit) == ["README.md", "committed.txt", "new.txt"]
    assert await changed_files(wt.parent / "not-a-repo", None) is None


async def test_report_of_an_unfinished_attempt_says_what_was_tried(tmp_path: Path) -> None:
    trace = Trace()
    trace.note("write_file", {"path": "a.py"}, failed=False)
    trace.note("run_command", {"command": "pytest -q"}, failed=True)
    trace.note("log_design_decision", {"decision": "use sqlite", "rationale": "no server"}, False)
    trace.last_text = "The tests still fail on import."
    action = await after_action(
        trace, tmp_path, None, finished_summary=None, claimed_files=[], ending="stalled"
    )

    assert "run_command(pytest -q) failed" in action.summary
    assert "Last words: The tests still fail on import." in action.summary
    assert action.files_changed == ["a.py"]  # no git here: the trace stands in
    assert action.decisions == ["use sqlite — no server"]


DIRECTOR = """
[[reply]]
role = "director"
turn = 1
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "docs/bosun/run-1-design.md", content = "# Design\\n## Objective\\nx\\n" }
[[reply.tool_calls]]
name = "create_subtasks"
arguments = { tasks = [
  { key = "plan-a", title = "Plan A", profile = "planner", acceptance_criteria = ["a planned"] },
  { key = "plan-b", title = "Plan B", profile = "planner", depends_on = ["plan-a"] },
] }

[[reply]]
role = "director"
turn = 2
[[reply.tool_calls]]
name = "create_subtasks"
arguments = { tasks = [
  { key = "x", title = "X", depends_on = ["y"] },
  { key = "y", title = "Y", depends_on = ["x"] },
] }

[[reply]]
role = "director"
turn = 3
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "design and two planners" }
"""


async def test_director_writes_the_design_and_creates_planners_but_no_cycle(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory(DIRECTOR)
    director = await h.task("director", profile=Profile.DIRECTOR)
    report = await h.agents().run_attempt(h.request(director, host=BoardFrameworkHost(h.store)))

    assert report.outcome is AttemptOutcome.FINISHED
    assert report.files_changed == [design_doc_path(h.run.id)]
    tasks = {t.key: t for t in await h.store.list_tasks(h.run.id)}
    assert set(tasks) == {"director", "plan-a", "plan-b"}  # the cyclic batch was refused whole
    assert tasks["plan-b"].dependencies == [tasks["plan-a"].id]
    assert tasks["plan-a"].profile is Profile.PLANNER
    messages, _ = await h.store.transcript(director.id, 1)
    refusal = [m.content for m in messages if m.role == "tool"][2]
    assert "cycle" in refusal
