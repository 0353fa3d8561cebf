"""Text from the board, shown on a terminal as text: never as terminal control.

Task titles, summaries, errors, file names, hunk lines and branch names were written by
a model or a repository. Printed raw, an escape sequence in one could rewrite the
screen, set the window title, hide what precedes it (a lone CR), or make a path read
backwards (a bidi override). Every text the CLI writes to stdout and stderr goes
through `visible`: such characters are shown as escapes (`\\x1b`, `<U+202E>`) instead.
Binary relays (`bosun lsp`) write to the file descriptor and are not affected.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the
# bidirectional formatting characters.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\r":
        return "\u240d"  # ␍: a CR shown, not obeyed
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with every character that would control the terminal shown as an escape."""
    return _UNSAFE.sub(_escape, text)


class VisibleStream:
    """A text stream that writes everything through `visible`; the rest is the original's."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        """Write the visible form of `text`."""
        return self._inner.write(visible(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def visible_output() -> Iterator[None]:
    """While inside: stdout and stderr show board text as text (restored after)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = VisibleStream(out)
    sys.stderr = VisibleStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
