"""Settings of the tool layer (owned by bosun.tools)."""

from pydantic import BaseModel, ConfigDict


class ToolSettings(BaseModel):
    """`[tools]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")
