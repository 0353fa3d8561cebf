"""Errors only the board raises, on top of the shared tree in `bosun.errors`.

BosunError
├── BoardStorageError      the database file cannot be read or written (corrupt,
│                          not a database, permissions, disk full); names the file
│   ├── BoardUnwritableError the disk refused a write (full, read-only, I/O), or the
│   │   │                  database server went away: it may pass, and the engine
│   │   │                  pauses until writes succeed again
│   │   └── BoardLockedError another daemon holds the workspace's board (PostgreSQL)
│   └── SchemaVersionError the file was written by a newer bosun
└── InvalidBoardInputError a request the board refuses as malformed (duplicate key,
                           cross-run dependency, unknown field)
"""

from __future__ import annotations

from bosun_protocol.errors import ErrorCode

from bosun.errors import BosunError


class BoardStorageError(BosunError):
    """The board's database failed; the message names the file (or server) and the fix."""

    code = ErrorCode.INTERNAL_ERROR


class BoardUnwritableError(BoardStorageError):
    """The disk refused a write (full, read-only, I/O error): it may pass; nothing was saved."""

    code = ErrorCode.STORAGE_UNAVAILABLE


class BoardLockedError(BoardUnwritableError):
    """Another daemon holds the workspace's board in a shared database (its advisory lock)."""


class SchemaVersionError(BoardStorageError):
    """The database's schema is newer than this code understands."""


class InvalidBoardInputError(BosunError):
    """A write the board refuses because its input does not make sense."""

    code = ErrorCode.INVALID_PARAMS
