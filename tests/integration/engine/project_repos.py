"""Repositories built the way real projects are, for the project-environment tests.

A Python package in `src/` whose owner keeps a `.venv` with an editable install (pytest
from a wheel directory, no index), and a Node package whose one dependency is a local
tarball installed by `npm ci` (so neither needs the network once the wheels are here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WHEELS = Path.home() / ".cache" / "bosun-tests" / "wheels"
_NEEDED = ("pip", "pytest", "setuptools", "iniconfig", "pluggy", "packaging")


def _run(cwd: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=600, check=False, env=env
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done.stdout


def wheelhouse() -> Path:
    """pytest and setuptools as wheels, downloaded once into a cache kept across sessions."""
    have = {p.name.split("-")[0].lower() for p in WHEELS.glob("*.whl")}
    if all(name in have for name in _NEEDED):
        return WHEELS
    WHEELS.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(WHEELS), "pip", "pytest", "setuptools"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if got.returncode != 0:
        pytest.skip(f"cannot get the pytest and setuptools wheels: {got.stderr.strip()[-300:]}")
    return WHEELS


def commit_all(repo: Path, message: str = "init") -> None:
    """Commit everything in `repo` as a test author."""
    _run(repo, "git", "add", "-A")
    _run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "envpkg"
version = "0.1.0"

[project.optional-dependencies]
dev = ["pytest"]

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""


def python_project(root: Path, wheels: Path) -> Path:
    """A src-layout package, committed, with the owner's `.venv` (editable, pytest)."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / ".gitignore").write_text(".venv/\n*.egg-info/\n__pycache__/\n")
    pkg = root / "src" / "envpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""A package made by the test."""\n')
    (pkg / "core.py").write_text("def double(x):\n    return 2 * x\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_core.py").write_text(
        "from envpkg.core import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
    )
    _run(root, "git", "init", "-q", "-b", "main")
    commit_all(root)
    # As an owner would have it (pip, pytest, the package editable), made without
    # ensurepip, which alone takes half a minute on a loaded machine.
    _run(root, sys.executable, "-m", "venv", "--without-pip", ".venv")
    _run(
        root, sys.executable, "-m", "pip", "--python", ".venv/bin/python", "install", "-q",
        "--no-index", "--find-links", str(wheels), "-e", ".[dev]", "pip",
    )  # fmt: skip
    return root


TINY_BIN = """#!/usr/bin/env node
console.log("tiny-check ran from " + __dirname);
"""


def node_project(root: Path) -> Path | None:
    """A package whose dependency is a tarball in the repository; None without npm."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    root.mkdir(parents=True)
    tiny = root / "tiny-src"
    tiny.mkdir()
    (tiny / "package.json").write_text(
        json.dumps({"name": "tiny-check", "version": "1.0.0", "bin": {"tiny-check": "cli.js"}})
    )
    (tiny / "cli.js").write_text(TINY_BIN)
    (tiny / "cli.js").chmod(0o755)
    env = {**os.environ, "npm_config_cache": str(root.parent / "npm-cache")}
    (root / "vendor").mkdir()
    _run(tiny, npm, "pack", "-q", "--pack-destination", str(root / "vendor"), env=env)
    shutil.rmtree(tiny)
    manifest = {
        "name": "envnode",
        "version": "1.0.0",
        "private": True,
        "scripts": {"test": "tiny-check && node test.js"},
        "devDependencies": {"tiny-check": "file:vendor/tiny-check-1.0.0.tgz"},
    }
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (root / ".gitignore").write_text("node_modules/\n")
    (root / "index.js").write_text("exports.double = (x) => 2 * x;\n")
    (root / "test.js").write_text(
        'const assert = require("assert");\nassert.strictEqual(require("./index").double(2), 4);\n'
    )
    _run(root, npm, "install", "--no-audit", "--no-fund", "--offline", env=env)
    _run(root, "git", "init", "-q", "-b", "main")
    commit_all(root)
    return root
