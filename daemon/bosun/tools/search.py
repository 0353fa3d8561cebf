"""`list_directory` and `search_codebase`: bounded views of the worktree."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pathspec
import regex  # type: ignore[import-untyped]  # its matching takes a timeout; `re` cannot
from pydantic import BaseModel, Field

from bosun.tools.context import ToolContext
from bosun.tools.errors import ToolError
from bosun.tools.listing import WalkStats, walk
from bosun.tools.registry import Tool

_LINE_SHOWN = 300


class ListDirectoryArgs(BaseModel):
    """Arguments of list_directory."""

    path: str = Field(default=".", max_length=4096, description="directory relative to the root")
    depth: int = Field(default=2, ge=1, le=50, description="how many levels to descend")


class SearchArgs(BaseModel):
    """Arguments of search_codebase."""

    pattern: str = Field(min_length=1, max_length=1000, description="regular expression")
    path: str = Field(default=".", max_length=4096, description="directory to search in")
    glob: str | None = Field(
        default=None, max_length=200, description="only files matching, e.g. '*.py'"
    )
    ignore_case: bool = False
    max_results: int | None = Field(default=None, ge=1, description="cap on matching lines")


def _list(ctx: ToolContext, args: ListDirectoryArgs) -> str:
    tree = ctx.worktree
    start = tree.split(args.path, allow_root=True)
    limit = ctx.settings.list_max_entries
    depth = min(args.depth, ctx.settings.list_max_depth)
    stats = WalkStats()
    lines: list[str] = []
    more = False
    for entry in walk(tree, start, max_depth=depth, stats=stats):
        if len(lines) >= limit:
            more = True
            break
        indent = "  " * (len(entry.parts) - len(start) - 1)
        if entry.kind == "directory":
            lines.append(f"{indent}{entry.parts[-1]}/")
        elif entry.kind == "file":
            lines.append(f"{indent}{entry.parts[-1]} ({entry.size} B)")
        else:
            lines.append(f"{indent}{entry.parts[-1]} [{entry.kind}]")
    where = "/".join(start) or "."
    notes = []
    if more:
        notes.append(f"stopped at {limit} entries; list a subdirectory for more")
    if stats.ignored:
        notes.append(f"{stats.ignored} ignored by .gitignore")
    if stats.depth_cut:
        notes.append(f"{stats.depth_cut} directories not entered (depth {depth})")
    tail = f"\n({'; '.join(notes)})" if notes else ""
    return f"{where}/\n" + ("\n".join(lines) or "(empty)") + tail


async def list_directory(ctx: ToolContext, args: ListDirectoryArgs) -> str:
    """A tree of the directory, bounded in depth and entries, .gitignore honoured."""
    return await asyncio.to_thread(_list, ctx, args)


def _compile(args: SearchArgs) -> Any:
    flags = regex.MULTILINE | (regex.IGNORECASE if args.ignore_case else 0)
    try:
        return regex.compile(args.pattern, flags)
    except regex.error as exc:
        raise ToolError(f"invalid regular expression: {exc}") from None


def _search(ctx: ToolContext, args: SearchArgs) -> str:
    settings = ctx.settings
    tree = ctx.worktree
    compiled = _compile(args)
    start = tree.split(args.path, allow_root=True)
    cap = min(args.max_results or settings.search_max_results, settings.search_max_results)
    only = pathspec.GitIgnoreSpec.from_lines([args.glob]) if args.glob else None
    deadline = time.monotonic() + settings.search_timeout_s
    hits: list[str] = []
    files = 0
    stopped = ""
    for entry in walk(tree, start, max_depth=10_000, stats=WalkStats()):
        if entry.kind != "file" or entry.size > settings.search_max_file_bytes:
            continue
        if only is not None and not only.match_file(entry.path):
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            stopped = f"stopped after {settings.search_timeout_s:g} s"
            break
        try:
            data, _ = tree.read_bytes(entry.path, settings.search_max_file_bytes)
        except ToolError:
            continue
        if b"\0" in data[:8192]:
            continue
        files += 1
        try:
            found = _matches(compiled, data.decode("utf-8", errors="replace"), remaining)
        except TimeoutError:
            stopped = f"stopped after {settings.search_timeout_s:g} s (in {entry.path})"
            break
        for line_no, line in found:
            hits.append(f"{entry.path}:{line_no}: {line[:_LINE_SHOWN]}")
            if len(hits) >= cap:
                stopped = f"stopped at {cap} matches"
                break
        if len(hits) >= cap:
            break
    summary = f"{len(hits)} matching line(s) in {files} file(s) searched"
    if stopped:
        summary += f"; {stopped}, narrow the pattern or the path"
    return "\n".join([*hits, f"({summary})"])


def _matches(compiled: Any, text: str, timeout: float) -> list[tuple[int, str]]:
    """(line number, line) of each line with a match, once per line."""
    out: list[tuple[int, str]] = []
    line, pos, last = 1, 0, -1
    for m in compiled.finditer(text, timeout=timeout):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        if line == last:
            continue
        last = line
        begin = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        # A CRLF line is shown without its CR, as read_file shows it.
        out.append((line, text[begin : end if end >= 0 else len(text)].removesuffix("\r")))
    return out


async def search_codebase(ctx: ToolContext, args: SearchArgs) -> str:
    """Lines matching a regex, as path:line: text, bounded in matches and time."""
    return await asyncio.to_thread(_search, ctx, args)


SEARCH_TOOLS: tuple[Tool[Any], ...] = (
    Tool("list_directory", "List a directory of the worktree as a tree (files with sizes), "
         "honouring .gitignore, bounded in depth and entries.", ListDirectoryArgs, list_directory),
    Tool("search_codebase", "Search the worktree's files for a regular expression "
         "(honours .gitignore); returns path:line: text for each matching line.",
         SearchArgs, search_codebase, summary_field="pattern"),
)  # fmt: skip
