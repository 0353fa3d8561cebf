"""Settings of the engine (owned by bosun.engine)."""

from pydantic import BaseModel, ConfigDict, Field


class EngineSettings(BaseModel):
    """`[engine]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(default=5, ge=1, le=256)
    max_retries: int = Field(default=4, ge=0, le=100)
    review_gate: bool = False
