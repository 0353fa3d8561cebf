"""Validating and encoding the keyword fields of task and run writes.

Values are validated against the entity's own field types (so a bad verdict list fails
in the caller, before the write is queued) and turned into column values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import Enum
from functools import cache
from typing import Any

import pydantic_core
from bosun_protocol.entities import Run, Task
from pydantic import BaseModel, TypeAdapter, ValidationError

from bosun.board.codec import dump
from bosun.board.errors import InvalidBoardInputError

TRANSITION_FIELDS = frozenset(
    {"attempt", "worktree", "branch", "base_commit", "head_commit", "verdicts", "reason"}
)
TASK_FIELDS = TRANSITION_FIELDS | {
    "title",
    "description",
    "profile",
    "phase",
    "acceptance_criteria",
    "max_retries",
    "parent_id",
}
RUN_FIELDS = frozenset(
    {"state", "base_branch", "base_commit", "run_branch", "head_commit", "reason", "options"}
)


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    annotation = model.model_fields[name].annotation
    assert annotation is not None
    return TypeAdapter(annotation)


def _column(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel | list | dict):
        return dump(value)
    return value


def encode(
    model: type[BaseModel], fields: Mapping[str, Any], allowed: Iterable[str], what: str
) -> dict[str, Any]:
    """Column → SQL value for `fields`, each validated as `model`'s field of that name."""
    allowed = frozenset(allowed)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidBoardInputError(
            f"{what} cannot set {', '.join(unknown)}; it may set: {', '.join(sorted(allowed))}",
            data={"fields": unknown},
        )
    columns: dict[str, Any] = {}
    for name, value in fields.items():
        try:
            checked = _adapter(model, name).validate_python(value)
        except ValidationError as exc:
            raise InvalidBoardInputError(
                f"{what}: invalid {name}: {exc.errors()[0]['msg']}", data={"field": name}
            ) from exc
        columns[name] = _column(checked)
    return columns


def task_columns(fields: Mapping[str, Any], allowed: Iterable[str], what: str) -> dict[str, Any]:
    """Encode task fields."""
    return encode(Task, fields, allowed, what)


def run_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Encode run fields."""
    return encode(Run, fields, RUN_FIELDS, "update_run")


def json_data(data: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """A copy of `data`, refused before it reaches the writer unless it is JSON."""
    if not data:
        return {}
    try:
        pydantic_core.to_json(data)
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError) as exc:
        raise InvalidBoardInputError(f"{what} is not JSON-serialisable: {exc}") from exc
    return dict(data)


def plain_json(data: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """`data` as it will read back from its JSON column, refused unless it is JSON.

    Done by the caller, before the write is queued, so the writer can hand the result
    to listeners as it is instead of parsing the text it stored (see WriteTx.emit).
    """
    if not data:
        return {}
    try:
        text = pydantic_core.to_json(data)
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError) as exc:
        raise InvalidBoardInputError(f"{what} is not JSON-serialisable: {exc}") from exc
    plain: dict[str, Any] = json.loads(text)
    return plain


def assignments(columns: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """`a = ?, b = ?` and its parameters (column names come from the allow-lists above)."""
    return ", ".join(f"{c} = ?" for c in columns), list(columns.values())
