"""What a command sees of the project's own environment: its tools on PATH, its caches.

A worktree prepared by its set-up (bosun.git.prepare) holds the project's environment
(`.venv`, `node_modules`): its `bin` directories come first on PATH, so `pytest` or
`xo` is the project's, run with the project's interpreter, and never the system's.
Toolchains the project's files declare (uv, poetry, pnpm, go, cargo…) are found where
the daemon's user has them and their directories follow. Tools that write caches get
them in the sandbox's private temporary directory, never in the worktree (which would
show in the diff) and never in a directory another task shares.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

# Project environments inside the worktree, in the order their tools win.
ENV_BIN_DIRS = (".venv/bin", "venv/bin", "node_modules/.bin")

# file the project has -> tools its toolchain needs on PATH
_TOOLCHAINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("uv.lock", ("uv",)),
    ("poetry.lock", ("poetry",)),
    ("pdm.lock", ("pdm",)),
    ("tox.ini", ("tox",)),
    ("noxfile.py", ("nox",)),
    ("pnpm-lock.yaml", ("pnpm", "node")),
    ("yarn.lock", ("yarn", "node")),
    ("package.json", ("npm", "node")),
    ("go.mod", ("go",)),
    ("Cargo.toml", ("cargo",)),
    ("justfile", ("just",)),
)
_HATCH = "[tool.hatch"


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def _search_path(base: str) -> str:
    """Where toolchains are looked for: the daemon's PATH, then per-user install places."""
    home = _home()
    extra = [home / ".local/bin", home / ".cargo/bin", home / "go/bin", Path("/usr/local/go/bin")]
    parts = [*os.environ.get("PATH", "").split(os.pathsep), *map(str, extra), *base.split(":")]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


def env_bins(worktree: Path) -> list[Path]:
    """The worktree's own environments' `bin` directories that exist (real, in the tree)."""
    found = []
    for rel in ENV_BIN_DIRS:
        path = worktree / rel
        # A link could point the command at another tree's tools (the user's checkout).
        if path.is_dir() and not _through_link(worktree, rel):
            found.append(path)
    return found


def _through_link(root: Path, rel: str) -> bool:
    here = root
    for part in Path(rel).parts:
        here = here / part
        if here.is_symlink():
            return True
    return False


def toolchain_dirs(worktree: Path, base: str) -> list[Path]:
    """Directories of the tools the project's files declare, not already on `base`."""
    wanted: list[str] = []
    for marker, tools in _TOOLCHAINS:
        if (worktree / marker).is_file():
            wanted += tools
    try:
        if _HATCH in (worktree / "pyproject.toml").read_text("utf-8", errors="replace"):
            wanted.append("hatch")
    except OSError:
        pass
    have = set(base.split(":"))
    search = _search_path(base)
    dirs: list[Path] = []
    for tool in dict.fromkeys(wanted):
        found = shutil.which(tool, path=search)
        if found is None:
            continue
        folder = Path(found).parent
        if str(folder) not in have and folder not in dirs:
            dirs.append(folder)
    return dirs


@dataclass(frozen=True)
class ProjectEnv:
    """The PATH and variables a command in `worktree` gets for the project's tools."""

    path: str
    variables: dict[str, str] = field(default_factory=dict)
    bins: list[Path] = field(default_factory=list)  # the worktree's own, first on PATH
    toolchains: list[Path] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Lines for `bosun doctor`."""
        lines = [f"PATH starts with the worktree's {b}" for b in self.bins]
        lines += [f"toolchain on PATH: {d}" for d in self.toolchains]
        return lines or ["no project environment in the worktree (nothing added to PATH)"]


def project_env(worktree: Path, base_path: str, cache: Path) -> ProjectEnv:
    """PATH = the worktree's env bins, the declared toolchains, then `base_path`.

    `cache` is a writable directory private to the sandbox; the tools' caches go there.
    """
    bins = env_bins(worktree)
    tools = toolchain_dirs(worktree, base_path)
    path = ":".join([*map(str, bins), *map(str, tools), base_path])
    variables = cache_variables(cache)
    venv = worktree / ".venv"
    if (venv / "bin" / "python").exists() and venv / "bin" in bins:
        variables["VIRTUAL_ENV"] = str(venv)
    variables.update(_go_rust(worktree, cache))
    return ProjectEnv(path, variables, bins, tools)


def cache_variables(cache: Path) -> dict[str, str]:
    """Where tools keep caches: all under `cache` (XDG, npm, pip, uv).

    pytest is left alone: its `.pytest_cache` ignores itself, and redirecting it with
    `-o cache_dir` warns (an error under `--strict-config`) where the plugin is off.
    """
    return {
        "XDG_CACHE_HOME": str(cache),
        "npm_config_cache": str(cache / "npm"),
        "npm_config_update_notifier": "false",
        "PIP_CACHE_DIR": str(cache / "pip"),
        "UV_CACHE_DIR": str(cache / "uv"),
        # Hard links would let a task's edit of an installed file change the shared cache.
        "UV_LINK_MODE": "copy",
    }


def _go_rust(worktree: Path, cache: Path) -> dict[str, str]:
    """Go and Cargo read their module and crate caches from the user's (read-only) copy."""
    out: dict[str, str] = {}
    home = _home()
    if (worktree / "go.mod").is_file():
        out["GOCACHE"] = str(cache / "go-build")
        modcache = Path(os.environ.get("GOMODCACHE") or home / "go" / "pkg" / "mod")
        if modcache.is_dir():
            out["GOMODCACHE"] = str(modcache)
        out["GOTOOLCHAIN"] = "local"  # never download a toolchain
    if (worktree / "Cargo.toml").is_file():
        cargo_home = Path(os.environ.get("CARGO_HOME") or home / ".cargo")
        if cargo_home.is_dir():
            out["CARGO_HOME"] = str(cargo_home)
        out["CARGO_NET_OFFLINE"] = "true"
    return out
