"""pygls wiring for the bosun protocol: typed requests, pydantic converter hooks.

pygls structures incoming messages with cattrs; for methods it does not know, params
would arrive as untyped values. Each `bosun/*` method is given an attrs request class
whose `params` field has the protocol's pydantic model type, and the converter learns to
build pydantic models with `model_validate`, so handlers receive validated models.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Generator
from typing import Any

import attrs
from bosun_protocol.base import WireModel
from bosun_protocol.methods import METHODS, Direction
from cattrs import Converter
from lsprotocol import types
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.protocol import LanguageServerProtocol, default_converter, lsp_method

from bosun.errors import find_cause


def _is_wire_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _structure_model(value: Any, tp: type[BaseModel]) -> BaseModel:
    return tp.model_validate({} if value is None else value)


def _unstructure_model(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def bosun_converter() -> Converter:
    """pygls's converter plus hooks that build and dump pydantic models."""
    converter: Converter = default_converter()  # type: ignore[no-untyped-call]
    converter.register_structure_hook_func(_is_wire_model, _structure_model)
    converter.register_unstructure_hook_func(_is_wire_model, _unstructure_model)
    return converter


def _request_class(method: str, params: type[WireModel]) -> type:
    name = "Request_" + method.replace("/", "_")
    return attrs.make_class(
        name,
        {
            "id": attrs.field(type=int | str),  # type: ignore[arg-type]
            "params": attrs.field(type=params, default=None),
            "method": attrs.field(type=str, default=method),
            "jsonrpc": attrs.field(type=str, default="2.0"),
        },
    )


REQUEST_TYPES: dict[str, type] = {
    name: _request_class(name, spec.params)
    for name, spec in METHODS.items()
    if spec.direction is Direction.CLIENT_TO_SERVER
}


def to_plain(value: Any) -> Any:
    """Undo pygls's namedtuples (how it structures untyped values) back into JSON values."""
    if hasattr(value, "_asdict"):
        return {k: to_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def find_validation_error(exc: BaseException) -> ValidationError | None:
    """The pydantic error inside whatever cattrs/pygls wrapped it in."""
    return find_cause(exc, ValidationError)


_OBJECT_ERRORS = frozenset({"model_type", "model_attributes_type", "dict_type"})


def describe_validation_error(err: ValidationError) -> str:
    """`field.path: problem` for each error, e.g. `taskId: Field required`."""
    parts = []
    for item in err.errors():
        where = ".".join(str(p) for p in item["loc"]) or "params"
        # pydantic names the model ("instance of CreateRunParams"): say what to send.
        msg = "expected an object" if item["type"] in _OBJECT_ERRORS else item["msg"]
        parts.append(f"{where}: {msg}")
    return "invalid params: " + "; ".join(parts)


class BosunProtocol(LanguageServerProtocol):
    """LSP protocol that knows the bosun methods and never exits the process."""

    on_exit: Any = None  # set by the connection: closes only this client
    initialize_extras: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance

    @functools.lru_cache  # noqa: B019 - bounded by the method table
    def get_message_type(self, method: str) -> type[Any] | None:
        return REQUEST_TYPES.get(method) or super().get_message_type(method)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """`exit` ends this client's connection, never the daemon."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        if self.on_exit is not None:
            # After this handler's own bookkeeping: closing now cancels the future pygls
            # is about to resolve for it, which it then logs as an error on every exit.
            asyncio.get_running_loop().call_soon(self.on_exit)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        """An unknown command is "method not found" and lists the commands there are
        (pygls answers invalid params and "is not defined")."""
        if params.command not in self.fm.commands:
            known = ", ".join(sorted(self.fm.commands))
            raise JsonRpcMethodNotFound(
                f"there is no command {params.command!r}; the commands are: {known}"
            )
        return (yield from super().lsp_workspace__execute_command(params))

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """pygls's initialize, plus bosun's identity under `capabilities.experimental`."""
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"bosun": dict(self.initialize_extras)}
        return result
