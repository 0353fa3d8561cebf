"""Finding the workspace (a git repository) and the paths of its state directory."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bosun.errors import WorkspaceError
from bosun.private_files import append_private, chmod_if_present, private_dir, touch_private

STATE_DIR_NAME = ".bosun"
# sun_path is 108 bytes on Linux including the NUL; keep a margin.
_MAX_SOCKET_PATH = 100


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )


@dataclass(frozen=True)
class Workspace:
    """A repository root and the paths bosun keeps under `.bosun/`."""

    root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR_NAME

    @property
    def db_path(self) -> Path:
        return self.state_dir / "board.sqlite3"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "daemon.lock"

    @property
    def pid_path(self) -> Path:
        return self.state_dir / "daemon.json"

    @property
    def token_path(self) -> Path:
        return self.state_dir / "token"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "config.toml"

    @property
    def worktrees_dir(self) -> Path:
        return self.state_dir / "worktrees"

    @property
    def socket_path(self) -> Path:
        """The Unix socket; moved to a short private directory when the path is too long."""
        direct = self.state_dir / "daemon.sock"
        if len(os.fsencode(direct)) <= _MAX_SOCKET_PATH:
            return direct
        digest = hashlib.sha256(os.fsencode(self.root)).hexdigest()[:16]
        base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
        return base / f"bosun-{os.getuid()}" / f"{digest}.sock"

    @property
    def socket_dir(self) -> Path:
        """The directory holding the socket: the state directory, or a private one."""
        return self.socket_path.parent

    def private_paths(self) -> list[Path]:
        """What no sandboxed command may see: the state directory and the socket's."""
        paths = [self.state_dir]
        if self.socket_dir != self.state_dir:
            paths.append(self.socket_dir)
        return paths

    def ensure_state_dir(self) -> None:
        """Create `.bosun/` (0700, self-ignoring) or say exactly why it cannot be used.

        Every directory is created 0700 or checked to be a real directory of ours (a
        link, or one another user made first, is refused), and the files the daemon
        keeps there are made 0600 before anything writes them.
        """
        if self.state_dir.exists() and not self.state_dir.is_dir():
            raise WorkspaceError(
                f"{self.state_dir} exists but is not a directory; bosun keeps its state "
                "there. Move that file away and try again."
            )
        try:
            private_dir(self.state_dir, "the state directory")
            ignore = self.state_dir / ".gitignore"
            if not ignore.exists():
                with append_private(ignore) as fh:
                    fh.write(b"*\n")
            private_dir(self.log_dir, "the log directory")
            if self.socket_dir != self.state_dir:
                private_dir(self.socket_dir, "the socket directory")
            self._private_files()
        except OSError as exc:
            raise WorkspaceError(
                f"cannot use the state directory {self.state_dir}: {exc.strerror}. "
                "Fix its ownership or permissions (it must be writable by you), "
                "or remove it and let bosun recreate it."
            ) from exc
        if not os.access(self.state_dir, os.R_OK | os.W_OK | os.X_OK):
            raise WorkspaceError(
                f"the state directory {self.state_dir} is not readable and writable by you; "
                f"run `chmod 700 {self.state_dir}` or remove it."
            )

    def _private_files(self) -> None:
        # SQLite gives its -wal and -shm files the mode of the database file, so a board
        # created 0600 here keeps all three private; older boards and logs are fixed.
        touch_private(self.db_path)
        touch_private(self.lock_path)
        for name in ("board.sqlite3-wal", "board.sqlite3-shm", "board.sqlite3-journal"):
            chmod_if_present(self.state_dir / name)
        for entry in self.log_dir.iterdir():
            if entry.is_file() and not entry.is_symlink():
                chmod_if_present(entry)


def find_workspace(start: Path | None = None) -> Workspace:
    """The repository containing `start`, checked to be usable; else a WorkspaceError."""
    start = (start or Path.cwd()).resolve()
    if not start.exists():
        raise WorkspaceError(f"{start} does not exist.")
    probe = _git(start, "rev-parse", "--is-bare-repository")
    if probe.returncode != 0:
        if "not a git repository" in probe.stderr:
            raise WorkspaceError(
                f"{start} is not inside a git repository. Run bosun from a repository, "
                "or create one with `git init && git commit --allow-empty -m init`."
            )
        raise WorkspaceError(f"git failed in {start}: {probe.stderr.strip()}")
    if probe.stdout.strip() == "true":
        raise WorkspaceError(
            f"{start} is a bare repository: bosun needs a working tree. "
            "Clone it (`git clone <bare> <dir>`) and run bosun in the clone."
        )
    top = _git(start, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or not top.stdout.strip():
        raise WorkspaceError(
            f"{start} is inside a git directory, not a working tree; run bosun from the "
            "repository's working tree."
        )
    root = Path(top.stdout.strip())
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if head.returncode != 0:
        raise WorkspaceError(
            f"the repository at {root} has no commits yet. "
            "Make a first commit (`git commit --allow-empty -m init`) and try again."
        )
    return Workspace(root=root)
