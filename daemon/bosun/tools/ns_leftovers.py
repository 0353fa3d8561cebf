"""Counting what a command left running inside bubblewrap's pid namespace.

Under bwrap a lone command (one outside an attempt's sandbox: QA's test run, a
project check) is the child of bwrap's own init, pid 1 of a fresh pid namespace. Two
things then make the daemon's count of "background processes it left" wrong when it
scans /proc after the command's exit:

- bwrap's outer process exits as soon as its init reports the command's exit status,
  while that init is still exiting: the scan often finds it (it carries the command's
  marker) and reported it as the command's leftover, after a clean `pytest` too;
- once the init is gone the kernel kills the whole namespace, so what the command
  really left is usually dead before the scan sees it, and went unreported.

So the command runs under a small `sh` wrapper inside the namespace that, once the
command returns, counts the namespace's other live processes (its own /proc: only
the command's) into a file the daemon reads. It forks nothing while it counts, and
exits with the command's status.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

COUNT_FILE = ".bosun-leftovers"

# $1: the count file; then the command. Pid 1 is bwrap's init, $$ this shell.
_WRAPPER = r"""f=$1; shift
"$@"; rc=$?
n=0
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  if [ "$p" = 1 ] || [ "$p" = "$$" ]; then continue; fi
  { read -r s < "$d/stat"; } 2>/dev/null || continue
  s=${s##*") "}
  case $s in Z*|X*) ;; *) n=$((n + 1)) ;; esac
done
printf '%s' "$n" > "$f" 2>/dev/null
exit "$rc"
"""


def counting(argv: list[str], tmp: Path) -> tuple[list[str], Path]:
    """`argv` under the counting wrapper, and the file the count will be in."""
    count_file = tmp / COUNT_FILE
    return ["/bin/sh", "-c", _WRAPPER, "sh", str(count_file), *argv], count_file


def read_count(count_file: Path) -> int:
    """The count the wrapper wrote; 0 when it wrote none (killed at a timeout)."""
    with contextlib.suppress(OSError, ValueError):
        return max(int(count_file.read_text("ascii").strip() or 0), 0)
    return 0
