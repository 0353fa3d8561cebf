"""Settings of the model layer (owned by bosun.llm; filled in by the models issue)."""

from pydantic import BaseModel, ConfigDict


class LlmSettings(BaseModel):
    """`[llm]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    default_model: str = "scripted:demo"
