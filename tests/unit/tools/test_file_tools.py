"""File tools on a real worktree: ranges, caps, exact edits, atomic writes, .gitignore, bounded search."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.tools import ToolContext, ToolExecutor
from bosun.tools.settings import ToolSettings


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small project with a .gitignore."""
    root = tmp_path / "wt"
    (root / "src" / "deep" / "deeper").mkdir(parents=True)
    (root / "build").mkdir()
    (root / "README.md").write_text("".join(f"line {i}\n" for i in range(1, 21)))
    (root / "src" / "main.py").write_text("import os\n\ndef main():\n    return os.getcwd()\n")
    (root / "src" / "deep" / "deeper" / "x.py").write_text("needle = 1\n")
    (root / "build" / "out.py").write_text("needle = 'ignored'\n")
    (root / "debug.log").write_text("needle in a log\n")
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "src" / ".gitignore").write_text("generated_*.py\n")
    (root / "src" / "generated_api.py").write_text("needle = 'generated'\n")
    return root


@pytest.fixture
def call(
    tree: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> Callable[..., Any]:
    """Call a tool in `tree` through the whole pipeline."""
    ctx = make_ctx(tree)

    async def run(tool: str, **args: Any) -> Any:
        return await executor.call(ctx, tool, args)

    return run


async def test_read_file_shows_the_asked_line_range_numbered(call: Any) -> None:
    result = await call("read_file", path="README.md", start_line=3, end_line=5)
    assert result.content.splitlines() == [
        "README.md: lines 3-5 of 20",
        "3| line 3",
        "4| line 4",
        "5| line 5",
    ]


async def test_read_file_past_the_end_says_how_long_the_file_is(call: Any) -> None:
    result = await call("read_file", path="README.md", start_line=99)
    assert result.is_error
    assert "has 20 lines" in result.content


async def test_read_file_caps_bytes_and_says_so(
    tree: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor, settings: ToolSettings
) -> None:
    (tree / "big.txt").write_text("z" * 5000)
    ctx = make_ctx(tree, settings=settings.model_copy(update={"read_max_bytes": 1000}))
    result = await executor.call(ctx, "read_file", {"path": "big.txt"})
    assert "only the first 1000 were read" in result.content


async def test_binary_files_are_not_dumped(tree: Path, call: Any) -> None:
    (tree / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    result = await call("read_file", path="blob.bin")
    assert result.is_error
    assert "binary" in result.content


async def test_write_file_creates_parents_and_keeps_an_existing_mode(tree: Path, call: Any) -> None:
    script = tree / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    assert not (await call("write_file", path="run.sh", content="#!/bin/sh\n")).is_error
    assert script.stat().st_mode & 0o777 == 0o755
    made = await call("write_file", path="new/dir/file.txt", content="hello")
    assert "created" in made.content
    assert (tree / "new" / "dir" / "file.txt").read_text() == "hello"


async def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tree: Path, call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def disk_full(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr("bosun.tools.paths.os.write", disk_full)
    result = await call("write_file", path="README.md", content="new content")
    assert result.is_error
    assert "No space left" in result.content
    assert (tree / "README.md").read_text().startswith("line 1\n")
    assert not [p for p in os.listdir(tree) if p.endswith(".tmp")]


async def test_edit_file_missing_text_is_a_clear_error(call: Any) -> None:
    result = await call("edit_file", path="src/main.py", old_text="def nope():", new_text="x")
    assert result.is_error
    assert "not found" in result.content


async def test_edit_file_non_unique_text_reports_the_count(call: Any, tree: Path) -> None:
    result = await call("edit_file", path="README.md", old_text="line 1", new_text="L1")
    assert result.is_error
    assert "occurs 11 times" in result.content  # line 1, line 10..19
    assert (tree / "README.md").read_text().startswith("line 1\n")


async def test_edit_file_replaces_exactly_once_or_all_when_asked(call: Any, tree: Path) -> None:
    ok = await call(
        "edit_file", path="src/main.py", old_text="return os.getcwd()", new_text="return 0"
    )
    assert "1 replacement" in ok.content
    assert "return 0" in (tree / "src" / "main.py").read_text()
    every = await call(
        "edit_file", path="README.md", old_text="line", new_text="row", replace_all=True
    )
    assert "20 replacement" in every.content


async def test_delete_file_removes_files_but_not_directories(call: Any, tree: Path) -> None:
    assert not (await call("delete_file", path="debug.log")).is_error
    assert not (tree / "debug.log").exists()
    refused = await call("delete_file", path="src")
    assert refused.is_error
    assert (tree / "src").is_dir()


async def test_file_exists_reports_kinds(call: Any, tree: Path) -> None:
    (tree / "ln").symlink_to("README.md")
    assert "file" in (await call("file_exists", path="README.md")).content
    assert "directory" in (await call("file_exists", path="src")).content
    assert "symlink" in (await call("file_exists", path="ln")).content
    assert "does not exist" in (await call("file_exists", path="nope.txt")).content


async def test_list_directory_honours_gitignore_depth_and_count(
    tree: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor, settings: ToolSettings
) -> None:
    ctx = make_ctx(tree)
    listing = (await executor.call(ctx, "list_directory", {"depth": 2})).content
    assert "main.py" in listing
    assert "build" not in listing
    assert "debug.log" not in listing
    assert "generated_api.py" not in listing
    assert "x.py" not in listing
    assert "ignored by .gitignore" in listing
    assert "not entered" in listing
    small = make_ctx(tree, settings=settings.model_copy(update={"list_max_entries": 10}))
    for i in range(30):
        (tree / f"f{i:02}.txt").write_text("")
    capped = (await executor.call(small, "list_directory", {})).content
    assert "stopped at 10 entries" in capped


async def test_search_honours_gitignore_and_reports_lines(call: Any) -> None:
    result = await call("search_codebase", pattern=r"^needle")
    assert "src/deep/deeper/x.py:1: needle = 1" in result.content
    assert "build/" not in result.content
    assert "generated" not in result.content
    assert "debug.log" not in result.content


async def test_search_shows_crlf_lines_without_their_cr_and_counts_lines_as_read_file(
    call: Any, tree: Path
) -> None:
    (tree / "win.py").write_bytes(b"first = 1\r\n\x0c\r\nneedle = 2\r\n")
    result = await call("search_codebase", pattern="needle", glob="win.py")
    assert "win.py:3: needle = 2\n" in result.content + "\n"
    assert "\r" not in result.content


async def test_search_glob_and_case(call: Any) -> None:
    result = await call("search_codebase", pattern="IMPORT OS", glob="*.py", ignore_case=True)
    assert "src/main.py:1: import os" in result.content
    none = await call("search_codebase", pattern="import", glob="*.md")
    assert none.content.startswith("(0 matching")


async def test_search_stops_at_the_result_cap(call: Any) -> None:
    result = await call("search_codebase", pattern="line", max_results=3)
    assert result.content.count("README.md:") == 3
    assert "stopped at 3 matches" in result.content


async def test_catastrophic_regex_is_cut_at_the_time_limit(
    tree: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor, settings: ToolSettings
) -> None:
    (tree / "trap.txt").write_text("x" * 5000)
    ctx = make_ctx(tree, settings=settings.model_copy(update={"search_timeout_s": 0.3}))
    result = await executor.call(ctx, "search_codebase", {"pattern": "(x+x+)+y"})
    assert "stopped after 0.3 s" in result.content


async def test_invalid_regex_is_a_clear_error(call: Any) -> None:
    result = await call("search_codebase", pattern="(unclosed")
    assert result.is_error
    assert "invalid regular expression" in result.content


async def test_edit_file_on_a_crlf_file_matches_lf_text_and_keeps_crlf(
    call: Any, tree: Path
) -> None:
    path = tree / "win.txt"
    path.write_bytes(b"first\r\nsecond\r\nthird\r\n")
    shown = await call("read_file", path="win.txt")
    assert "CRLF" in shown.content.splitlines()[0]
    assert shown.content.splitlines()[1:] == ["1| first", "2| second", "3| third"]
    # What an agent copies from read_file: LF line breaks.
    ok = await call("edit_file", path="win.txt", old_text="first\nsecond", new_text="one\ntwo")
    assert "1 replacement" in ok.content, ok.content
    assert path.read_bytes() == b"one\r\ntwo\r\nthird\r\n"


async def test_write_file_over_a_crlf_file_keeps_its_line_endings(call: Any, tree: Path) -> None:
    (tree / "win.txt").write_bytes(b"old\r\ntext\r\n")
    result = await call("write_file", path="win.txt", content="new\ntext\n")
    assert "CRLF line endings kept" in result.content
    assert (tree / "win.txt").read_bytes() == b"new\r\ntext\r\n"
    # A new file, or content that says what it wants, is written as given.
    await call("write_file", path="fresh.txt", content="a\nb\n")
    assert (tree / "fresh.txt").read_bytes() == b"a\nb\n"
    await call("write_file", path="win.txt", content="mixed\r\nlines\n")
    assert (tree / "win.txt").read_bytes() == b"mixed\r\nlines\n"


async def test_edit_file_keeps_the_bytes_it_did_not_change_even_when_not_utf8(
    call: Any, tree: Path
) -> None:
    path = tree / "legacy.py"
    path.write_bytes(b"# caf\xe9 (latin-1)\nvalue = 1\n")
    ok = await call("edit_file", path="legacy.py", old_text="value = 1", new_text="value = 2")
    assert "1 replacement" in ok.content, ok.content
    assert path.read_bytes() == b"# caf\xe9 (latin-1)\nvalue = 2\n"


async def test_read_file_numbers_lines_as_git_does_not_at_form_feeds(call: Any, tree: Path) -> None:
    (tree / "ff.py").write_bytes(b"a = 1\n\x0c\ndef f():\n    pass\n")
    result = await call("read_file", path="ff.py", start_line=3, end_line=4)
    assert result.content.splitlines() == ["ff.py: lines 3-4 of 4", "3| def f():", "4|     pass"]
