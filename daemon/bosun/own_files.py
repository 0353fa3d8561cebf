"""Files Bosun makes for itself in places it shares: named so they are found, never kept.

Two kinds outlive a process killed at the wrong moment:
- `write_file`'s temporary file (`.NAME.bosun-<12 hex>.tmp`, renamed over NAME once
  written) in a task's worktree. Every commit excludes the pattern, whatever happened,
  and recovery (the git plane's reconciliation, at start and on `bosun gc`) deletes them.
- a command's scratch directory (its HOME and TMPDIR). They live under one root per
  workspace and daemon boot, `$TMPDIR/bosun-scratch-<uid>/<workspace digest>/<boot>/`,
  so recovery can remove every boot's but the running daemon's.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from bosun.private_files import private_dir

_TEMP_RE = re.compile(r"\..+\.bosun-[0-9a-f]{12}\.tmp")
# For `git add`: glob magic, so `**/` also matches the top level and `?` one character.
TEMP_EXCLUDE_PATHSPEC = ":(exclude,glob)**/.*.bosun-" + "?" * 12 + ".tmp"


def temp_file_name(name: str) -> str:
    """The temporary name `write_file` uses next to `name` (cut: names have a limit)."""
    return f".{name[:100]}.bosun-{secrets.token_hex(6)}.tmp"


def is_temp_file(name: str) -> bool:
    """Whether a file name is one of `write_file`'s temporary names."""
    return _TEMP_RE.fullmatch(name) is not None


def sweep_temp_files(root: Path, *, dry_run: bool = False) -> list[str]:
    """Delete `write_file`'s temporary files under `root`; their paths, relative to it.

    `.git` directories are not entered (nothing of ours is there) and links are not
    followed: what is removed is always a regular file inside `root`. With `dry_run`,
    the same list and nothing deleted.
    """
    removed: list[str] = []
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            if not is_temp_file(name):
                continue
            path = Path(top) / name
            if path.is_symlink() or not path.is_file():
                continue
            try:
                if not dry_run:
                    path.unlink()
            except FileNotFoundError:
                continue
            removed.append(str(path.relative_to(root)))
    return sorted(removed)


# --- command scratch directories ---------------------------------------------------

_boot_dir: Path | None = None


def scratch_base(workspace_root: Path) -> Path:
    """The root of one workspace's scratch directories (one subdirectory per boot)."""
    digest = hashlib.sha256(os.fsencode(workspace_root)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"bosun-scratch-{os.getuid()}" / digest


def use_scratch(workspace_root: Path, boot_id: str) -> Path:
    """Make this process's scratch root (0700 at each level) for the daemon's boot."""
    global _boot_dir
    base = scratch_base(workspace_root)
    private_dir(base.parent, "the scratch directory")
    private_dir(base, "the workspace's scratch directory")
    boot = base / boot_id
    private_dir(boot, "this boot's scratch directory")
    _boot_dir = boot
    return boot


def make_scratch(prefix: str = "bosun-cmd-") -> Path:
    """A new private directory for a command or a sandbox, under the boot's root.

    Without a daemon (a tool called directly) it goes to the system's temp directory.
    """
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_boot_dir))


def sweep_scratch(workspace_root: Path, *, dry_run: bool = False) -> list[str]:
    """Remove the scratch directories of every boot but this process's; what went
    (with `dry_run`, what would go)."""
    base = scratch_base(workspace_root)
    try:
        children = sorted(base.iterdir())
    except FileNotFoundError:
        return []
    removed: list[str] = []
    for child in children:
        if _boot_dir is not None and child == _boot_dir:
            continue
        if child.is_symlink() or not child.is_dir():
            continue
        if not dry_run:
            shutil.rmtree(child, ignore_errors=True)
        removed.append(str(child))
    return removed
