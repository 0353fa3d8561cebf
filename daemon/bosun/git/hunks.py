"""A task's changes as files → hunks with stable ids, and trees built from chosen hunks."""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bosun_protocol.review import FileDiff, FileStatus, Hunk

from bosun.errors import GitError
from bosun.git.command import GitCli, split_z
from bosun.git.diff_budget import HUNK_LEAST, LINE_LEAST, count_lines
from bosun.git.merges import commit_tree

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_STATUS: dict[str, FileStatus] = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "T": "type_changed",
}
# Hunk ids are only stable for a fixed amount of context, so it is not a parameter.
_CONTEXT = "-U3"
# How every patch the daemon reads is made; a budgeted read (task_diff) uses the same
# options so its hunks, and their ids, are exactly these.
PATCH_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-renames",
    "--full-index",
    _CONTEXT,
)


def shown(text: str) -> str:
    """Text fit for the wire: bytes that are not UTF-8 (kept through git as surrogate
    escapes, so ids and patches stay exact) become U+FFFD for display only."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def hunk_id(path: str, header: str, lines: list[str]) -> str:
    """Stable id of a hunk: the same path, header and lines always give the same id."""
    digest = hashlib.sha256()
    for part in (path, header, *lines):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class PatchBlock:
    """One file's section of the patch: its header lines and raw hunks."""

    header: list[str]
    hunks: list[tuple[str, list[str]]]


def _split_blocks(patch: str) -> list[PatchBlock]:
    # Lines end at LF only, as git counts them: a CRLF line keeps its CR, and a lone CR
    # stays inside its line (the patch is exact text, see GitCli).
    blocks: list[PatchBlock] = []
    for line in patch.split("\n"):
        if line.startswith("diff --git "):
            blocks.append(PatchBlock(header=[line], hunks=[]))
        elif blocks:
            add_line(blocks[-1], line)
    return blocks


def add_line(block: PatchBlock, line: str) -> int:
    """Put a line of a file's patch (one after its `diff --git` line) where it belongs: a
    hunk header opens a hunk, a hunk's lines join it, what comes before the first hunk is
    the header. Returns what it adds to the hunks' cost at least (diff_budget.hunk_bytes
    is never less). The whole-patch read and the streamed one (patch_stream) both build
    blocks with it, so their hunks and hunk ids are the same."""
    if line.startswith("@@"):
        block.hunks.append((line, []))
        return HUNK_LEAST + len(line)
    if not block.hunks:
        block.header.append(line)
    elif line[:1] in (" ", "+", "-", "\\"):
        block.hunks[-1][1].append(line)
        return LINE_LEAST + len(line)
    return 0


def pair_blocks(
    entries: list[tuple[str, str]], blocks: list[PatchBlock], span: str
) -> list[PatchBlock]:
    """Each (status, path) entry's patch block, in order. A type change (T: a file
    become a symlink, or back) is two blocks under one name — the old one deleted, the
    new one added — and is merged into one: it is one change, taken whole or not at all."""
    out: list[PatchBlock] = []
    left = iter(blocks)
    try:
        for status, _ in entries:
            block = next(left)
            out.append(merge_type_change(block, next(left)) if status[:1] == "T" else block)
    except StopIteration:
        raise GitError(f"could not read the diff {span}: unexpected shape") from None
    if next(left, None) is not None:
        raise GitError(f"could not read the diff {span}: unexpected shape")
    return out


def merge_type_change(deleted: PatchBlock, added: PatchBlock) -> PatchBlock:
    """A type change's two blocks as one (its modes come from both headers)."""
    return PatchBlock(header=deleted.header + added.header, hunks=deleted.hunks + added.hunks)


def _modes(header: list[str]) -> tuple[str | None, str | None]:
    old = new = None
    for line in header:
        for prefix in ("old mode ", "deleted file mode "):
            if line.startswith(prefix):
                old = line[len(prefix) :]
        for prefix in ("new mode ", "new file mode "):
            if line.startswith(prefix):
                new = line[len(prefix) :]
        if line.startswith("index ") and " " in line[6:]:
            mode = line.rsplit(" ", 1)[1]
            old, new = old or mode, new or mode
    return old, new


def _patch(cli: GitCli, root: Path, base: str, head: str, *extra: str) -> str:
    return cli.run(root, "diff", *PATCH_OPTIONS, *extra, base, head).stdout


def read_diff(cli: GitCli, root: Path, base: str, head: str) -> list[FileDiff]:
    """The changes between two commits as files and hunks."""
    return [diff for _, _, diff in _read(cli, root, base, head)]


def _read(cli: GitCli, root: Path, base: str, head: str) -> list[tuple[str, str, FileDiff]]:
    """Each changed file's status letter and raw path (exact bytes, for patches) with its
    diff."""
    names = split_z(cli.run(root, "diff", "--no-renames", "--name-status", "-z", base, head).stdout)
    entries = [(names[i], names[i + 1]) for i in range(0, len(names) - 1, 2)]
    span = f"{base[:12]}..{head[:12]}"
    blocks = pair_blocks(entries, _split_blocks(_patch(cli, root, base, head)), span)
    return [
        (status, path, file_diff(status, path, block))
        for (status, path), block in zip(entries, blocks, strict=True)
    ]


def file_diff(status: str, path: str, block: PatchBlock) -> FileDiff:
    """One file's diff from its patch block; `status` is git's letter (A, M, D, T)."""
    old_mode, new_mode = _modes(block.header)
    binary = any(line.startswith(("Binary files ", "GIT binary patch")) for line in block.header)
    hunks = [_hunk(path, header, lines) for header, lines in block.hunks]
    if status[:1] == "T":
        # One whole-file pseudo-hunk holding both sides' lines: half of a type change
        # cannot be applied, so it is chosen (and shown) as one.
        indexes = [h for h in block.header if h.startswith("index ")]
        both = [line for _, side in block.hunks for line in side]
        key = [*indexes, f"{old_mode}->{new_mode}", *both]
        shown_lines = [shown(line) for line in both]
        hunks = [Hunk(id=hunk_id(path, "type", key), header="type", lines=shown_lines)]
    elif not hunks:
        # Binary or mode-only change: one whole-file pseudo-hunk, so it can be chosen too.
        index = next((h for h in block.header if h.startswith("index ")), "")
        kind = "binary" if binary else "mode"
        body = [index, f"{old_mode}->{new_mode}"]
        hunks = [Hunk(id=hunk_id(path, kind, body), header=kind, lines=[])]
    added, removed = count_lines(hunks)
    return FileDiff(
        path=shown(path),
        status=_STATUS.get(status[:1], "modified"),
        binary=binary,
        old_mode=old_mode,
        new_mode=new_mode,
        hunks=hunks,
        added_lines=added,
        removed_lines=removed,
    )


def _hunk(path: str, header: str, lines: list[str]) -> Hunk:
    match = _HUNK_HEADER.match(header)
    nums = [int(g) if g is not None else 1 for g in match.groups()] if match else [0, 0, 0, 0]
    return Hunk(
        id=hunk_id(path, header, lines),
        header=shown(header),
        old_start=nums[0],
        old_lines=nums[1],
        new_start=nums[2],
        new_lines=nums[3],
        lines=[shown(line) for line in lines],
    )


@dataclass(frozen=True)
class Selection:
    """A commit on the task's base holding only the approved hunks."""

    commit: str
    approved: list[str]
    rejected: list[str]


def build_selection(
    cli: GitCli, root: Path, base: str, head: str, approved: set[str], message: str
) -> Selection:
    """Commit base + exactly the approved hunks, in a private index (never the user's)."""
    read = _read(cli, root, base, head)
    files = [diff for _, _, diff in read]
    known = {h.id for f in files for h in f.hunks}
    unknown = sorted(approved - known)
    if unknown:
        raise GitError(
            f"unknown hunk id(s) {', '.join(unknown)}: the task changed since its diff was "
            "read; fetch the diff again and choose again",
            data={"unknown": unknown},
        )
    patch = _patch(cli, root, base, head, "--binary")
    whole: list[str] = []
    partial: list[str] = []
    entries = [(status, path) for status, path, _ in read]
    blocks = pair_blocks(entries, _split_blocks(patch), f"{base[:12]}..{head[:12]}")
    for (_, path, f), block in zip(read, blocks, strict=True):
        chosen = [h for h in f.hunks if h.id in approved]
        if len(chosen) == len(f.hunks):
            whole.append(path)
        elif chosen:
            partial.append("\n".join(block.header))
            for header, lines in block.hunks:
                if hunk_id(path, header, lines) in approved:
                    partial.append("\n".join([header, *lines]))
    # The chosen hunks are re-joined with LF only: each line still holds its CR, if any,
    # and GitCli writes the text back byte for byte, so the patch applies as git made it.
    with tempfile.TemporaryDirectory(prefix="bosun-review-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        cli.run(root, "read-tree", base, env=env)
        if whole:
            _take_whole_files(cli, root, head, whole, env)
        if partial:
            cli.run(
                root,
                "apply",
                "--cached",
                "--whitespace=nowarn",
                "-",
                input="\n".join(partial) + "\n",
                env=env,
            )
        tree = cli.run(root, "write-tree", env=env).stdout.strip()
    commit = commit_tree(cli, root, tree, [base], message)
    rejected = [h.id for f in files for h in f.hunks if h.id not in approved]
    chosen_ids = [h.id for f in files for h in f.hunks if h.id in approved]
    return Selection(commit=commit, approved=chosen_ids, rejected=rejected)


def _take_whole_files(
    cli: GitCli, root: Path, head: str, paths: list[str], env: dict[str, str]
) -> None:
    listed = split_z(cli.run(root, "ls-tree", "-r", "-z", "--full-tree", head, "--", *paths).stdout)
    present = {}
    for item in listed:
        meta, _, path = item.partition("\t")
        mode, _kind, oid = meta.split(" ")
        present[path] = (mode, oid)
    records = []
    for path in paths:
        if path in present:
            mode, oid = present[path]
            records.append(f"{mode} {oid}\t{path}")
        else:
            records.append(f"0 {'0' * 40}\t{path}")  # mode 0 removes the entry
    cli.run(root, "update-index", "-z", "--index-info", input="\0".join(records) + "\0", env=env)
