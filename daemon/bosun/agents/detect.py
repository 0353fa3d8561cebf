"""The project's test command and worktree set-up, judged from the files it has.

What the project declares wins over guesses: a `test` recipe in a justfile or Makefile,
a `test` script in package.json, then a Python suite run with the worktree's own
interpreter (its `.venv`), tox or nox, `go test`, `cargo test`. tox and nox come after a
plain pytest suite because they build environments of their own, which needs the
network a sandboxed command does not have.

The set-up (run in each new worktree, bosun.git.prepare) follows the project's lock
file: `uv sync`, `poetry install`, `npm ci`, `pnpm install`, `yarn install`; a Python
project without one gets a venv and an editable install when its owner uses a `.venv`.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

from bosun.tools.project_env import env_bins
from bosun.tools.settings import ToolSettings

_PYTEST_CONFIG = re.compile(r"^\[tool\.pytest", re.M)
_TEST_TARGET = re.compile(r"^test\s*:(?!=)", re.M)  # a rule, not `test := value`
_JUST_TEST = re.compile(r"^@?test\b[^:\n=]*:(?!=)", re.M)
_MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
_JUSTFILES = ("justfile", "Justfile", ".justfile")


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError:
        return ""


def _manifest(root: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read(root / "package.json") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _pyproject(root: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read(root / "pyproject.toml"))
    except tomllib.TOMLDecodeError:
        return {}


def _has_python_tests(root: Path) -> bool:
    for folder in (root / "tests", root / "test", root):
        if folder.is_dir() and any(folder.glob("test_*.py")):
            return True
    return False


def _npm_test(root: Path) -> bool:
    scripts = _manifest(root).get("scripts")
    test = scripts.get("test") if isinstance(scripts, dict) else None
    # npm init writes a test script that only fails; it is no test suite.
    return isinstance(test, str) and "no test specified" not in test


def node_runner(root: Path) -> str:
    """The package manager the lock file names (npm without one)."""
    if (root / "pnpm-lock.yaml").is_file():
        return "pnpm"
    if (root / "yarn.lock").is_file():
        return "yarn"
    return "npm"


def _uses_pytest(root: Path) -> bool:
    return bool(
        _PYTEST_CONFIG.search(_read(root / "pyproject.toml"))
        or (root / "pytest.ini").is_file()
        or "[tool:pytest]" in _read(root / "setup.cfg")
        or "[pytest]" in _read(root / "tox.ini")
        or _has_python_tests(root)
    )


def project_python(root: Path) -> str | None:
    """The worktree's own interpreter (relative: the command runs in the worktree)."""
    for bin_dir in env_bins(root):
        if (bin_dir / "python").exists():
            return str(bin_dir.relative_to(root) / "python")
    return None


def detect_test_command(root: Path, settings: ToolSettings | None = None) -> str | None:
    """The project's test command judged from its files, or None when it has none."""
    path = (settings or ToolSettings()).command_path
    if any(_JUST_TEST.search(_read(root / f)) for f in _JUSTFILES) and shutil.which("just"):
        return "just test"
    if any(_TEST_TARGET.search(_read(root / f)) for f in _MAKEFILES):
        return "make test"
    if _npm_test(root):
        runner = node_runner(root)
        return "npm test --silent" if runner == "npm" else f"{runner} test"
    if _uses_pytest(root):
        python = project_python(root)
        if python is not None:
            return f"{python} -m pytest -q"
        runner = "pytest" if shutil.which("pytest", path=path) else "python3 -m pytest"
        return f"{runner} -q"
    if (root / "tox.ini").is_file():
        return "tox"
    if (root / "noxfile.py").is_file():
        return "nox"
    if (root / "go.mod").is_file():
        return "go test ./..."
    if (root / "Cargo.toml").is_file():
        return "cargo test --quiet"
    return None


def _extras(root: Path) -> str:
    project = _pyproject(root).get("project")
    optional = project.get("optional-dependencies") if isinstance(project, dict) else None
    if isinstance(optional, dict):
        for name in ("dev", "test", "tests"):
            if name in optional:
                return f"[{name}]"
    return ""


def user_venv_python(checkout: Path) -> Path | None:
    """The interpreter of the owner's own `.venv` in their checkout, if they use one."""
    for rel in (".venv/bin/python", "venv/bin/python"):
        candidate = checkout / rel
        if candidate.exists():
            return candidate
    return None


def detect_setup(root: Path, checkout: Path | None = None, *, network: bool = False) -> str | None:
    """The set-up a new worktree at `root` needs, or None; `checkout` is the owner's tree.

    Without network the commands work from the shared package caches only (and fail,
    saying so, when those lack something): the set-up is reported, not silently weak.
    """
    return setup_and_source(root, checkout, network=network)[0]


def setup_and_source(
    root: Path, checkout: Path | None = None, *, network: bool = False
) -> tuple[str | None, str]:
    """The detected set-up and the file it was judged from (for `bosun doctor`)."""
    offline = "" if network else " --offline"
    if (root / "uv.lock").is_file():
        return f"uv sync --frozen{offline}", "uv.lock"
    if (root / "poetry.lock").is_file():
        return "POETRY_VIRTUALENVS_IN_PROJECT=true poetry install --no-interaction", "poetry.lock"
    if (root / "pnpm-lock.yaml").is_file():
        return f"pnpm install --frozen-lockfile{offline}", "pnpm-lock.yaml"
    if (root / "yarn.lock").is_file():
        return f"yarn install --frozen-lockfile{offline}", "yarn.lock"
    if (root / "package-lock.json").is_file():
        flag = offline or " --prefer-offline"
        return f"npm ci --no-audit --no-fund{flag}", "package-lock.json"
    python = user_venv_python(checkout) if checkout is not None else None
    project = next((n for n in ("pyproject.toml", "setup.py") if (root / n).is_file()), None)
    if python is not None and project is not None:
        index = "" if network else " --no-index"
        # No pip in the new venv (ensurepip is most of a venv's cost): the owner's pip
        # installs into it (`--python`, pip 22.3+).
        command = (
            f"{python} -m venv --without-pip .venv && {python} -m pip --python "
            f".venv/bin/python install -q{index} -e '.{_extras(root)}'"
        )
        return command, f"{project} and the venv {python.parent.parent}"
    return None, "no lock file or venv to follow"
