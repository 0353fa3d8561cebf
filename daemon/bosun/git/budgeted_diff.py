"""A task's diff within its byte budget, reading from git only what can be in the answer.

`read_diff` then `fit_diff` would read and parse the whole patch: an agent's 500 MB dump
would cost the daemon 500 MB of reading, memory and parsing for an answer of a few. Here
git first lists every changed file with its status, modes, blobs and line counts
(`diff --raw --numstat`), and `cat-file` gives the blobs' sizes: together they bound what
each file's hunks can cost (diff_budget.cost_bounds). Files are then taken in order as
fit_diff takes them: one whose least cost is over the room left is listed `truncated`
with git's line counts, unread; the others are read in one `git diff` limited to them
(pathspecs, when some were left out), each dropped as soon as its lines pass the room
left. The answer, hunks and hunk ids are those of fit_diff(read_diff(...)).

A file whose counts say little (a changed one-line minified bundle) may still be read
and then not fit: bytes read in vain, and each git stopped midway, are charged to an
allowance of the budget (1 MiB at least); once it is spent only files sure to fit (their
most cost is under the room left) are read. So whatever the task wrote, the daemon reads
the answer, git's listing, and at most about the budget besides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bosun_protocol.review import FileDiff, FileStatus

from bosun.errors import GitError
from bosun.git import patch_stream
from bosun.git.command import GitCli, decode
from bosun.git.diff_budget import BINARY_COST, FILE_OVERHEAD, cost_bounds, hunk_bytes
from bosun.git.hunks import PATCH_OPTIONS, PatchBlock, file_diff, merge_type_change, shown
from bosun.git.patch_stream import EndOfPatch

_ZERO = "0" * 40
_GITLINK = "160000"
_SKIP_MAX = 256 << 10  # read and drop up to this much of a file rather than stop git
_RESTART_COST = 64 << 10  # a git stopped midway is charged as this many bytes read
_ARGV_MAX = 256 << 10  # bytes of pathspecs per git command, well under the OS's limit
_STATUS: dict[str, FileStatus] = {"A": "added", "D": "deleted", "T": "type_changed"}


@dataclass(frozen=True)
class Change:
    """One changed file as git lists it, before any of its patch is read."""

    raw: bytes  # the path's exact bytes, for pathspecs
    path: str  # the path as read_diff has it, exact (hunk ids are made from it)
    status: str
    old_mode: str | None
    new_mode: str | None
    binary: bool
    added: int
    removed: int
    low: int  # what its hunks cost at least, and at most
    high: int

    def listing(self) -> FileDiff:
        """The file without its hunks, as fit_diff leaves a file that does not fit."""
        return FileDiff(
            path=shown(self.path),
            status=_STATUS.get(self.status[:1], "modified"),
            binary=self.binary,
            old_mode=self.old_mode,
            new_mode=self.new_mode,
            added_lines=self.added,
            removed_lines=self.removed,
            truncated=True,
        )


def _git(cli: GitCli, root: Path, *args: str, input: bytes = b"") -> bytes:
    return patch_stream.PatchStream(cli, root, args, input=input).read_all()


def list_changes(
    cli: GitCli, root: Path, base: str, head: str, under: str | None = None
) -> list[Change]:
    """Every changed file between two commits (or only `under` and what is below it), in
    the order git shows their patches."""
    args = [
        "diff",
        "--no-textconv",
        "--no-renames",
        "--raw",
        "--numstat",
        "-z",
        "--no-abbrev",
        base,
        head,
    ]
    if under is not None:
        args += ["--", ":(literal)" + under]
    out = _git(cli, root, *args)
    fields = out.split(b"\0")[:-1]
    raws: list[tuple[list[str], bytes]] = []
    i = 0
    while i + 1 < len(fields) and fields[i].startswith(b":"):
        raws.append((fields[i][1:].decode().split(" "), fields[i + 1]))
        i += 2
    counts = [f.split(b"\t", 2) for f in fields[i:]]
    if len(counts) != len(raws) or any(c[2:] != [r[1]] for c, r in zip(counts, raws, strict=True)):
        raise GitError(f"could not list the changes {base[:12]}..{head[:12]}: unexpected shape")
    wanted = {
        oid
        for meta, _ in raws
        for mode, oid in ((meta[0], meta[2]), (meta[1], meta[3]))
        if oid != _ZERO and mode != _GITLINK
    }
    sizes = _blob_sizes(cli, root, sorted(wanted))
    changes: list[Change] = []
    for (meta, raw), (added, removed, _) in zip(raws, counts, strict=True):
        old_mode, new_mode, old_oid, new_oid, status = meta
        binary = added == b"-"
        plus, minus = (0, 0) if binary else (int(added), int(removed))
        if binary:
            low = high = BINARY_COST
        elif _GITLINK in (old_mode, new_mode):
            low, high = cost_bounds(plus, minus, None)
        else:
            low, high = cost_bounds(plus, minus, (sizes.get(old_oid, 0), sizes.get(new_oid, 0)))
        changes.append(
            Change(
                raw=raw,
                path=decode(raw),
                status=status,
                old_mode=None if old_oid == _ZERO else old_mode,
                new_mode=None if new_oid == _ZERO else new_mode,
                binary=binary,
                added=plus,
                removed=minus,
                low=low,
                high=high,
            )
        )
    return changes


def _blob_sizes(cli: GitCli, root: Path, oids: list[str]) -> dict[str, int]:
    if not oids:
        return {}
    ask = "".join(oid + "\n" for oid in oids).encode()
    out = _git(cli, root, "cat-file", "--batch-check=%(objectname) %(objectsize)", input=ask)
    sizes: dict[str, int] = {}
    for line in out.decode().splitlines():
        oid, _, size = line.partition(" ")
        if size.isdigit():
            sizes[oid] = int(size)
    return sizes


class _Budget:
    """The room left for hunks, and the allowance for bytes read in vain."""

    def __init__(self, max_bytes: int, files: int) -> None:
        self.room = max_bytes - FILE_OVERHEAD * files
        self.allowance = max(max_bytes, 1 << 20)

    def worth_reading(self, change: Change) -> bool:
        if change.low > self.room:
            return False
        return self.allowance > 0 or change.high <= self.room

    def skip_limit(self) -> int:
        return max(0, min(self.allowance, _SKIP_MAX))


def read_within_budget(
    cli: GitCli, root: Path, base: str, head: str, max_bytes: int, path: str | None = None
) -> tuple[list[FileDiff], bool]:
    """What fit_diff(read_diff(...), max_bytes) gives (only the files shown as `path`,
    when given), with no more of the patch read than the answer needs."""
    # One file asked for by a name git would print as is: git lists (and counts the
    # lines of) only that file, not, say, the dump beside it.
    narrow = path is not None and _nameable(path)
    changes = list_changes(cli, root, base, head, path if narrow else None)
    chosen = [i for i, c in enumerate(changes) if path is None or shown(c.path) == path]
    budget = _Budget(max_bytes, len(chosen))
    out: dict[int, FileDiff] = {}
    for i in chosen:
        if i in out:
            continue
        if not budget.worth_reading(changes[i]):
            out[i] = changes[i].listing()
            continue
        wanted = _batch(changes, chosen, i, out, budget)
        _read_batch(cli, root, (base, head), changes, wanted, budget, out, narrow)
        if i not in out:  # git was stopped before reaching it (never expected)
            out[i] = changes[i].listing()
    files = [out[i] for i in chosen]
    return files, any(f.truncated for f in files)


def _nameable(path: str) -> bool:
    # Not a name made from undecodable bytes or holding a newline, nor one git would
    # resolve elsewhere.
    parts = path.split("/")
    return (
        "\ufffd" not in path and "\n" not in path and all(p not in ("", ".", "..") for p in parts)
    )


def _batch(
    changes: list[Change], chosen: list[int], first: int, out: dict[int, FileDiff], budget: _Budget
) -> list[int]:
    """The files from `first` on that are worth reading now, within one command line."""
    wanted: list[int] = []
    argv = 0
    for i in chosen:
        if i < first or i in out or not budget.worth_reading(changes[i]):
            continue
        argv += len(changes[i].raw) + 16
        if wanted and argv > _ARGV_MAX:
            break
        wanted.append(i)
    return wanted


def _pathspecs(
    changes: list[Change], wanted: list[int], narrow: bool
) -> tuple[list[bytes], list[int]]:
    """Pathspecs that show the wanted files, and every file they show, in order (a
    literal pathspec also shows what is below it: `p` deleted and `p/x` added)."""
    if len(wanted) == len(changes) and not narrow:
        return [], wanted
    named = {changes[i].raw for i in wanted}
    seen = [i for i, c in enumerate(changes) if _under(c.raw, named)]
    return [b":(literal)" + changes[i].raw for i in wanted], seen


def _under(path: bytes, named: set[bytes]) -> bool:
    if path in named:
        return True
    parts = path.split(b"/")
    return any(b"/".join(parts[:k]) in named for k in range(1, len(parts)))


def _next_file(
    stream: patch_stream.PatchStream, change: Change, cap: int, skip_limit: int
) -> PatchBlock | None:
    """`stream.next_block` for one file: a type change is two blocks, merged as
    read_diff merges them (hunks.pair_blocks)."""
    block = stream.next_block(change.path, cap, skip_limit)
    if change.status[:1] != "T" or not stream.alive:
        return block
    added = stream.next_block(change.path, cap if block is not None else -1, skip_limit)
    return merge_type_change(block, added) if block is not None and added is not None else None


def _read_batch(
    cli: GitCli,
    root: Path,
    span: tuple[str, str],
    changes: list[Change],
    wanted: list[int],
    budget: _Budget,
    out: dict[int, FileDiff],
    narrow: bool,
) -> None:
    specs, expected = _pathspecs(changes, wanted, narrow)
    args: list[str | bytes] = ["diff", *PATCH_OPTIONS, *span]
    if specs:
        args += ["--", *specs]
    stream = patch_stream.PatchStream(cli, root, args)
    todo = set(wanted)
    try:
        for i in expected:
            change, before = changes[i], stream.read
            if i not in todo or not budget.worth_reading(change):
                _next_file(stream, change, -1, budget.skip_limit())
                budget.allowance -= stream.read - before
                if i in todo:
                    out[i] = change.listing()
            else:
                block = _next_file(stream, change, budget.room, budget.skip_limit())
                diff = file_diff(change.status, change.path, block) if block else None
                cost = sum(hunk_bytes(h) for h in diff.hunks) if diff else budget.room + 1
                if diff is not None and cost <= budget.room:
                    budget.room -= cost
                    out[i] = diff
                else:
                    budget.allowance -= stream.read - before
                    out[i] = (
                        diff.model_copy(update={"hunks": [], "truncated": True})
                        if diff
                        else change.listing()
                    )
            if not stream.alive:
                budget.allowance -= _RESTART_COST
                return
        if not stream.at_end():
            raise EndOfPatch("git showed more files than it was asked for")
        stream.finish()
    except EndOfPatch as exc:
        base, head = span
        raise GitError(
            f"could not read the diff {base[:12]}..{head[:12]}: unexpected shape"
        ) from exc
    finally:
        if stream.alive:
            stream.close()
