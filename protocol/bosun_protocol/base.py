"""The base model every wire type derives from."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=False,
        use_enum_values=False,
        # Build each model's validator on first use, not at import: the protocol has
        # hundreds of models and a daemon answering its first request needs only a few.
        # This is a third of the daemon's cold start otherwise (issue 2's ≤ 1 s target).
        defer_build=True,
    )
