"""Review keeps every byte of a line: CRLF files get partial approvals that apply and
commit with CRLF kept, a lone CR stays inside its line (so the reviewer sees the real
change), and taskDiff's budgeted read gives the same lines and ids as read_diff."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.git.budgeted_diff import read_within_budget
from bosun.git.command import GitCli
from bosun.git.hunks import build_selection, read_diff
from bosun.git.service import GitService
from bosun_protocol.entities import Run, Task

from .gitrepo import commit_all, git, task_commit

NewTask = Callable[[int, str], Awaitable[Task]]
CRLF_BASE = [b"line %d\r\n" % i for i in range(40)]


def _blob(repo: Path, commit: str, path: str) -> bytes:
    out = subprocess.run(
        ["git", "cat-file", "blob", f"{commit}:{path}"],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.stdout


def _with(lines: list[bytes], changes: dict[int, bytes]) -> bytes:
    return b"".join(changes.get(i, line) for i, line in enumerate(lines))


@pytest.fixture
def crlf_task(git_repo: Path) -> tuple[str, str]:
    """f.txt: 40 CRLF lines, lines 3 and 30 changed (two hunks); g.txt: a lone CR."""
    (git_repo / "f.txt").write_bytes(b"".join(CRLF_BASE))
    (git_repo / "g.txt").write_bytes(b"alpha\rbeta\ngamma\n")
    base = commit_all(git_repo, "base")
    (git_repo / "f.txt").write_bytes(_with(CRLF_BASE, {2: b"three\r\n", 29: b"thirty\r\n"}))
    (git_repo / "g.txt").write_bytes(b"alpha\rBETA\ngamma\n")
    return base, commit_all(git_repo, "head")


def test_approving_one_hunk_of_a_crlf_file_commits_base_plus_that_hunk_with_crlf_kept(
    git_repo: Path, crlf_task: tuple[str, str]
) -> None:
    base, head = crlf_task
    cli = GitCli()
    files = {f.path: f for f in read_diff(cli, git_repo, base, head)}
    first, second = files["f.txt"].hunks
    assert "-line 2\r" in first.lines and "+three\r" in first.lines
    sel = build_selection(cli, git_repo, base, head, {first.id}, "m")
    assert sel.approved == [first.id] and second.id in sel.rejected
    assert _blob(git_repo, sel.commit, "f.txt") == _with(CRLF_BASE, {2: b"three\r\n"})
    assert _blob(git_repo, sel.commit, "g.txt") == b"alpha\rbeta\ngamma\n"


def test_a_change_after_a_lone_cr_is_shown_with_both_sides_real_text(
    git_repo: Path, crlf_task: tuple[str, str]
) -> None:
    base, head = crlf_task
    cli = GitCli()
    files = {f.path: f for f in read_diff(cli, git_repo, base, head)}
    (hunk,) = files["g.txt"].hunks
    assert hunk.lines == ["-alpha\rbeta", "+alpha\rBETA", " gamma"]
    assert (files["g.txt"].added_lines, files["g.txt"].removed_lines) == (1, 1)
    sel = build_selection(cli, git_repo, base, head, {hunk.id}, "m")
    assert _blob(git_repo, sel.commit, "g.txt") == b"alpha\rBETA\ngamma\n"
    assert _blob(git_repo, sel.commit, "f.txt") == b"".join(CRLF_BASE)


def test_mixed_line_endings_in_one_file_keep_each_lines_ending_under_partial_approval(
    git_repo: Path,
) -> None:
    ends = [b"\n", b"\r\n", b"\r\n", b"\n"]
    lines = [b"row %d%s" % (i, ends[i % 4]) for i in range(60)]
    lines[31] = b"row 31 with a lone \r inside\r\n"
    (git_repo / "mixed.txt").write_bytes(b"".join(lines))
    base = commit_all(git_repo, "base")
    changes = {1: b"ONE\n", 31: b"row 31 with a lone \r INSIDE\r\n", 57: b"LAST\r\n"}
    (git_repo / "mixed.txt").write_bytes(_with(lines, changes))
    head = commit_all(git_repo, "head")
    cli = GitCli()
    (diff,) = read_diff(cli, git_repo, base, head)
    early, middle, late = diff.hunks
    assert "+row 31 with a lone \r INSIDE\r" in middle.lines
    sel = build_selection(cli, git_repo, base, head, {early.id, late.id}, "m")
    assert _blob(git_repo, sel.commit, "mixed.txt") == _with(
        lines, {1: changes[1], 57: changes[57]}
    )


def test_a_path_holding_a_cr_is_listed_and_taken_whole_under_its_real_name(
    git_repo: Path,
) -> None:
    base = git(git_repo, "rev-parse", "HEAD")
    (git_repo / "cr\rname.txt").write_bytes(b"kept\r\n")
    head = commit_all(git_repo, "head")
    cli = GitCli()
    (diff,) = read_diff(cli, git_repo, base, head)
    assert diff.path == "cr\rname.txt" and diff.hunks[0].lines == ["+kept\r"]
    sel = build_selection(cli, git_repo, base, head, {diff.hunks[0].id}, "m")
    assert _blob(git_repo, sel.commit, "cr\rname.txt") == b"kept\r\n"


def test_git_input_and_output_keep_cr_bytes_and_non_utf8_bytes(git_repo: Path) -> None:
    cli = GitCli()
    text = b"a\r\nb\rc\xff\n".decode("utf-8", "surrogateescape")
    oid = cli.run(git_repo, "hash-object", "-w", "--stdin", input=text).stdout.strip()
    assert cli.run(git_repo, "cat-file", "blob", oid).stdout == text


# --- through the service: taskDiff with a budget, selection, merge --------------------


@pytest.fixture
async def base_run(service: GitService, store: Store, git_repo: Path) -> Run:
    (git_repo / "f.txt").write_bytes(b"".join(CRLF_BASE))
    commit_all(git_repo, "crlf")
    return await service.start_run((await store.create_run("o")).id)


async def _crlf_edit(service: GitService, task_id: int) -> Task:
    files: dict[str, str | bytes] = {
        "f.txt": _with(CRLF_BASE, {2: b"three\r\n", 29: b"thirty\r\n"}),
        "big.csv": "".join(f"{i},row {i}\n" for i in range(20_000)),
    }
    return await task_commit(service, task_id, files, "crlf edit and a big file")


async def test_a_crlf_file_through_budgeted_task_diff_has_read_diffs_lines_and_ids(
    service: GitService, base_run: Run, new_task: NewTask
) -> None:
    task = await _crlf_edit(service, (await new_task(base_run.id, "t")).id)
    diff = await service.task_diff(task.id, max_bytes=64 << 10)
    by_path = {f.path: f for f in diff.files}
    assert diff.truncated and by_path["big.csv"].truncated
    assert not by_path["f.txt"].truncated
    assert all(line.endswith("\r") for h in by_path["f.txt"].hunks for line in h.lines)
    full = read_diff(GitCli(), service.root, task.base_commit or "", task.head_commit or "")
    (crlf,) = [f for f in full if f.path == "f.txt"]
    assert by_path["f.txt"].hunks == crlf.hunks
    alone, truncated = await asyncio.to_thread(
        read_within_budget,
        GitCli(),
        service.root,
        task.base_commit or "",
        task.head_commit or "",
        4 << 20,
        "f.txt",
    )
    assert not truncated and alone[0].hunks == crlf.hunks


async def test_merging_a_selection_of_a_crlf_file_keeps_crlf_in_the_run_branch(
    service: GitService, base_run: Run, new_task: NewTask
) -> None:
    task = await _crlf_edit(service, (await new_task(base_run.id, "t")).id)
    diff = await service.task_diff(task.id, max_bytes=64 << 10)
    (crlf,) = [f for f in diff.files if f.path == "f.txt"]
    await service.select_hunks(task.id, [crlf.hunks[1].id])
    outcome = await service.merge_task(task.id)
    assert outcome.status == "merged"
    head = outcome.run_head or ""
    assert _blob(service.root, head, "f.txt") == _with(CRLF_BASE, {29: b"thirty\r\n"})
    assert "big.csv" not in git(service.root, "ls-tree", "--name-only", head).split()
