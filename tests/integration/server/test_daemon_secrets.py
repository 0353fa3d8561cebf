"""Provider keys are in no process image a command can read: not the daemon's environment
(the launcher hands them over a pipe), not its memory or a ptrace of it (non-dumpable).

CI runs as root, where a same-user process is root and may read any memory: commands
there are kept away by the sandbox (bwrap's own PID namespace; Landlock as root and
`none` are refused, tests/unit/tools/test_sandbox_choice.py). The unprivileged case
creates a user with useradd and runs the daemon and the attacker as that user.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bosun.server.launcher import start_daemon_process
from bosun.workspace import Workspace

from tests.integration.server.conftest import IDLE_SCENARIO, init_repo

KEY = "sk-test-" + "k3y" * 8

# What a hostile command would try against the daemon's pid, as the daemon's user.
ATTACK = r"""
import ctypes, sys
pid = int(sys.argv[1])
def attempt(what, fn):
    try:
        print(what, "READ", fn()[:100000].count(sys.argv[2].encode()))
    except OSError as exc:
        print(what, "REFUSED", exc.errno)
attempt("environ", lambda: open(f"/proc/{pid}/environ", "rb").read())
attempt("cmdline", lambda: open(f"/proc/{pid}/cmdline", "rb").read())
def mem():
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as m:
        data = b""
        for line in maps:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if "rw" in line.split()[1]:
                try:
                    m.seek(lo); data += m.read(min(hi - lo, 1 << 24))
                except OSError:
                    pass
        return data
attempt("mem", mem)
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
print("ptrace", "REFUSED" if rc != 0 else "ATTACHED", ctypes.get_errno())
if rc == 0:
    libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
"""


def _runs_as(user: pwd.struct_passwd, python: str) -> bool:
    try:
        done = subprocess.run([python, "-I", "-S", "-c", "pass"], user=user.pw_uid, check=False)
    except OSError:
        return False
    return done.returncode == 0


def _attack(pid: int, *, user: int | None = None, python: str = sys.executable) -> dict[str, str]:
    done = subprocess.run(
        [python, "-I", "-S", "-c", ATTACK, str(pid), KEY],
        capture_output=True, text=True, timeout=60, check=True, user=user,
    )  # fmt: skip
    return {line.split()[0]: " ".join(line.split()[1:]) for line in done.stdout.splitlines()}


def _config(ws: Workspace) -> None:
    ws.ensure_state_dir()
    ws.config_path.write_text(f'[llm]\ndefault_model = "scripted:{IDLE_SCENARIO}"\n')


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def test_a_launched_daemon_has_no_key_in_its_environment(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MY_SERVICE_TOKEN", KEY + "2")
    ws = Workspace(git_repo)
    _config(ws)
    proc, info = start_daemon_process(ws, detach=True)
    try:
        environ = Path(f"/proc/{info['pid']}/environ").read_bytes()
        assert KEY.encode() not in environ
        assert b"OPENAI_API_KEY" not in environ and b"MY_SERVICE_TOKEN" not in environ
        assert b"PATH=" in environ  # the rest of the environment is kept
    finally:
        _stop(proc.pid)
        proc.wait(timeout=30)


def test_a_daemon_started_by_hand_with_keys_reexecutes_without_them(git_repo: Path) -> None:
    ws = Workspace(git_repo)
    _config(ws)
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "ANTHROPIC_API_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bosun", "--workspace", str(git_repo), "daemon", "serve",
         "--background", "--ready-fd", str(write_fd)],
        env=env, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as ready:
            info = json.loads(ready.readline())
        assert info["pid"] == proc.pid  # the same process, re-executed in place
        assert KEY.encode() not in Path(f"/proc/{proc.pid}/environ").read_bytes()
    finally:
        _stop(proc.pid)
        proc.wait(timeout=30)


@pytest.fixture
def unprivileged() -> Iterator[pwd.struct_passwd]:
    """A throwaway user, made with useradd (skips with the reason where that is impossible)."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating a user needs root and useradd")
    name = "bosun-t" + uuid.uuid4().hex[:8]
    made = subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True, check=False)


HARDENING = Path(__file__).parents[3] / "daemon" / "bosun" / "server" / "hardening.py"
# The daemon's own hardening code, run by a stand-in that holds the key in its environment.
STAND_IN = f"""
exec(compile(open({str(HARDENING)!r}).read(), "hardening.py", "exec"))
harden_daemon_process()
print("ready", flush=True)
input()
"""


def test_as_an_ordinary_user_a_hardened_process_gives_no_key_to_environ_mem_or_ptrace(
    unprivileged: pwd.struct_passwd,
) -> None:
    # The venv's interpreter may live where another user cannot run it (under /root):
    # the system one runs the daemon's hardening code, with the key in its environment.
    user = unprivileged
    python = next((p for p in (sys.executable, "/usr/bin/python3") if _runs_as(user, p)), None)
    if python is None:
        pytest.skip("no Python interpreter here that another user may run")
    proc = subprocess.Popen(
        [python, "-I", "-S", "-c", STAND_IN], env={"OPENAI_API_KEY": KEY},
        user=user.pw_uid, group=user.pw_gid, extra_groups=[],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        seen = _attack(proc.pid, user=user.pw_uid, python=python)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert seen["environ"].startswith("REFUSED"), seen
    assert seen["mem"].startswith("REFUSED"), seen
    assert seen["ptrace"].startswith("REFUSED"), seen


def test_as_an_ordinary_user_the_daemon_environ_mem_and_ptrace_give_no_key(
    unprivileged: pwd.struct_passwd,
) -> None:
    user = unprivileged
    if not _runs_as(user, sys.executable):
        pytest.skip(f"{sys.executable} cannot be run by another user here")
    base = Path(tempfile.mkdtemp(prefix="bosun-secrets-"))
    try:
        os.chmod(base, 0o755)
        repo = init_repo(base / "repo")
        (base / "home").mkdir()
        for path in [base / "repo", base / "home", *(base / "repo").rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
        _config(Workspace(repo))
        for path in [repo / ".bosun", *(repo / ".bosun").rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base / "home"),
            "OPENAI_API_KEY": KEY, "BOSUN_NO_ATTRS_CACHE": "1",
        }  # fmt: skip
        start = subprocess.run(
            [sys.executable, "-m", "bosun", "--workspace", str(repo), "daemon", "start", "--json"],
            env=env, user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd=repo,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if start.returncode != 0 and "sandbox" in start.stderr + start.stdout:
            pytest.skip(f"no sandbox for an ordinary user here: {start.stderr.strip()}")
        assert start.returncode == 0, start.stderr
        pid = int(json.loads(start.stdout)["pid"])
        try:
            seen = _attack(pid, user=user.pw_uid)
        finally:
            _stop(pid)
        assert seen["environ"].startswith("REFUSED") or seen["environ"] == "READ 0", seen
        assert seen["mem"].startswith("REFUSED"), seen
        assert seen["ptrace"].startswith("REFUSED"), seen
    finally:
        shutil.rmtree(base, ignore_errors=True)
