"""Settings of the git plane (owned by bosun.git)."""

from pydantic import BaseModel, ConfigDict


class GitSettings(BaseModel):
    """`[git]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")
