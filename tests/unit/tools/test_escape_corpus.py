"""The escape corpus: every attempt to leave the worktree is refused and changes nothing outside."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.tools import ToolContext, ToolExecutor

W = "{wt}"  # replaced by the worktree's absolute path
OUT = "{outside}"  # replaced by the sentinel directory's absolute path

CORPUS: list[tuple[str, dict[str, Any]]] = [
    ("read_file", {"path": "../outside/secret.txt"}),
    ("read_file", {"path": "src/../../outside/secret.txt"}),
    ("read_file", {"path": f"{OUT}/secret.txt"}),
    ("read_file", {"path": "/etc/passwd"}),
    ("read_file", {"path": "/proc/self/root/etc/passwd"}),
    ("read_file", {"path": f"{W}/../outside/secret.txt"}),
    ("read_file", {"path": "link_file"}),
    ("read_file", {"path": "link_out/secret.txt"}),
    ("read_file", {"path": "abs_link/etc/passwd"}),
    ("read_file", {"path": "proc_link/etc/passwd"}),
    ("read_file", {"path": "src/deep_link/secret.txt"}),
    ("read_file", {"path": "hard"}),
    ("read_file", {"path": "loop"}),
    ("read_file", {"path": "fifo"}),
    ("read_file", {"path": ".git"}),
    ("write_file", {"path": "../outside/new.txt", "content": "x"}),
    ("write_file", {"path": f"{OUT}/new.txt", "content": "x"}),
    ("write_file", {"path": f"{W}/../outside/new.txt", "content": "x"}),
    ("write_file", {"path": "link_out/new.txt", "content": "x"}),
    ("write_file", {"path": "link_file", "content": "x"}),
    ("write_file", {"path": "dangling", "content": "x"}),
    ("write_file", {"path": "src/deep_link/sub/x.txt", "content": "x"}),
    ("write_file", {"path": "proc_link/tmp/x.txt", "content": "x"}),
    ("write_file", {"path": ".git", "content": "gitdir: /tmp/elsewhere\n"}),
    ("write_file", {"path": ".git/hooks/pre-commit", "content": "#!/bin/sh\n"}),
    ("write_file", {"path": ".GIT/config", "content": "x"}),
    ("write_file", {"path": "vendor/lib/.git/config", "content": "x"}),
    ("write_file", {"path": ".bosun/token", "content": "x"}),
    ("write_file", {"path": "src/evil\x00.txt", "content": "x"}),
    ("write_file", {"path": "{gitdir}/hooks/pre-commit", "content": "x"}),
    ("edit_file", {"path": "link_file", "old_text": "TOP", "new_text": "PWNED"}),
    ("edit_file", {"path": "hard", "old_text": "TOP", "new_text": "PWNED"}),
    ("edit_file", {"path": "link_out/secret.txt", "old_text": "TOP", "new_text": "X"}),
    ("delete_file", {"path": "../outside/secret.txt"}),
    ("delete_file", {"path": "link_out/secret.txt"}),
    ("delete_file", {"path": f"{OUT}/secret.txt"}),
    ("delete_file", {"path": "src/deep_link/sub/deeper.txt"}),
    ("list_directory", {"path": "../outside"}),
    ("list_directory", {"path": "link_out"}),
    ("list_directory", {"path": "/"}),
    ("search_codebase", {"pattern": "TOP", "path": "../outside"}),
    ("search_codebase", {"pattern": "TOP", "path": "link_out"}),
    ("file_exists", {"path": "link_out/secret.txt"}),
    ("git_diff", {"path": "../outside"}),
    # The layout's .git names a gitdir outside the worktree: no git tool follows it.
    ("git_status", {}),
    ("git_log", {}),
    ("git_commit", {"message": "through a foreign gitdir"}),
    ("run_command", {"command": "echo pwned > x", "workdir": "../outside"}),
    ("run_command", {"command": "echo pwned > x", "workdir": "link_out"}),
]


def _fill(value: Any, layout: Any) -> Any:
    if isinstance(value, str):
        return (
            value.replace(W, str(layout.wt))
            .replace(OUT, str(layout.outside))
            .replace("{gitdir}", str(layout.gitdir))
        )
    return value


def test_corpus_has_at_least_thirty_attempts() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize(
    ("tool", "args"), CORPUS, ids=[f"{t}:{a.get('path', a.get('workdir', ''))}" for t, a in CORPUS]
)
async def test_escape_attempt_is_refused_and_changes_nothing_outside(
    tool: str,
    args: dict[str, Any],
    layout: Any,
    make_ctx: Callable[..., ToolContext],
    executor: ToolExecutor,
) -> None:
    before = layout.outside_state()
    ctx = make_ctx(layout.wt)
    filled = {k: _fill(v, layout) for k, v in args.items()}
    result = await executor.call(ctx, tool, filled)
    assert result.is_error, f"{tool}{filled} was not refused: {result.content}"
    assert layout.secret not in result.content
    assert layout.outside_state() == before


async def test_search_from_the_root_never_reads_through_links(
    layout: Any, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    result = await executor.call(make_ctx(layout.wt), "search_codebase", {"pattern": "TOP SECRET"})
    assert not result.is_error
    assert result.content.startswith("0 matching line(s)") or "\n" not in result.content.strip()
    assert layout.secret not in result.content


async def test_listing_shows_links_without_entering_them(
    layout: Any, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    result = await executor.call(make_ctx(layout.wt), "list_directory", {"depth": 5})
    assert "link_out [symlink]" in result.content
    assert "secret.txt" not in result.content
    assert ".git" not in result.content


async def test_writing_a_hard_linked_name_replaces_it_and_leaves_the_outside_file_intact(
    layout: Any, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    before = layout.outside_state()
    result = await executor.call(
        make_ctx(layout.wt), "write_file", {"path": "hard", "content": "mine"}
    )
    assert not result.is_error, result.content
    assert (layout.wt / "hard").read_text() == "mine"
    assert (layout.outside / "secret.txt").read_text() == layout.secret
    assert layout.outside_state() == before


async def test_symlink_made_by_a_shell_command_is_not_followed(
    layout: Any, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    ctx = make_ctx(layout.wt)
    made = await executor.call(
        ctx, "run_command", {"command": "ln -s ../outside fresh && mkdir real"}
    )
    assert not made.is_error, made.content
    before = layout.outside_state()
    read = await executor.call(ctx, "read_file", {"path": "fresh/secret.txt"})
    write = await executor.call(ctx, "write_file", {"path": "fresh/x.txt", "content": "x"})
    assert read.is_error
    assert write.is_error
    assert "symbolic link" in read.content
    assert layout.outside_state() == before


def test_a_directory_swapped_for_a_link_mid_walk_never_yields_outside_content(
    layout: Any, make_ctx: Callable[..., ToolContext]
) -> None:
    """A racing thread flips src/ between a real directory and a link out (TOCTOU)."""
    tree = make_ctx(layout.wt).worktree
    real, parked = layout.wt / "src", layout.wt / "parked"
    (layout.outside / "a.py").write_text(layout.secret)
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            os.rename(real, parked)
            os.symlink(layout.outside, real)
            os.unlink(real)
            os.rename(parked, real)

    racer = threading.Thread(target=flip)
    racer.start()
    outcomes = {"read": 0, "refused": 0}
    try:
        for _ in range(300):
            try:
                data, _ = tree.read_bytes("src/a.py", 10_000)
            except Exception:
                outcomes["refused"] += 1
                continue
            assert layout.secret.encode() not in data
            outcomes["read"] += 1
    finally:
        stop.set()
        racer.join()
    assert outcomes["read"] + outcomes["refused"] == 300


async def test_a_fifo_is_refused_without_blocking(
    layout: Any, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> None:
    async with asyncio.timeout(5):
        result = await executor.call(make_ctx(layout.wt), "read_file", {"path": "fifo"})
    assert result.is_error
    assert "not a regular file" in result.content


def test_gitdir_inside_the_worktree_is_protected(
    tmp_path: Path, make_ctx: Callable[..., ToolContext]
) -> None:
    wt = tmp_path / "wt"
    (wt / "meta").mkdir(parents=True)
    (wt / ".git").write_text("gitdir: meta\n")
    tree = make_ctx(wt).worktree
    with pytest.raises(Exception, match="git directory"):
        tree.write_bytes("meta/config", b"x")
