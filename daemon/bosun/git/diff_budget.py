"""Keep a task's diff answer within a byte budget.

Why: an agent can write a generated file, a data dump or a lock file of hundreds of
megabytes. Sent whole, its diff would exceed the protocol's 16 MiB message limit (the
client gets nothing) or freeze the editor drawing it. The answer instead lists every
changed file with its line counts, and leaves out the hunks of the files that do not
fit, marked `truncated`; a client asks for such a file alone. Nothing is lost: review
decisions are computed from the full diff on the daemon's side.

The daemon itself does not read what it leaves out (budgeted_diff): it first asks git for
each file's line counts and blob sizes, which bound what the file's hunks can cost
(`cost_bounds`), and reads the patches of the files that may fit only.
"""

from __future__ import annotations

import re

from bosun_protocol.review import FileDiff, Hunk

# Per-line JSON cost beyond the text (quotes, comma) and per-hunk cost (id, header,
# numbers): an over-estimate, so the encoded answer stays under the budget.
_LINE_OVERHEAD = 4
_HUNK_OVERHEAD = 160
FILE_OVERHEAD = 200
# What a line (beyond its characters) and a hunk (beyond its header) cost at least.
LINE_LEAST = _LINE_OVERHEAD
HUNK_LEAST = _HUNK_OVERHEAD + _LINE_OVERHEAD
# Other control characters are written \u00XX: five extra bytes at most.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


def _line_bytes(line: str) -> int:
    # JSON escapes quotes, backslashes and tabs with one extra byte each.
    escapes = line.count('"') + line.count("\\") + line.count("\t")
    if not line.isprintable():
        escapes += 5 * len(_CONTROL.findall(line))
    return len(line.encode("utf-8", "surrogateescape")) + escapes + _LINE_OVERHEAD


def hunk_bytes(hunk: Hunk) -> int:
    """What a hunk costs in the encoded answer, roughly and never less."""
    return _HUNK_OVERHEAD + _line_bytes(hunk.header) + sum(_line_bytes(line) for line in hunk.lines)


def fit_diff(files: list[FileDiff], max_bytes: int) -> tuple[list[FileDiff], bool]:
    """The files with the hunks that fit in `max_bytes`, and whether any were left out.

    Files keep their order; a file that does not fit whole loses all its hunks (a
    partial file would invite approving half of a change without seeing the rest),
    and smaller files after it still get theirs."""
    room = max_bytes - FILE_OVERHEAD * len(files)
    out: list[FileDiff] = []
    truncated = False
    for diff in files:
        cost = sum(hunk_bytes(h) for h in diff.hunks)
        if cost <= room:
            room -= cost
            out.append(diff)
        else:
            truncated = True
            out.append(diff.model_copy(update={"hunks": [], "truncated": True}))
    return out, truncated


# The bounds below follow from how a hunk is costed: every hunk costs _HUNK_OVERHEAD plus
# its header (at most ~100 bytes of numbers and git's 80-byte function context, each
# byte of which may cost 6); every line 1 byte of +/-/space and _LINE_OVERHEAD; and each
# byte of a line at most 6 (a control character escaped as \u00XX). A hunk holds at most
# 6 lines of context per changed line, and a file's lines come from its two blobs once.
_HEADER_MAX = 600
_BYTE_MAX = 6
_MARKERS = 2 * _line_bytes("\\ No newline at end of file")
# A file without hunks (binary, mode-only) gets one pseudo-hunk headed "binary"/"mode".
_PSEUDO = _HUNK_OVERHEAD + _line_bytes("mode")
BINARY_COST = _HUNK_OVERHEAD + _line_bytes("binary")


# A submodule's lines are "Subproject commit <id>[-dirty]", not its blob's text.
_GITLINK_LINE = 80


def cost_bounds(added: int, removed: int, sizes: tuple[int, int] | None) -> tuple[int, int]:
    """What a text file's hunks can cost at least and at most, from git's counts of its
    added and removed lines and the (old, new) sizes of its blobs; None for a submodule.

    The least: each changed line is at least its sign, and the added lines hold at least
    the bytes the file grew by (less their newlines, and a CR each for CRLF text)."""
    changed = added + removed
    if sizes is None:
        sizes = (0, 0)
        grown = 0
        extra = changed * _GITLINK_LINE * _BYTE_MAX
    else:
        old_size, new_size = sizes
        grown = max(0, new_size - old_size - 2 * added, old_size - new_size - 2 * removed)
        extra = 0
    low = _PSEUDO + changed * (1 + _LINE_OVERHEAD)
    hunks = max(1, changed)
    lines = changed * 7
    high = (
        hunks * (_HUNK_OVERHEAD + _HEADER_MAX)
        + lines * (1 + _LINE_OVERHEAD)
        + _BYTE_MAX * (sizes[0] + sizes[1])
        + _MARKERS
        + extra
    )
    return low + grown, high


def count_lines(hunks: list[Hunk]) -> tuple[int, int]:
    """Lines added and removed across hunks."""
    added = removed = 0
    for hunk in hunks:
        for line in hunk.lines:
            if line.startswith("+"):
                added += 1
            elif line.startswith("-"):
                removed += 1
    return added, removed
