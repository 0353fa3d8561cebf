"""What a bubblewrap sandbox shows and hides besides the worktree: runtime sockets, the
git files that could redirect git, the project and interpreter a private /tmp would
cover. Paths only; `sandbox.py` turns them into bwrap's command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_TMP = Path("/tmp")


def runtime_dirs() -> list[Path]:
    """Where runtime sockets live: `/run` (and `/var/run` where it is not a link to it),
    and `$XDG_RUNTIME_DIR` wherever it is."""
    found = [Path("/run")]
    var_run = Path("/var/run")
    if var_run.is_dir() and not var_run.is_symlink():
        found.append(var_run)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute() and Path(runtime).is_dir():
        path = Path(runtime).resolve()
        if not any(_under(path, d) for d in [*found, _TMP]) and path != Path("/"):
            found.append(path)
    return [d for d in found if d.is_dir()]


def resolver_binds() -> list[str]:
    """With the network kept, name resolution still works when `/etc/resolv.conf` points
    into `/run` (systemd-resolved): that one file is shown again, read-only."""
    target = Path("/etc/resolv.conf").resolve()
    if target.is_file() and any(_under(target, d) for d in runtime_dirs()):
        return ["--ro-bind", str(target), str(target)]
    return []


def git_redirectables(worktree: Path) -> list[Path]:
    """The worktree's `.git` and the gitdir it names: what could point git elsewhere."""
    if worktree == Path("/"):
        return []
    dot_git = worktree / ".git"
    if dot_git.is_symlink() or not dot_git.exists():
        return []
    found = [dot_git]
    if dot_git.is_file():
        try:
            line = dot_git.read_text(errors="replace").strip()
        except OSError:
            return found
        gitdir = Path(line.removeprefix("gitdir:").strip())
        if line.startswith("gitdir:") and gitdir.is_absolute() and gitdir.is_dir():
            found.append(gitdir)
    return found


def project_paths(worktree: Path) -> list[Path]:
    """What a command in `worktree` reads outside it: the repository and its venv's Python.

    The repository's main working tree holds the objects git reads and the owner's
    environment a set-up may start from; a worktree venv's `pyvenv.cfg` names the
    interpreter it was made from. Both are shown read-only where /tmp would hide them
    (the state directory inside the repository stays hidden: it is bound over later).
    """
    found: list[Path] = []
    common = _common_dir(worktree)
    if common is not None:
        # The main working tree when the git dir is its `.git`; else the git dir alone.
        found.append(common.parent if common.name == ".git" else common)
    for venv in (worktree / ".venv", worktree / "venv"):
        home = _venv_home(venv / "pyvenv.cfg")
        if home is not None:
            found.append(home.parent if home.name == "bin" else home)
    # /tmp itself is never shown whole: that would end the private /tmp.
    return [p for p in found if p != _TMP and p != Path("/")]


def _common_dir(worktree: Path) -> Path | None:
    redirect = git_redirectables(worktree)
    if len(redirect) < 2:  # the main working tree itself, or no git at all
        return None
    gitdir = redirect[1]
    try:
        line = (gitdir / "commondir").read_text(errors="replace").strip()
    except OSError:
        return gitdir.resolve()
    return (gitdir / line).resolve() if line else gitdir.resolve()


def _venv_home(cfg: Path) -> Path | None:
    try:
        text = cfg.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip().startswith("/"):
            return Path(value.strip()).resolve()
    return None


def interpreter_prefixes() -> list[Path]:
    """Where the running Python and its environment live (resolved)."""
    return [Path(p).resolve() for p in {sys.prefix, sys.base_prefix}]


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def covered_by_tmp(worktree: Path) -> list[Path]:
    """What bwrap's private /tmp would cover that a command in `worktree` needs: a
    project or an environment that lives there (a checkout under /tmp, as CI may make)
    stays visible, read-only, or the project's test command cannot even start."""
    return sorted(
        {p for p in [*interpreter_prefixes(), *project_paths(worktree)] if _under(p, _TMP)}
    )
