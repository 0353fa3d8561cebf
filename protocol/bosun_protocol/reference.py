"""Renders protocol/REFERENCE.md: every method's params and result fields, from the models.

Generated (by `make generate`) so that the reference can never drift from the code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bosun_protocol.errors import ERROR_DESCRIPTIONS, ErrorCode
from bosun_protocol.methods import COMMANDS, METHODS, Direction
from bosun_protocol.version import PROTOCOL_VERSION


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " \\| ".join(_type_of(p) for p in prop["anyOf"])
    if "enum" in prop:
        return " \\| ".join(f"`{v!r}`".replace("'", '"') for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']!r}`".replace("'", '"')
    kind = prop.get("type", "any")
    if kind == "array":
        return f"{_type_of(prop.get('items', {}))}[]"
    if kind == "object" and "additionalProperties" in prop:
        return f"map<string, {_type_of(prop['additionalProperties'])}>"
    return str(kind)


def _fields(model: type[BaseModel]) -> list[str]:
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return ["_(no fields)_", ""]
    required = set(schema.get("required", []))
    rows = ["| field | type | required | default / description |", "|---|---|---|---|"]
    for name, prop in props.items():
        note = prop.get("description", "")
        if "default" in prop:
            note = (f"default `{prop['default']!r}` " + note).strip()
        rows.append(
            f"| `{name}` | {_type_of(prop)} | {'yes' if name in required else ''} | {note} |"
        )
    return [*rows, ""]


def render() -> str:
    """The whole reference document."""
    out = [
        "# Bosun protocol reference (generated)",
        "",
        f"Protocol version {PROTOCOL_VERSION}. Generated from `bosun_protocol` by "
        "`make generate`; do not edit. Semantics and examples: [PROTOCOL.md](PROTOCOL.md). "
        "Entity shapes (Run, Task, Attempt, Event, Message…): `schema/entities.json`.",
        "",
    ]
    for direction, title in (
        (Direction.CLIENT_TO_SERVER, "Requests (client → daemon)"),
        (Direction.SERVER_TO_CLIENT, "Notifications (daemon → client)"),
    ):
        out += [f"## {title}", ""]
        for name, spec in METHODS.items():
            if spec.direction is not direction:
                continue
            out += [f"### `{name}`", "", spec.doc, "", f"Params: `{spec.params.__name__}`", ""]
            out += _fields(spec.params)
            if spec.result is not None:
                out += [f"Result: `{spec.result.__name__}`", ""]
                out += _fields(spec.result)
    out += ["## Commands (`workspace/executeCommand`)", ""]
    for cmd, model in COMMANDS.items():
        out += [f"### `{cmd}`", "", f"One argument: `{model.__name__}`.", ""]
    out += ["## Error codes", "", "| code | name | meaning |", "|---|---|---|"]
    out += [f"| {int(c)} | `{c.name}` | {ERROR_DESCRIPTIONS[c]} |" for c in ErrorCode]
    return "\n".join(out) + "\n"
