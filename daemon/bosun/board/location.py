"""Where a workspace's board lives: a SQLite file (default) or a PostgreSQL schema.

`[board]` in the config picks it. On PostgreSQL one database holds any number of
workspaces' boards, each in a schema of its own (named after the workspace unless
`schema_name` says otherwise), so the board's SQL is the same in both databases and a
team's own dashboards can read every workspace of the database.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, field_validator

from bosun.board.errors import BoardStorageError

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class BoardSettings(BaseModel):
    """`[board]` in `.bosun/config.toml`: where the board of runs and tasks is kept."""

    model_config = ConfigDict(extra="forbid")

    url: str = ""  # "" keeps the board in .bosun/board.sqlite3; "postgresql://USER@HOST:PORT/DATABASE" keeps it in PostgreSQL (docs/postgresql.md). Read at daemon start.
    password_env: str = "BOSUN_BOARD_PASSWORD"  # The environment variable holding the PostgreSQL password when the URL has none: the secret stays out of the config file.
    schema_name: str = ""  # The workspace's schema in that database; "" derives one from the repository's name and path (bosun_NAME_HASH).

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be empty (SQLite in .bosun/) or start with postgresql://")
        return value

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        if value and not _SCHEMA.match(value):  # at most 63 characters, as PostgreSQL allows
            raise ValueError("must be lowercase letters, digits and _, not starting with a digit")
        return value


@dataclass(frozen=True)
class PostgresBoard:
    """A board in a PostgreSQL database: the server's URL, the schema, the password."""

    url: str
    schema: str
    password: str | None = None

    @property
    def where(self) -> str:
        """The URL without its password, and the schema: how messages name the board."""
        return f"{redact_url(self.url)} (schema {self.schema})"


BoardLocation = Path | PostgresBoard


def redact_url(url: str) -> str:
    """`url` with any password in it replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def default_schema(root: Path) -> str:
    """bosun_<name>_<hash of the path>: readable, and distinct for two clones of a repo."""
    name = re.sub(r"[^a-z0-9]+", "_", root.name.lower()).strip("_")[:32] or "workspace"
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]
    return f"bosun_{name}_{digest}"


def board_location(
    settings: BoardSettings, root: Path, sqlite_path: Path, env: dict[str, str] | None = None
) -> BoardLocation:
    """The board of the workspace at `root` as the settings place it."""
    if not settings.url:
        return sqlite_path
    environ = os.environ if env is None else env
    # None is not an error: trust or peer authentication, or a ~/.pgpass, needs none.
    password = environ.get(settings.password_env) or None if settings.password_env else None
    schema = settings.schema_name or default_schema(root)
    if not _SCHEMA.match(schema):
        raise BoardStorageError(f"board schema {schema!r} is not a plain lowercase SQL name")
    return PostgresBoard(url=settings.url, schema=schema, password=password)
