"""Writes the protocol's JSON Schema: one file per method, plus the shared entities.

    python -m bosun_protocol.schema_export OUT_DIR [--check]

Also writes REFERENCE.md beside OUT_DIR. `--check` writes nothing and exits 1 when a
file would change (CI staleness check).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bosun_protocol import entities, reference
from bosun_protocol.errors import ERROR_DESCRIPTIONS, ErrorCode
from bosun_protocol.methods import COMMANDS, METHODS
from bosun_protocol.version import PROTOCOL_VERSION

_ENTITIES: list[type[BaseModel]] = [
    entities.Run,
    entities.Task,
    entities.Attempt,
    entities.Event,
    entities.Message,
]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True, mode="serialization")


def _file_name(method: str) -> str:
    return method.replace("/", "_").replace("$", "")


def render() -> dict[str, str]:
    """File name → content, deterministic."""
    files: dict[str, Any] = {}
    index: dict[str, Any] = {
        "protocolVersion": PROTOCOL_VERSION,
        "methods": {},
        "commands": {name: model.__name__ for name, model in COMMANDS.items()},
        "errors": {
            code.name: {"code": int(code), "meaning": ERROR_DESCRIPTIONS[code]}
            for code in ErrorCode
        },
    }
    for name, spec in METHODS.items():
        base = _file_name(name)
        files[f"{base}.params.json"] = {"title": spec.params.__name__, **_schema(spec.params)}
        row: dict[str, Any] = {
            "direction": spec.direction.value,
            "params": f"{base}.params.json",
            "doc": spec.doc,
        }
        if spec.result is not None:
            files[f"{base}.result.json"] = {"title": spec.result.__name__, **_schema(spec.result)}
            row["result"] = f"{base}.result.json"
        index["methods"][name] = row
    ent_defs: dict[str, Any] = {}
    for model in _ENTITIES:
        sch = _schema(model)
        ent_defs.update(sch.pop("$defs", {}))
        ent_defs[model.__name__] = sch
    files["entities.json"] = {"title": "Entities", "$defs": dict(sorted(ent_defs.items()))}
    files["index.json"] = index
    return {k: json.dumps(v, indent=2, sort_keys=False) + "\n" for k, v in sorted(files.items())}


def main(argv: list[str]) -> int:
    """Write or check the schema directory."""
    dirs = [a for a in argv if not a.startswith("-")]
    unknown = [a for a in argv if a.startswith("-") and a != "--check"]
    if len(dirs) != 1 or unknown:
        # Never guess: `schema_export --check` once wrote a directory named "--check".
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(dirs[0])
    check = "--check" in argv
    wanted = render()
    stale: list[str] = []
    existing = {p.name for p in out.glob("*.json")} if out.exists() else set()
    for name, text in wanted.items():
        path = out / name
        if not path.exists() or path.read_text() != text:
            stale.append(name)
            if not check:
                out.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    for name in sorted(existing - wanted.keys()):
        stale.append(name)
        if not check:
            (out / name).unlink()
    ref_path = out.parent / "REFERENCE.md"
    ref_text = reference.render()
    if not ref_path.exists() or ref_path.read_text() != ref_text:
        stale.append(str(ref_path))
        if not check:
            ref_path.write_text(ref_text)
    if check and stale:
        print("stale generated schema (run `make generate`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
