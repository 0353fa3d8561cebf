"""taskDiff reads from git only what fits its budget: a huge file is listed from git's
counts without its patch being read, and the answer (hunks, ids, `truncated`) is the one
read_diff + fit_diff give for the same commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.git import patch_stream
from bosun.git.budgeted_diff import list_changes, read_within_budget
from bosun.git.command import GitCli
from bosun.git.diff_budget import fit_diff, hunk_bytes
from bosun.git.hunks import build_selection, read_diff, shown
from bosun.git.service import GitService
from bosun_protocol.entities import Run, Task

from .gitrepo import commit_all, git, task_commit

NewTask = Callable[[int, str], Awaitable[Task]]
BIG_LINES = 700_000  # ~40 MB of generated rows
MEDIUM_LINES = 40_000  # ~1.5 MB: fits 4 MiB, not 1 MiB
ODD_NAMES = ["with space.txt", "ünï cödé.md", "star*and:colon.txt", "q?[x].txt"]


def _rows(count: int) -> str:
    return "".join(f"{i},{i * i},row number {i} of the dump\n" for i in range(count))


Streams = list[patch_stream.PatchStream]


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> Streams:
    """Every git command task_diff runs (`args`), with the bytes read from it (`read`)."""
    seen: Streams = []

    class Recorded(patch_stream.PatchStream):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(patch_stream, "PatchStream", Recorded)
    return seen


@pytest.fixture
def repo(git_repo: Path) -> Path:
    (git_repo / "keep.txt").write_text("".join(f"line {i}\n" for i in range(60)))
    return git_repo


def _both(
    repo: Path, base: str, head: str, max_bytes: int, path: str | None = None
) -> tuple[Any, Any]:
    """The budgeted answer, and read_diff + fit_diff's, as plain data."""
    cli = GitCli()
    new, new_truncated = read_within_budget(cli, repo, base, head, max_bytes, path)
    old_files = [f for f in read_diff(cli, repo, base, head) if path is None or f.path == path]
    old, old_truncated = fit_diff(old_files, max_bytes)
    return (
        ([f.model_dump() for f in new], new_truncated),
        ([f.model_dump() for f in old], old_truncated),
    )


# --- through the service ------------------------------------------------------------


async def _task_with_a_big_dump(service: GitService, task_id: int) -> Task:
    files = {
        "dump.csv": _rows(BIG_LINES),
        "medium.csv": _rows(MEDIUM_LINES),
        "small.py": "print('hello')\n",
        "README.md": "# sample, edited\n",
    }
    return await task_commit(service, task_id, files, "a dump and small changes")


async def test_a_dump_of_tens_of_megabytes_is_listed_from_counts_and_its_patch_never_read(
    service: GitService, run: Run, new_task: NewTask, streams: Streams
) -> None:
    task = await _task_with_a_big_dump(service, (await new_task(run.id, "t")).id)
    diff = await service.task_diff(task.id)
    by_path = {f.path: f for f in diff.files}
    assert [f.path for f in diff.files] == ["README.md", "dump.csv", "medium.csv", "small.py"]
    assert diff.truncated and by_path["dump.csv"].truncated and by_path["dump.csv"].hunks == []
    assert (by_path["dump.csv"].added_lines, by_path["dump.csv"].removed_lines) == (BIG_LINES, 0)
    assert by_path["small.py"].hunks[0].lines == ["+print('hello')"]
    assert by_path["README.md"].hunks[0].lines == ["-# sample", "+# sample, edited"]
    assert len(by_path["medium.csv"].hunks[0].lines) == MEDIUM_LINES
    # Listing, sizes and the patches of the three other files: nothing of the dump.
    assert sum(s.read for s in streams) < 3 << 20
    patches = [s.args for s in streams if s.args[0] == "diff" and "--raw" not in s.args]
    assert len(patches) == 1 and not any("dump.csv" in arg for arg in patches[0])


async def test_the_big_file_alone_is_shown_when_its_budget_allows_and_unread_when_not(
    service: GitService, run: Run, new_task: NewTask, streams: Streams
) -> None:
    task = await _task_with_a_big_dump(service, (await new_task(run.id, "t")).id)
    alone = await service.task_diff(task.id, path="medium.csv", max_bytes=4 << 20)
    assert [f.path for f in alone.files] == ["medium.csv"] and not alone.truncated
    assert len(alone.files[0].hunks[0].lines) == MEDIUM_LINES
    streams.clear()
    short = await service.task_diff(task.id, path="medium.csv", max_bytes=1 << 20)
    assert short.truncated and short.files[0].hunks == []
    assert short.files[0].added_lines == MEDIUM_LINES
    assert sum(s.read for s in streams) < 1 << 20  # never read: its size says it cannot fit
    streams.clear()
    dump = await service.task_diff(task.id, path="dump.csv", max_bytes=12 << 20)
    assert dump.truncated and dump.files[0].added_lines == BIG_LINES
    assert sum(s.read for s in streams) < 1 << 20


# --- the same answer as read_diff + fit_diff ------------------------------------------


def _varied_task(repo: Path) -> tuple[str, str]:
    (repo / "gone.txt").write_text("bye\n")
    (repo / "old name.txt").write_text("".join(f"moved {i}\n" for i in range(30)))
    (repo / "img.bin").write_bytes(b"\x00\x01\x02" * 100)
    (repo / "script.sh").write_text("echo hi\n")
    (repo / "p").write_text("a file that becomes a directory\n")
    (repo / "crlf.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    (repo / "link").write_text("a file that becomes a symlink\nand its second line\n")
    base = commit_all(repo, "base")
    lines = (repo / "keep.txt").read_text().splitlines(keepends=True)
    lines[3], lines[40] = "early change\n", 'late "quoted" \\ change\twith tab\n'
    (repo / "keep.txt").write_text("".join(lines))
    (repo / "gone.txt").unlink()
    (repo / "old name.txt").rename(repo / "new name.txt")  # a rename: delete + add
    (repo / "img.bin").write_bytes(b"\x00\xff" * 100)
    (repo / "script.sh").chmod(0o755)  # mode only
    (repo / "p").unlink()
    (repo / "p").mkdir()
    (repo / "p" / "x.txt").write_text("under p\n")
    (repo / "crlf.txt").write_bytes(b"one\r\n2\r\nthree\r\n")
    (repo / "link").unlink()
    (repo / "link").symlink_to("keep.txt")  # a type change: two patches under one name
    (repo / "latin1.txt").write_bytes(b"caf\xe9 \x1b[1m bold\n")
    (repo / "lone cr.txt").write_bytes(b"one\rtwo\nthree\n")
    for name in ODD_NAMES:
        (repo / name).write_text(f"{name}\n" * 5)
    (repo / "sub" / "deep").mkdir(parents=True)
    (repo / "sub" / "deep" / "new.py").write_text(_rows(300))
    return base, commit_all(repo, "head")


def test_every_budget_gives_the_answer_and_hunk_ids_of_read_diff_and_fit_diff(
    repo: Path,
) -> None:
    base, head = _varied_task(repo)
    # 17 files: 3,400 bytes go to listing them, then the hunks fit one by one.
    for max_bytes in [*range(0, 20_000, 250), 4 << 20]:
        new, old = _both(repo, base, head, max_bytes)
        assert new == old, max_bytes
    ids = [h["id"] for f in new[0] for h in f["hunks"]]
    assert len(ids) >= 14 and not new[1]


def test_each_files_cost_lies_between_the_bounds_its_counts_and_sizes_give(repo: Path) -> None:
    base, head = _varied_task(repo)
    cli = GitCli()
    changes = list_changes(cli, repo, base, head)
    diffs = read_diff(cli, repo, base, head)
    assert [shown(c.path) for c in changes] == [f.path for f in diffs]
    for change, diff in zip(changes, diffs, strict=True):
        cost = sum(hunk_bytes(h) for h in diff.hunks)
        assert change.low <= cost <= change.high, diff.path
        assert (change.added, change.removed) == (diff.added_lines, diff.removed_lines)


@pytest.mark.parametrize(
    "path",
    [*ODD_NAMES, "img.bin", "gone.txt", "new name.txt", "old name.txt", "p", "p/x.txt", "link"],
)
def test_one_file_alone_is_the_one_read_diff_shows(repo: Path, path: str) -> None:
    base, head = _varied_task(repo)
    for max_bytes in (100, 4 << 20):
        new, old = _both(repo, base, head, max_bytes, path)
        assert new == old
        assert [f["path"] for f in new[0]] == [path]


def test_one_file_asked_for_is_the_only_one_git_lists(repo: Path, streams: Streams) -> None:
    base = commit_all(repo, "base")
    (repo / "big.csv").write_text(_rows(100_000))
    (repo / "small.txt").write_text("small\n")
    head = commit_all(repo, "head")
    new, old = _both(repo, base, head, 4 << 20, "small.txt")
    assert new == old
    assert all(s.args[-1] == ":(literal)small.txt" for s in streams if s.args[0] == "diff")
    assert sum(s.read for s in streams) < 4096
    for elsewhere in ("", "../small.txt", "./small.txt", "/small.txt", "small.txt/"):
        assert read_within_budget(GitCli(), repo, base, head, 4 << 20, elsewhere) == ([], False)


def test_files_left_out_are_listed_without_reading_them(repo: Path, streams: Streams) -> None:
    base = commit_all(repo, "base")
    (repo / "a.txt").write_text("small\n")
    (repo / "big.csv").write_text(_rows(100_000))  # ~3.7 MB, over a 1 MiB budget
    (repo / "z.txt").write_text("small too\n")
    head = commit_all(repo, "head")
    new, old = _both(repo, base, head, 1 << 20)
    assert new == old
    budgeted = [s for s in streams if "--full-index" in s.args]
    assert len(budgeted) == 1 and budgeted[0].args[-2:] == (":(literal)a.txt", ":(literal)z.txt")
    assert budgeted[0].read < 4096


def test_huge_lines_git_cannot_count_are_dropped_after_about_the_budget(
    repo: Path, streams: Streams
) -> None:
    # One-line minified bundles, each changed in place: their sizes and line counts say
    # little, so each is read until it passes the room, and then no further.
    for i in range(12):
        (repo / f"bundle{i:02d}.min.js").write_text("a" * (1 << 20))
    base = commit_all(repo, "base")
    for i in range(12):
        (repo / f"bundle{i:02d}.min.js").write_text("b" * (1 << 20))
    (repo / "zz.txt").write_text("after the bundles\n")
    head = commit_all(repo, "head")
    streams.clear()
    new, old = _both(repo, base, head, 256 << 10)
    assert new == old
    assert new[0][-1]["hunks"]  # the small file after them still gets its hunks
    budgeted = sum(s.read for s in streams if "--full-index" in s.args)
    assert budgeted < 2 << 20  # the 1 MiB allowance and one line more: not 24 MB of patch


def test_an_empty_diff_is_an_empty_answer(repo: Path) -> None:
    head = commit_all(repo, "nothing changed")
    assert read_within_budget(GitCli(), repo, head, head, 4 << 20) == ([], False)


def test_a_type_change_is_one_whole_file_hunk_taken_whole_or_not_at_all(repo: Path) -> None:
    (repo / "link").write_text("a file\nline two\n")
    base = commit_all(repo, "file")
    (repo / "link").unlink()
    (repo / "link").symlink_to("keep.txt")
    (repo / "keep.txt").write_text((repo / "keep.txt").read_text() + "one more\n")
    head = commit_all(repo, "symlink")
    cli = GitCli()
    keep, link = read_diff(cli, repo, base, head)
    assert (link.status, link.old_mode, link.new_mode) == ("type_changed", "100644", "120000")
    [hunk] = link.hunks
    assert hunk.header == "type"
    assert hunk.lines[:3] == ["-a file", "-line two", "+keep.txt"]
    assert (link.added_lines, link.removed_lines) == (1, 2)
    new, old = _both(repo, base, head, 4 << 20)
    assert new == old
    taken = build_selection(cli, repo, base, head, {hunk.id}, "take the link").commit
    assert git(repo, "ls-tree", taken, "link").split()[0] == "120000"
    assert git(repo, "show", f"{taken}:keep.txt") == git(repo, "show", f"{base}:keep.txt")
    kept = build_selection(cli, repo, base, head, {keep.hunks[0].id}, "not the link").commit
    assert git(repo, "ls-tree", kept, "link").split()[0] == "100644"
    assert git(repo, "show", f"{kept}:link") == "a file\nline two"
