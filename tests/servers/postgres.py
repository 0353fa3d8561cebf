"""A real PostgreSQL server for the tests: initdb and pg_ctl into a temporary directory.

Debian's `postgresql` package (scripts/install-postgres.sh installs it) puts the server
binaries in /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so
when the tests run as root (CI does) the cluster belongs to an unprivileged system
user, `bosun-test` (created here with useradd when missing), and the server commands run
through `runuser -u bosun-test --`. The server listens on 127.0.0.1 on a free port and
on a Unix socket in its own directory; password authentication (scram) on TCP, so the
board's password handling is exercised too.

A pytest plugin: the `postgres_server` fixture starts one server for the session the
first time a test asks for it, and stops it (and removes its directory) at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "bosun-test"
SUPERUSER = "bosun"
DATABASE = "bosun"


def server_bindir() -> Path:
    """The newest installed server's bin directory; a clear failure when there is none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "no PostgreSQL server found (pg_ctl): run scripts/install-postgres.sh "
        "(apt-get install postgresql)"
    )


def _version(path: str) -> int:
    try:
        return int(Path(path).parents[1].name.split(".")[0])
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ensure_user() -> str:
    """The unprivileged user the cluster runs as when we are root."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
            timeout=60,
        )
    return USER


class PostgresServer:
    """One cluster in a temporary directory; start, stop and restart it at will."""

    def __init__(self) -> None:
        self.bindir = server_bindir()
        self.user = _ensure_user() if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="bosun-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.password = secrets.token_hex(12)
        self.port = _free_port()
        self._started = False
        self.sockets.mkdir()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._initdb()

    def _as_owner(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(argv[:2])} failed ({done.returncode}): "
                f"{done.stdout}{done.stderr}\n{log[-3000:]}"
            )
        return done

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        self._as_owner(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()

    def start(self) -> None:
        """Start the server and wait until it accepts connections (on the same port as
        before when restarted; a first start whose free port was taken meanwhile tries
        another)."""
        for attempt in range(3):
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.sockets} -c max_connections=200"
            )
            try:
                self._as_owner(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                    "-t", "60", "start",
                )  # fmt: skip
            except RuntimeError:
                if self._started or attempt == 2:
                    raise
                self.port = _free_port()
                continue
            self._started = True
            return

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` ends every session, as a restart by an admin does)."""
        self._as_owner("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        """Whether the server is up."""
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0

    def url(self, *, password: bool = False, database: str = DATABASE) -> str:
        """postgresql://bosun@127.0.0.1:PORT/DATABASE, with the password in it if asked."""
        secret = f":{self.password}" if password else ""
        return f"postgresql://{SUPERUSER}{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        """CREATE DATABASE `name` (through the Unix socket, trusted locally)."""
        self._as_owner(
            "psql", "-h", str(self.sockets), "-p", str(self.port), "-U", SUPERUSER, "-d",
            "postgres", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"',
        )  # fmt: skip

    def remove(self) -> None:
        """Stop if running and delete the cluster's directory."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server with a `bosun` database, for the whole session."""
    server = PostgresServer()
    try:
        server.start()
        server.create_database(DATABASE)
        yield server
    finally:
        server.remove()
