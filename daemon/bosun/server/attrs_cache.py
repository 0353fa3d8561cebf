"""A persistent cache of the methods attrs generates for lsprotocol's classes.

Why: importing `lsprotocol.types` (which pygls needs before it can answer anything)
defines about 570 attrs classes, and attrs writes each class's `__init__`, `__repr__`,
`__eq__`… as Python source and compiles it. That compiling is a quarter of the daemon's
cold start on a 2-core machine (issue 2 asks for ≤ 1 s). The source is the same on every
start, so the compiled code objects are kept (marshal) in the user's cache directory,
one file per interpreter version, keyed by the exact source, and attrs is handed the
cached code instead of compiling again (a new attrs or lsprotocol simply misses and the
file is rewritten with what this start used). Marshal data is executable, so it is read only from a file
and directory the current user owns and nobody else can write (the same trust as the
`.pyc` files of the installed packages). Anything unexpected (attrs without the hook, a
corrupt, foreign or unreadable file, a read-only cache directory) falls back to plain
compiling: the cache can make a start faster, never make it fail.

Set BOSUN_NO_ATTRS_CACHE=1 to turn it off.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType
from typing import Any

log = logging.getLogger(__name__)

_Compile = Callable[..., None]


def cache_dir() -> Path:
    """$BOSUN_CACHE_DIR, else $XDG_CACHE_HOME/bosun, else ~/.cache/bosun."""
    explicit = os.environ.get("BOSUN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bosun"


def cache_file() -> Path:
    """The cache for this interpreter (marshal's format belongs to the Python version)."""
    return cache_dir() / f"attrs-{sys.implementation.cache_tag}.marshal"


def _trusted(path: Path) -> bool:
    """Owned by us and writable by nobody else, file and directory alike."""
    uid = os.getuid()
    for p in (path.parent, path):
        st = p.lstat()
        if st.st_uid != uid or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
        if p is path and not stat.S_ISREG(st.st_mode):
            return False
    return True


def _load(path: Path) -> dict[str, CodeType]:
    try:
        if not _trusted(path):
            log.warning("attrs cache %s is not private to this user; not using it", path)
            return {}
        with open(path, "rb") as f:
            data = marshal.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, EOFError, ValueError, TypeError) as exc:
        log.info("attrs cache %s unreadable (%s); rebuilding it", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _save(path: Path, codes: dict[str, CodeType]) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".attrs-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                marshal.dump(codes, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)  # readers see the old file or the new one, never half
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, ValueError) as exc:
        log.info("attrs cache not saved to %s: %s", path, exc)


class AttrsCodeCache:
    """Install before importing lsprotocol; `finish()` after, to save and uninstall."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_file()
        self.codes: dict[str, CodeType] = {}
        self.used: dict[str, CodeType] = {}  # what this start needed: all that is saved
        self.added = 0
        self.hits = 0
        self._module: Any = None
        self._original: _Compile | None = None

    def install(self) -> bool:
        """Hand attrs cached code; False (and nothing changed) when that is not possible."""
        if os.environ.get("BOSUN_NO_ATTRS_CACHE"):
            return False
        try:
            import attr._make as make
        except ImportError:
            return False
        original = getattr(make, "_compile_and_eval", None)
        if not callable(original):
            return False  # an attrs without this hook: compile as usual
        self.codes = _load(self.path)
        self._module, self._original = make, original
        make._compile_and_eval = self._compile_and_eval
        return True

    def _compile_and_eval(
        self,
        script: str,
        globs: dict[str, Any] | None,
        locs: Mapping[str, object] | None = None,
        filename: str = "",
    ) -> None:
        # The key is the whole source and its file name: equal keys compile to equal code.
        key = f"{filename}\0{script}"
        code = self.codes.get(key)
        if code is None:
            code = compile(script, filename, "exec")
            self.codes[key] = code
            self.added += 1
        else:
            self.hits += 1
        self.used[key] = code
        eval(code, globs, locs)  # exactly what attrs itself does with the code

    def finish(self) -> None:
        """Restore attrs and save what was compiled this time, if anything was."""
        if self._module is None:
            return
        self._module._compile_and_eval = self._original
        self._module = None
        # Rewrite when something was compiled, or when the file holds entries nobody
        # used any more (an upgraded attrs or lsprotocol), so it never only grows.
        if self.added or len(self.used) != len(self.codes):
            _save(self.path, self.used)


def import_lsprotocol_cached() -> None:
    """Import lsprotocol's types through the cache (a no-op once imported)."""
    if "lsprotocol.types" in sys.modules:
        return
    cache = AttrsCodeCache()
    cache.install()
    try:
        import lsprotocol.types  # noqa: F401 - the import is the point
    finally:
        cache.finish()
