"""The test command and set-up follow what the project declares, run with its interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest
from bosun.agents.detect import detect_setup, detect_test_command


def _files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # declared beats guessed: a Makefile test target over the pytest config beside it
        ({"Makefile": "test:\n\tpytest\n", "pyproject.toml": "[tool.pytest.ini_options]\n"},
         "make test"),
        ({"Makefile": "test := x\nall:\n\ttrue\n"}, None),  # a variable, not a target
        ({"package.json": '{"scripts": {"test": "xo && ava"}}', "pnpm-lock.yaml": ""},
         "pnpm test"),
        ({"package.json": '{"scripts": {"test": "ava"}}', "yarn.lock": ""}, "yarn test"),
        ({"package.json": '{"scripts": {"test": "ava"}}'}, "npm test --silent"),
        ({"package.json": "not json"}, None),
        ({"tox.ini": "[pytest]\ntestpaths = tests\n"}, "-m pytest -q"),
        ({"tox.ini": "[tox]\nenvlist = py3\n"}, "tox"),
        ({"noxfile.py": ""}, "nox"),
        ({"go.mod": "module x\n"}, "go test ./..."),
        ({"Cargo.toml": "[package]\n"}, "cargo test --quiet"),
    ],
)  # fmt: skip
def test_the_declared_test_command_wins(
    tmp_path: Path, files: dict[str, str], expected: str | None
) -> None:
    _files(tmp_path, files)
    found = detect_test_command(tmp_path)
    assert (found is None) if expected is None else (found is not None and expected in found)


def test_pytest_runs_with_the_worktrees_own_interpreter(tmp_path: Path) -> None:
    _files(tmp_path, {"tests/test_a.py": "", ".venv/bin/python": ""})
    assert detect_test_command(tmp_path) == ".venv/bin/python -m pytest -q"


def test_a_linked_venv_is_not_the_projects_interpreter(tmp_path: Path) -> None:
    (tmp_path / "owner" / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / "owner" / ".venv" / "bin" / "python").write_text("")
    wt = tmp_path / "wt"
    _files(wt, {"tests/test_a.py": ""})
    (wt / ".venv").symlink_to(tmp_path / "owner" / ".venv")
    found = detect_test_command(wt)
    assert found is not None and ".venv" not in found


@pytest.mark.parametrize(
    ("files", "network", "expected"),
    [
        ({"uv.lock": ""}, False, "uv sync --frozen --offline"),
        ({"uv.lock": ""}, True, "uv sync --frozen"),
        ({"poetry.lock": ""}, False, "POETRY_VIRTUALENVS_IN_PROJECT=true poetry install"),
        ({"package-lock.json": "{}"}, False, "npm ci --no-audit --no-fund --offline"),
        ({"package-lock.json": "{}"}, True, "npm ci --no-audit --no-fund --prefer-offline"),
        ({"pnpm-lock.yaml": ""}, False, "pnpm install --frozen-lockfile --offline"),
        ({"yarn.lock": ""}, True, "yarn install --frozen-lockfile"),
        ({"README.md": ""}, True, None),
        ({"pyproject.toml": "[project]\nname='x'\n"}, True, None),  # the owner has no venv
    ],
)
def test_the_setup_follows_the_lock_file(
    tmp_path: Path, files: dict[str, str], network: bool, expected: str | None
) -> None:
    _files(tmp_path, files)
    found = detect_setup(tmp_path, tmp_path, network=network)
    assert found == expected if expected is None else (found or "").startswith(expected)


def test_an_owner_with_a_venv_gets_a_venv_and_an_editable_install_with_dev_extras(
    tmp_path: Path,
) -> None:
    owner, wt = tmp_path / "owner", tmp_path / "wt"
    _files(owner, {".venv/bin/python": ""})
    pyproject = "[project]\nname='x'\n[project.optional-dependencies]\ndev=['pytest']\n"
    _files(wt, {"pyproject.toml": pyproject})
    found = detect_setup(wt, owner, network=True)
    py = f"{owner}/.venv/bin/python"
    assert found == (
        f"{py} -m venv --without-pip .venv && {py} -m pip --python .venv/bin/python "
        "install -q -e '.[dev]'"
    )
    assert "--no-index" in (detect_setup(wt, owner, network=False) or "")
