"""Keep a task's diff answer within a byte budget.

Why: an agent can write a generated file, a data dump or a lock file of hundreds of
megabytes. Sent whole, its diff would exceed the protocol's 16 MiB message limit (the
client gets nothing) or freeze the editor drawing it. The answer instead lists every
changed file with its line counts, and leaves out the hunks of the files that do not
fit, marked `truncated`; a client asks for such a file alone. Nothing is lost: review
decisions are computed from the full diff on the daemon's side.
"""

from __future__ import annotations

from bosun_protocol.review import FileDiff, Hunk

# Per-line JSON cost beyond the text (quotes, comma) and per-hunk cost (id, header,
# numbers): an over-estimate, so the encoded answer stays under the budget.
_LINE_OVERHEAD = 4
_HUNK_OVERHEAD = 160
_FILE_OVERHEAD = 200


def _line_bytes(line: str) -> int:
    # JSON escapes quotes, backslashes and tabs with one extra byte each.
    escapes = line.count('"') + line.count("\\") + line.count("\t")
    return len(line.encode("utf-8", "surrogateescape")) + escapes + _LINE_OVERHEAD


def hunk_bytes(hunk: Hunk) -> int:
    """What a hunk costs in the encoded answer, roughly and never less."""
    return _HUNK_OVERHEAD + len(hunk.header) + sum(_line_bytes(line) for line in hunk.lines)


def fit_diff(files: list[FileDiff], max_bytes: int) -> tuple[list[FileDiff], bool]:
    """The files with the hunks that fit in `max_bytes`, and whether any were left out.

    Files keep their order; a file that does not fit whole loses all its hunks (a
    partial file would invite approving half of a change without seeing the rest),
    and smaller files after it still get theirs."""
    room = max_bytes - _FILE_OVERHEAD * len(files)
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
