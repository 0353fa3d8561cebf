"""Worktree acquisition with the project's environment: set-up vs a plain copy of the env.

    .venv/bin/python -m bench.worktree_prepare [--mb 20] [--rounds 2]   # --mb 150: issue 13's size
    .venv/bin/python -m bench.worktree_prepare --node [--mb 20]          # --mb 250: the issue's

A Python project whose owner keeps a `.venv` (an editable install, pytest, and one
generated dependency of `--mb` megabytes, all from a local wheel directory: no network)
under bench/.out/. Each round, interleaved so drifting load falls on all alike, a new
worktree is added with `git worktree add` inside the state directory (as the daemon's
are) and given its environment three ways:

- *copy*: `cp -a` of the owner's `.venv` (what a hand-made set-up does; its editable
  install still points at the owner's checkout, the wrong-tree verdict of issue 13);
- *cold*: the detected set-up (`venv --without-pip` + the owner's pip installing into
  it), in the sandbox as the daemon runs it, with an empty shared cache;
- *warm*: the same with the shared cache the earlier set-ups filled.

It prints time (worktree add + environment) and disk per worktree (`du` of the env).
With `--node` the project is a Node package whose one dependency is a generated
tarball of `--mb` megabytes in the repository, and the set-up is `npm ci --offline`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from bosun.agents.prepare import Preparer
from bosun.config import Settings
from bosun.tools.sandbox import current_sandbox
from bosun.tools.settings import SandboxMode

OUT = Path(__file__).parent / ".out" / "prepare"
WHEELS = OUT / "wheels"
PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "benchpkg"
version = "0.1.0"
dependencies = ["fatdep"]

[project.optional-dependencies]
dev = ["pytest"]

[tool.setuptools.packages.find]
where = ["src"]
"""


def _run(cwd: Path, *argv: str) -> None:
    subprocess.run(list(argv), cwd=cwd, check=True, capture_output=True, timeout=1800)


def _fat_wheel(mb: int) -> Path:
    """A wheel of `mb` megabytes of modules (64 KiB each), written directly as a zip."""
    path = WHEELS / f"fatdep-{mb}.0-py3-none-any.whl"
    if path.exists():
        return path
    for old in WHEELS.glob("fatdep-*.whl"):
        old.unlink()
    dist = f"fatdep-{mb}.0.dist-info"
    records: list[str] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:

        def add(name: str, data: bytes) -> None:
            whl.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append(f"{name},sha256={digest.decode()},{len(data)}")

        for i in range(mb * 16):
            seed = hashlib.sha256(str(i).encode()).hexdigest()
            add(f"fatdep/m{i:05d}.py", f"DATA = {seed!r}\n".encode() * 800)
        add("fatdep/__init__.py", b"")
        add(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: fatdep\nVersion: {mb}.0\n".encode())
        add(
            f"{dist}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        whl.writestr(f"{dist}/RECORD", "\n".join([*records, f"{dist}/RECORD,,"]) + "\n")
    return path


def _wheelhouse(mb: int) -> None:
    WHEELS.mkdir(parents=True, exist_ok=True)
    if not any(WHEELS.glob("pytest-*.whl")):
        _run(OUT, sys.executable, "-m", "pip", "download", "-q", "-d", str(WHEELS), "pip",
             "pytest", "setuptools")  # fmt: skip
    _fat_wheel(mb)


def _project(mb: int) -> Path:
    """The owner's checkout with its `.venv` (cached per size)."""
    repo = OUT / f"project-{mb}"
    if (repo / ".venv" / "bench-ready").exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "src" / "benchpkg").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / ".gitignore").write_text(".venv/\n*.egg-info/\n")
    (repo / "src" / "benchpkg" / "__init__.py").write_text("VALUE = 1\n")
    _run(repo, "git", "init", "-q", "-b", "main")
    _run(repo, "git", "add", "-A")
    _run(repo, "git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init")
    _run(repo, sys.executable, "-m", "venv", "--without-pip", ".venv")
    _run(repo, sys.executable, "-m", "pip", "--python", ".venv/bin/python", "install", "-q",
         "--no-index", "--find-links", str(WHEELS), "-e", ".[dev]", "pip")  # fmt: skip
    (repo / ".venv" / "bench-ready").touch()
    return repo


def _node_project(mb: int) -> Path:
    """The owner's checkout with `node_modules` from a vendored tarball (cached per size)."""
    repo = OUT / f"node-{mb}"
    if (repo / "node_modules" / "bench-ready").exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    fat = OUT / f"fatnode-{mb}"
    shutil.rmtree(fat, ignore_errors=True)
    (fat / "lib").mkdir(parents=True)
    (fat / "package.json").write_text(json.dumps({"name": "fatnode", "version": "1.0.0"}))
    for i in range(mb * 16):
        seed = hashlib.sha256(str(i).encode()).hexdigest()
        (fat / "lib" / f"m{i:05d}.js").write_text(f"exports.d = {seed!r};\n" * 800)
    (repo / "vendor").mkdir(parents=True)
    _run(fat, "npm", "pack", "-q", "--pack-destination", str(repo / "vendor"))
    shutil.rmtree(fat)
    manifest = {"name": "benchnode", "version": "1.0.0", "private": True,
                "dependencies": {"fatnode": "file:vendor/fatnode-1.0.0.tgz"}}  # fmt: skip
    (repo / "package.json").write_text(json.dumps(manifest))
    (repo / ".gitignore").write_text("node_modules/\n")
    _run(repo, "npm", "install", "--no-audit", "--no-fund", "--offline")
    _run(repo, "git", "init", "-q", "-b", "main")
    _run(repo, "git", "add", "-A")
    _run(repo, "git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init")
    (repo / "node_modules" / "bench-ready").touch()
    return repo


def _du_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024


async def _round(
    repo: Path, preparer: Preparer, env: str, mode: str, n: int
) -> tuple[float, float]:
    wt = repo / ".bosun" / "worktrees" / f"{mode}-{n}"
    started = time.monotonic()
    _run(repo, "git", "worktree", "add", "-q", "--detach", str(wt), "HEAD")
    if mode == "copy":
        _run(repo, "cp", "-a", str(repo / env), str(wt / env))
    else:
        if mode == "cold":
            shutil.rmtree(preparer.cache, ignore_errors=True)
        done = await preparer.run(preparer.setup_command(wt) or "", wt)
        assert done.ok, done.output
    took = time.monotonic() - started
    disk = _du_mb(wt / env)
    _run(repo, "git", "worktree", "remove", "--force", "--force", str(wt))
    return took, disk


async def bench(mb: int, rounds: int, node: bool) -> None:
    if node:
        repo, env = _node_project(mb), "node_modules"
    else:
        _wheelhouse(mb)
        repo, env = _project(mb), ".venv"
    state = repo / ".bosun"
    (state / "worktrees").mkdir(parents=True, exist_ok=True, mode=0o700)
    settings = Settings.model_validate({"tools": {"env_passthrough": ["PIP_FIND_LINKS"]}})
    sandbox = current_sandbox(SandboxMode.AUTO, allow_weak=True)
    preparer = Preparer(settings, repo, state, sandbox=sandbox, hidden=[state])
    os.environ["PIP_FIND_LINKS"] = str(WHEELS)  # passed through: pip installs offline
    owner = _du_mb(repo / env)
    print(f"environment: {owner:.0f} MB ({mb} MB generated dependency); sandbox "
          f"{sandbox.report.mode.value}; set-up: {preparer.setup_command(repo)}")  # fmt: skip
    results: dict[str, list[tuple[float, float]]] = {"copy": [], "cold": [], "warm": []}
    for n in range(rounds):
        for mode in ("copy", "cold", "warm"):
            results[mode].append(await _round(repo, preparer, env, mode, n))
    base = statistics.median(t for t, _ in results["copy"])
    print("| way | time p50 s | max s | disk MB per worktree | time / copy |")
    print("|---|---|---|---|---|")
    for mode, rows in results.items():
        times = [t for t, _ in rows]
        med = statistics.median(times)
        disk = statistics.median(d for _, d in rows)
        print(f"| {mode} | {med:.2f} | {max(times):.2f} | {disk:.0f} | {med / base:.2f} |")


def main() -> None:
    """Parse the size and rounds, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=20, help="size of the generated dependency")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--node", action="store_true", help="a Node project (npm ci)")
    args = parser.parse_args()
    asyncio.run(bench(args.mb, args.rounds, args.node))


if __name__ == "__main__":
    main()
