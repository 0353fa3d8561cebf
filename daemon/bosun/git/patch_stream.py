"""Reading git's output a line and a file at a time, so a file's patch can be dropped
(or git stopped) as soon as it outgrows the room left for it, instead of read whole.

Every byte the budgeted task diff reads from git goes through `PatchStream` (`read`
counts them): that is what keeps a 500 MB dump from costing the daemon 500 MB.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from bosun.errors import GitError
from bosun.git.command import (
    GIT_CONFIG_ARGS,
    GitCli,
    GitOutput,
    decode,
    git_failure,
    git_timeout,
)
from bosun.git.hunks import PatchBlock, add_line

_CHUNK = 1 << 18  # read this much at a time: a long line is never read whole


class _Overflow(Exception):
    """A line went past the bytes we were willing to read for it."""


class EndOfPatch(GitError):
    """Git's patch ended before a file it was expected to show."""


class PatchStream:
    """One git command's stdout, read by lines or by `diff --git` blocks."""

    def __init__(
        self, cli: GitCli, root: Path, args: Sequence[str | bytes], input: bytes = b""
    ) -> None:
        self.args = tuple(os.fsdecode(a) for a in args)
        self.read = 0
        self.alive = True
        self._queued: deque[str] = deque()  # decoded lines not consumed yet
        self._buf = bytearray()  # bytes read after the last whole line
        self._eof = False
        self._expired = False
        self._limit = cli.timeout_s
        # A file, not a pipe, so git never blocks on what it says there; it lives as
        # long as the stream and is closed by finish() or close().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        # The input in a file too: git answers as it reads, without a writer thread.
        with tempfile.TemporaryFile() as stdin:
            stdin.write(input)
            stdin.seek(0)
            try:
                self._proc = subprocess.Popen(
                    ["git", *GIT_CONFIG_ARGS, *args],
                    cwd=root,
                    env=cli.environment(root),
                    stdin=stdin if input else subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=self._stderr,
                    start_new_session=True,  # a timeout kills git and anything it started
                )
            except FileNotFoundError as exc:
                self._stderr.close()
                raise GitError(f"cannot run git in {root}: {exc.strerror}") from exc
        self._timer = threading.Timer(self._limit, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def read_all(self) -> bytes:
        """The whole output (for small answers: listings, sizes), git checked."""
        assert self._proc.stdout is not None
        out = self._proc.stdout.read()
        self.read += len(out)
        self._eof = True
        self.finish()
        return out

    def next_block(self, path: str, cap: int, skip_limit: int) -> PatchBlock | None:
        """The next file's patch block, or None when its hunk lines came to more than
        `cap` bytes: then the rest of it is read and dropped while that stays under
        `skip_limit` bytes, else (or when one line alone is too long) git is stopped and
        `alive` turns False. Raises `EndOfPatch` when git has no more files to show, or
        shows another file than `path` (checked when git did not quote the name).

        Lines are split as the whole patch is (`hunks.add_line`), so a block read here
        gives the same hunks and hunk ids."""
        start = self.read
        block = PatchBlock(header=[], hunks=[])
        kept = 0  # what the hunks cost at least
        dropping = cap < 0
        while True:
            # Header lines do not count against `cap`, so a long path still gets read.
            limit = skip_limit - (self.read - start) if dropping else cap - kept + _CHUNK
            try:
                line = self._peek(max(limit, 0))
            except _Overflow:
                self.close()
                return None
            if line is None and not block.header:
                raise EndOfPatch("git showed fewer files than it was asked for")
            if line is None or (line.startswith("diff --git ") and block.header):
                return None if dropping else block
            self._queued.popleft()
            if not block.header:
                if line.startswith("diff --git "):
                    if not line.endswith(('"', path)):
                        raise EndOfPatch(f"git showed another file than {path!r}")
                    block.header.append(line)
                continue  # what comes before the first block is not part of any file
            if dropping:
                if self.read - start > skip_limit:
                    self.close()
                    return None
                continue
            kept += add_line(block, line)
            if kept > cap:
                dropping = True
                block.hunks.clear()

    def at_end(self) -> bool:
        """Whether git has nothing more to show (read up to one more line to know)."""
        try:
            return self._peek(_CHUNK) is None
        except _Overflow:
            return False

    def _peek(self, limit: int) -> str | None:
        """The next decoded line (left queued), None at the end of the output; raises
        _Overflow when a line runs past `limit` bytes without ending."""
        while not self._queued:
            if self._eof and not self._buf:
                return None
            self._fill(limit)
        return self._queued[0]

    def _fill(self, limit: int) -> None:
        """Read a chunk and queue the lines it completes (decoded many at once: per line
        it would cost more than git's work)."""
        assert self._proc.stdout is not None
        data = b"" if self._eof else os.read(self._proc.stdout.fileno(), _CHUNK)
        self.read += len(data)
        self._eof = not data
        self._buf += data
        cut = self._buf.rfind(b"\n") + 1
        if not cut and not self._eof:
            if len(self._buf) > limit:
                raise _Overflow
            return
        if self._eof and not cut:
            cut = len(self._buf)
        whole = bytes(self._buf[:cut])
        del self._buf[:cut]
        # Exact text, as `GitCli.run` reads it (CRs kept): hunk ids are made from it. A
        # chunk ends on LF, which no UTF-8 sequence holds, so none is cut in two.
        text = decode(whole)
        lines = text.split("\n")
        if whole.endswith(b"\n"):
            lines.pop()
        self._queued.extend(lines)

    def finish(self) -> None:
        """After the output was read to its end: raise if git failed or took too long."""
        self.alive = False
        self._timer.cancel()
        code = self._proc.wait()
        self._stderr.seek(0)
        said = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        self._close_stdout()
        self._raise_if_expired()
        if code != 0:
            raise git_failure(GitOutput(self.args, code, "", said))

    def close(self) -> None:
        """Stop git now (what it had left to say is not wanted)."""
        self.alive = False
        self._timer.cancel()
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._close_stdout()
        self._stderr.close()
        self._raise_if_expired()

    def _raise_if_expired(self) -> None:
        if self._expired:
            raise git_timeout(self.args, self._limit)

    def _close_stdout(self) -> None:
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def _expire(self) -> None:
        self._expired = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
