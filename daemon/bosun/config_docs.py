"""Renders docs/configuration.md from the Settings models: every key, type and default.

    python -m bosun.config_docs docs/configuration.md [--check]

Generated so the documented defaults are always the real ones.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bosun.config import Settings

_INTRO = """# Configuration (generated)

Bosun reads `.bosun/config.toml` in the repository at start and again whenever the file
changes (an invalid file is reported and the previous settings stay). Every key is
optional; the defaults below are what an empty file means. Values a client sends at
`initialize` and per-run options (`bosun run --model …`, `RunOptions`) override the file.

Generated from `bosun.config.Settings` by `make generate`; do not edit by hand.
"""


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    if isinstance(annotation, type):
        text = annotation.__name__
    return (
        text.replace("typing.", "")
        .replace("pydantic.types.", "")
        .replace("bosun.", "")
        .replace("NoneType", "None")
    )


def _comments(model: type[BaseModel]) -> dict[str, str]:
    """Trailing `# why` comments on field lines: the settings' authors document there."""
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        return {}
    found: dict[str, str] = {}
    for line in source.splitlines():
        match = re.match(r"\s+(\w+)\s*:.*?#\s*(.+)$", line)
        if match and "noqa" not in match.group(2):
            found[match.group(1)] = match.group(2).strip()
    return found


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        try:
            value = info.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "(table below)"
    if hasattr(value, "value"):
        value = value.value
    try:
        text = json.dumps(value, default=str)
    except TypeError:
        text = str(value)
    return f"`{text}`" if len(text) <= 60 else "(see code)"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _section(prefix: str, model: type[BaseModel], out: list[str]) -> None:
    doc = (model.__doc__ or "").strip().splitlines()
    out += [f"## `[{prefix}]`", ""]
    if doc:
        out += [doc[0], ""]
    out += ["| key | type | default | notes |", "|---|---|---|---|"]
    nested: list[tuple[str, type[BaseModel]]] = []
    comments = _comments(model)
    for name, info in model.model_fields.items():
        sub = _nested_model(info.annotation)
        if sub is not None:
            nested.append((f"{prefix}.{name}", sub))
            out.append(f"| `{name}` | table | | see `[{prefix}.{name}]` |")
            continue
        args = typing.get_args(info.annotation)
        dict_of = [a for a in args[1:] if _nested_model(a)] if args else []
        if dict_of:
            nested.append((f"{prefix}.{name}.<name>", dict_of[0]))
        note = (info.description or comments.get(name, "")).replace("|", "\\|")
        kind = _type_name(info.annotation).replace("|", "\\|")
        out.append(f"| `{name}` | {kind} | {_default(info)} | {note} |")
    out.append("")
    for sub_prefix, sub in nested:
        _section(sub_prefix, sub, out)


def render() -> str:
    """The whole document."""
    out = [_INTRO]
    for name, info in Settings.model_fields.items():
        model = _nested_model(info.annotation)
        if model is not None:
            _section(name, model, out)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    """Write, or with --check compare, the document."""
    paths = [a for a in argv if not a.startswith("-")]
    if len(paths) != 1 or any(a.startswith("-") and a != "--check" for a in argv):
        print(__doc__, file=sys.stderr)  # never write to a file named after a flag
        return 2
    path = Path(paths[0])
    text = render()
    if "--check" in argv:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run `make generate`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
