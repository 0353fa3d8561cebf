"""Issue 12's git breaks, end to end: nothing a task writes makes the daemon's git run it.

Each attack in `git_attacks` runs through the real tool layer (run_command in the
sandbox mode under test, then the git tools), the after-action report and the real
engine commit / reset path, in every sandbox mode this machine has, as root and as an
unprivileged user. The proof of an escape is physical: a marker the planted program
writes outside the sandbox (or, in `none` mode, its dump of the daemon's environment
with a planted API key), a file deleted outside the worktree, or a hidden key staged
into the repository.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.security.git_attacks import attacks

pytestmark = pytest.mark.slow

MODES = ["bwrap", "landlock", "none"]
USERS = ["root", "unprivileged"]
SCENARIOS = sorted(attacks(Path("/x"), Path("/x")))
PROBE_USER = "bosun-probe"
_REPO = Path(__file__).resolve().parents[3]

Batch = dict[str, dict[str, Any]]


def _probe_user() -> tuple[int, int] | str:
    """(uid, gid) of an unprivileged user to run the daemon as, or why there is none."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(PROBE_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            return "useradd is not available to create an unprivileged user"
        made = subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PROBE_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0 and "already exists" not in made.stderr:
            return f"useradd failed: {made.stderr.strip()}"
        entry = pwd.getpwnam(PROBE_USER)
    return entry.pw_uid, entry.pw_gid


# Runs the driver with the test's own packages on any interpreter of the same Python:
# the venv's may live where another user cannot reach it (e.g. under /root).
_BOOT = (
    "import runpy, site, sys; site.addsitedir(sys.argv.pop(1)); sys.path.insert(0, sys.argv.pop(1)); "
    "runpy.run_module('tests.integration.security.git_attacks', run_name='__main__')"
)


def _interpreters() -> list[str]:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [
        sys.executable,
        *(p for p in (shutil.which(version, path="/usr/bin:/usr/local/bin"),) if p),
    ]


def _driver(ids: tuple[int, int] | None) -> list[str] | str:
    """The command that starts the driver as `ids` (None: as this process), or why not."""
    kwargs = _as(ids)
    site = sysconfig.get_paths()["purelib"]
    for python in _interpreters():
        argv = [python, "-c", _BOOT, site, str(_REPO)]
        check = _BOOT.replace("runpy.run_module", "import bosun.git.service #")
        try:
            probe = subprocess.run(
                [python, "-c", check, site, str(_REPO)],
                cwd=_REPO, env=_ENV, capture_output=True, check=False, **kwargs,
            )  # fmt: skip
        except OSError:  # not executable by that user
            continue
        if probe.returncode == 0:
            return argv
    return f"no Python interpreter runnable by uid {ids and ids[0]} can import bosun"


_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}


def _as(ids: tuple[int, int] | None) -> dict[str, Any]:
    if ids is None or os.getuid() != 0:
        return {}
    return {"user": ids[0], "group": ids[1], "extra_groups": []}


def _play(mode: str, user: str, base: Path) -> Batch | str:
    """Every attack in one driver process; the outcomes by scenario, or why skipped."""
    if user == "root" and os.getuid() != 0:
        return "not running as root"
    ids: tuple[int, int] | None = None
    if user == "unprivileged":
        probe = _probe_user()
        if isinstance(probe, str):
            return probe
        ids = probe
    # Under /var/tmp, not /tmp: bwrap gives commands a private /tmp, where the
    # repository would not be visible at all.
    where = Path(tempfile.mkdtemp(dir=base, prefix=f"{mode}-{user}-"))
    os.chmod(where, 0o755)
    if ids is not None:
        os.chown(where, *ids)
    driver = _driver(ids)
    if isinstance(driver, str):
        return driver
    out = subprocess.run(
        [*driver, mode, str(where)],
        cwd=_REPO,
        env=_ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **_as(ids),
    )
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        pytest.fail(f"the attack driver failed ({out.returncode}): {out.stderr[-3000:]}")
    if "skip" in lines[0]:
        return str(lines[0]["skip"])
    return {line["scenario"]: line for line in lines}


@pytest.fixture(scope="module")
def batches() -> Iterator[Callable[[str, str], Batch]]:
    """`batches(mode, user)`: the outcomes of every attack, played once per module."""
    base = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="bosun-attacks-"))
    os.chmod(base, 0o755)
    played: dict[tuple[str, str], Batch | str] = {}

    def get(mode: str, user: str) -> Batch:
        if (mode, user) not in played:
            played[mode, user] = _play(mode, user, base)
        found = played[mode, user]
        if isinstance(found, str):
            pytest.skip(found)
        return found

    yield get
    shutil.rmtree(base, ignore_errors=True)


def escapes(outcome: dict[str, Any]) -> list[str]:
    """Every proof that the attack got out, in words."""
    found = []
    for marker in outcome["markers"]:
        if outcome["mode"] != "none" or marker["has_key"]:
            found.append(f"the planted program ran outside the sandbox ({marker['name']})")
    if not outcome["victims_intact"]:
        found.append("a file outside the worktree was deleted")
    if outcome["secret_in_objects"] or outcome["secret_in_results"]:
        found.append("a hidden key was staged into the repository or shown to the agent")
    return found


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_planted_gitdir_config_or_nested_repository_never_runs_outside_the_sandbox(
    batches: Callable[[str, str], Batch], scenario: str, mode: str, user: str
) -> None:
    outcome = batches(mode, user)[scenario]
    assert outcome["error"] is None, outcome["error"]
    assert escapes(outcome) == [], outcome


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("mode", MODES)
def test_a_rewritten_git_file_fails_the_attempt_and_the_worktree_is_rebuilt(
    batches: Callable[[str, str], Batch], mode: str, user: str
) -> None:
    rewritten = [o for o in batches(mode, user).values() if o["rewrote_git_file"]]
    if mode == "none":  # nothing protects the admin records there: every kind is tried
        assert len(rewritten) >= 14
    for outcome in rewritten:
        first = outcome["attempts"][0]
        assert first["outcome"] == "error"
        assert "was tampered with" in first["error"], outcome
        assert "task.worktree_tampered" in outcome["events"]
        # The retry ran in a worktree the daemon rebuilt: its .git is git's again.
        assert outcome["attempts"][1]["outcome"] == "qa_passed"
        assert (outcome["worktree_git_file"] or "").startswith("gitdir: /"), outcome


@pytest.mark.parametrize("mode", MODES)
def test_the_agent_is_told_why_a_nested_repository_is_not_committed(
    batches: Callable[[str, str], Batch], mode: str
) -> None:
    outcome = batches(mode, "root")["nested_gitlink_by_tool"]
    commit = next(v for k, v in outcome["tool_results"].items() if k.startswith("git_commit"))
    assert "not committed: sub/" in commit
    assert "a git repository of its own" in commit
    status = next(v for k, v in outcome["tool_results"].items() if k.startswith("git_status"))
    assert "sub/" in status and "never commits a nested repository" in status
    # The engine's commit after the attempt left it out too, and the attempt says so.
    assert "not committed: sub/" in (outcome["attempts"][0]["summary"] or "")
