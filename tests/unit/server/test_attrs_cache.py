"""The attrs code cache that shortens the daemon's cold start: a second start compiles
nothing, the cached classes behave exactly like compiled ones, and a corrupt, foreign or
disabled cache falls back to compiling without failing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# lsprotocol is usually imported already in the test process (pytest-lsp), so each
# start is a fresh interpreter, like the daemon's.
_PROBE = """
import json, sys
from bosun.server.attrs_cache import AttrsCodeCache
cache = AttrsCodeCache()
installed = cache.install()
import lsprotocol.types as t
cache.finish()
p = t.Position(line=3, character=4)
r = t.Range(start=p, end=t.Position(line=3, character=9))
ok = p == t.Position(line=3, character=4) and p != t.Position(line=3, character=5)
ok = ok and r.end.character == 9 and t.Position.__init__.__code__.co_filename.startswith("<attrs")
try:
    t.Position(line=1)  # attrs' generated __init__ still checks its arguments
    ok = False
except TypeError:
    pass
print(json.dumps({"installed": installed, "added": cache.added, "hits": cache.hits,
                  "ok": ok}))
"""


def _start(cache_dir: Path, **env: str) -> dict[str, object]:
    full = {**os.environ, "BOSUN_CACHE_DIR": str(cache_dir), **env}
    if "BOSUN_NO_ATTRS_CACHE" not in env:
        full.pop("BOSUN_NO_ATTRS_CACHE", None)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=full, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _cache_file(cache_dir: Path) -> Path:
    (path,) = cache_dir.glob("attrs-*.marshal")
    return path


def test_second_start_compiles_nothing_and_classes_behave_the_same(tmp_path: Path) -> None:
    first = _start(tmp_path)
    assert first["installed"] and first["ok"]
    assert isinstance(first["added"], int) and first["added"] > 100
    assert first["hits"] == 0
    assert _cache_file(tmp_path).stat().st_mode & 0o077 == 0  # private to the user
    second = _start(tmp_path)
    assert second["ok"]
    assert second["added"] == 0
    assert second["hits"] == first["added"]


def test_a_corrupt_cache_is_rebuilt_not_fatal(tmp_path: Path) -> None:
    _start(tmp_path)
    path = _cache_file(tmp_path)
    path.write_bytes(b"\xe3garbage, as after a crash mid-write on an old version")
    path.chmod(0o600)
    rebuilt = _start(tmp_path)
    assert rebuilt["ok"] and rebuilt["hits"] == 0 and rebuilt["added"] != 0
    assert _start(tmp_path)["added"] == 0  # and the rewritten file serves the next start


def test_a_cache_others_can_write_is_not_used(tmp_path: Path) -> None:
    _start(tmp_path)
    _cache_file(tmp_path).chmod(0o666)
    again = _start(tmp_path)
    assert again["ok"] and again["hits"] == 0


def test_a_group_writable_cache_directory_is_not_trusted(tmp_path: Path) -> None:
    _start(tmp_path)
    tmp_path.chmod(0o777)
    try:
        again = _start(tmp_path)
    finally:
        tmp_path.chmod(0o700)
    assert again["ok"] and again["hits"] == 0


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    off = _start(tmp_path, BOSUN_NO_ATTRS_CACHE="1")
    assert off == {"installed": False, "added": 0, "hits": 0, "ok": True}
    assert not list(tmp_path.glob("attrs-*.marshal"))


def test_an_unwritable_cache_directory_still_starts(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert _start(blocked / "bosun")["ok"]
