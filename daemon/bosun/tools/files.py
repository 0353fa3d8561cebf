"""File tools: read, write, edit, delete, exists — all through `Worktree`."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from bosun.tools.context import ToolContext
from bosun.tools.errors import ToolError
from bosun.tools.registry import Tool
from bosun.tools.results import ToolResult

_PATH = Field(min_length=1, max_length=4096, description="path relative to the worktree root")


class ReadFileArgs(BaseModel):
    """Arguments of read_file."""

    path: str = _PATH
    start_line: int = Field(default=1, ge=1, description="first line to show (1-based)")
    end_line: int | None = Field(default=None, ge=1, description="last line to show, inclusive")


class WriteFileArgs(BaseModel):
    """Arguments of write_file."""

    path: str = _PATH
    content: str = Field(description="the whole new content of the file")


class EditFileArgs(BaseModel):
    """Arguments of edit_file."""

    path: str = _PATH
    old_text: str = Field(min_length=1, description="exact text to replace; must occur once")
    new_text: str = Field(description="replacement text")
    replace_all: bool = Field(default=False, description="replace every occurrence")


class PathArgs(BaseModel):
    """A single path."""

    path: str = _PATH


def _decode(data: bytes, path: str, *, exact: bool = False) -> str:
    """The file's text; `exact` keeps bytes that are not UTF-8 as surrogate escapes, so
    an edit writes back every byte it did not change (replacing them with U+FFFD, as
    the display does, would rewrite a latin-1 comment the agent never touched)."""
    if b"\0" in data[:8192]:
        raise ToolError(f"{path} looks binary ({len(data)} bytes); not shown")
    return data.decode("utf-8", errors="surrogateescape" if exact else "replace")


def _lines(text: str) -> list[str]:
    """Lines as git, editors and compilers count them: split at LF only (str.splitlines
    also splits at form feeds, U+2028 and others, and line numbers would disagree),
    a CR before the LF dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


async def read_file(ctx: ToolContext, args: ReadFileArgs) -> str:
    """Numbered lines of a text file, in the range asked for."""
    cap = ctx.settings.read_max_bytes
    data, size = await asyncio.to_thread(ctx.worktree.read_bytes, args.path, cap)
    text = _decode(data, args.path)
    lines = _lines(text)
    end = min(args.end_line or len(lines), len(lines))
    if args.end_line is not None and args.end_line < args.start_line:
        raise ToolError("end_line is before start_line")
    if args.start_line > max(len(lines), 1):
        raise ToolError(
            f"{args.path} has {len(lines)} lines; start_line {args.start_line} is past the end"
        )
    width = len(str(end))
    body = "\n".join(f"{n:>{width}}| {lines[n - 1]}" for n in range(args.start_line, end + 1))
    header = f"{args.path}: lines {args.start_line}-{end} of {len(lines)}"
    if "\r\n" in text:
        header += " (CRLF line endings: edit_file keeps them)"
    if size > len(data):
        header += f" (file is {size} bytes; only the first {len(data)} were read)"
    return f"{header}\n{body}"


async def write_file(ctx: ToolContext, args: WriteFileArgs) -> str:
    """Create or replace a file atomically."""
    content, note = args.content, ""
    if "\n" in content and "\r" not in content and await _is_crlf(ctx, args.path):
        # Rewriting a CRLF file in LF would make every line of it a change in review.
        content, note = _crlf(content), ", CRLF line endings kept"
    data = content.encode("utf-8")
    if len(data) > ctx.settings.write_max_bytes:
        raise ToolError(
            f"content is {len(data)} bytes; the limit is {ctx.settings.write_max_bytes}"
        )
    created = await asyncio.to_thread(ctx.worktree.write_bytes, args.path, data)
    return f"{'created' if created else 'replaced'} {args.path} ({len(data)} bytes{note})"


async def _is_crlf(ctx: ToolContext, path: str) -> bool:
    """Whether the file there now ends every line of its first 64 KiB with CRLF."""
    try:
        head, _ = await asyncio.to_thread(ctx.worktree.read_bytes, path, 1 << 16)
    except ToolError:  # new, or not a regular file: writing it says what is wrong
        return False
    lines = head.count(b"\n")
    return lines > 0 and head.count(b"\r\n") == lines


def _edit(ctx: ToolContext, args: EditFileArgs) -> str:
    data, size = ctx.worktree.read_bytes(args.path, ctx.settings.write_max_bytes + 1)
    if size > len(data):
        raise ToolError(f"{args.path} is too large to edit ({size} bytes)")
    text = _decode(data, args.path, exact=True)
    old, new = args.old_text, args.new_text
    count = text.count(old)
    if count == 0 and "\r\n" in text and "\n" in old:
        # The agent saw the lines without their CRs (read_file): match and write in the
        # file's own line endings instead of failing, or of the agent rewriting it in LF.
        old, new = _crlf(old), _crlf(new)
        count = text.count(old)
    if count == 0:
        hint = ""
        if text.count(args.old_text.strip()) > 0:
            hint = " (it does occur without its leading/trailing whitespace)"
        raise ToolError(
            f"old_text was not found in {args.path}{hint}; read the file and copy it exactly"
        )
    if count > 1 and not args.replace_all:
        raise ToolError(
            f"old_text occurs {count} times in {args.path}; include more context to make it "
            "unique, or pass replace_all=true"
        )
    updated = text.replace(old, new)
    try:
        encoded = updated.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError as exc:
        raise ToolError(f"new_text cannot be written as UTF-8: {exc.reason}") from None
    ctx.worktree.write_bytes(args.path, encoded)
    return f"edited {args.path}: {count} replacement(s)"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


async def edit_file(ctx: ToolContext, args: EditFileArgs) -> str:
    """Exact search-and-replace in one file."""
    return await asyncio.to_thread(_edit, ctx, args)


async def delete_file(ctx: ToolContext, args: PathArgs) -> str:
    """Remove one file."""
    await asyncio.to_thread(ctx.worktree.delete, args.path)
    return f"deleted {args.path}"


async def file_exists(ctx: ToolContext, args: PathArgs) -> ToolResult:
    """Whether a path exists, and what it is (links are reported, not followed)."""
    entry = await asyncio.to_thread(ctx.worktree.entry, args.path)
    if entry.kind == "missing":
        return ToolResult(f"{args.path} does not exist")
    size = f" ({entry.size} bytes)" if entry.kind == "file" else ""
    return ToolResult(f"{args.path} exists: {entry.kind}{size}")


FILE_TOOLS: tuple[Tool[Any], ...] = (
    Tool("read_file", "Read a text file of the worktree with line numbers; "
         "use start_line/end_line for a part of a large file.", ReadFileArgs, read_file),
    Tool("write_file", "Create or overwrite a file with the given content (parent "
         "directories are created).", WriteFileArgs, write_file, summary_field="path"),
    Tool("edit_file", "Replace an exact piece of text in a file. old_text must match "
         "exactly once unless replace_all is set.", EditFileArgs, edit_file, summary_field="path"),
    Tool("delete_file", "Delete a file of the worktree.", PathArgs, delete_file),
    Tool("file_exists", "Tell whether a path exists and whether it is a file, a "
         "directory or a link.", PathArgs, file_exists),
)  # fmt: skip
