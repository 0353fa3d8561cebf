"""The one table of error codes bosun answers with.

JSON-RPC reserves -32768..-32000; LSP uses -32899..-32800. Bosun's own codes live in
-32099..-32050 (the "server error" range JSON-RPC leaves to implementations).
"""

from enum import IntEnum


class ErrorCode(IntEnum):
    """Every error code a client may see, with its meaning in the docstring table."""

    # JSON-RPC
    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    # LSP
    SERVER_NOT_INITIALIZED = -32002
    REQUEST_CANCELLED = -32800
    # Bosun
    NOT_FOUND = -32050
    INVALID_TRANSITION = -32051
    CONFLICT = -32052
    DEPENDENCY_CYCLE = -32053
    NOT_A_REPOSITORY = -32054
    GIT_ERROR = -32055
    BUDGET_EXCEEDED = -32056
    MODEL_ERROR = -32057
    UNAUTHORIZED = -32058
    MESSAGE_TOO_LARGE = -32059
    SHUTTING_DOWN = -32060
    PROTOCOL_MISMATCH = -32061
    INVALID_STATE = -32062
    STORAGE_UNAVAILABLE = -32063


ERROR_DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.PARSE_ERROR: "The message was not valid JSON.",
    ErrorCode.INVALID_REQUEST: "The JSON was not a valid JSON-RPC 2.0 request.",
    ErrorCode.METHOD_NOT_FOUND: "No such method.",
    ErrorCode.INVALID_PARAMS: "Params failed validation; the message names the field.",
    ErrorCode.INTERNAL_ERROR: "A bug in the daemon; it is logged and the daemon goes on.",
    ErrorCode.SERVER_NOT_INITIALIZED: "A request came before `initialize`.",
    ErrorCode.REQUEST_CANCELLED: "The client cancelled the request.",
    ErrorCode.NOT_FOUND: "The run, task or attempt does not exist.",
    ErrorCode.INVALID_TRANSITION: "The task is not in a state that allows this.",
    ErrorCode.CONFLICT: "Someone else changed it first (compare-and-swap lost); re-read and retry.",
    ErrorCode.DEPENDENCY_CYCLE: "The dependency would make a cycle; `data.cycle` names it.",
    ErrorCode.NOT_A_REPOSITORY: "The workspace is not a usable git repository.",
    ErrorCode.GIT_ERROR: "A git operation failed; the message carries git's words.",
    ErrorCode.BUDGET_EXCEEDED: "A token or money budget is spent.",
    ErrorCode.MODEL_ERROR: "The model provider failed in a way retrying will not fix.",
    ErrorCode.UNAUTHORIZED: "Missing or wrong token.",
    ErrorCode.MESSAGE_TOO_LARGE: "A message exceeded the size limit.",
    ErrorCode.SHUTTING_DOWN: "The daemon is shutting down.",
    ErrorCode.PROTOCOL_MISMATCH: "Client and daemon protocol major versions differ.",
    ErrorCode.INVALID_STATE: "The run is not in a state that allows this.",
    ErrorCode.STORAGE_UNAVAILABLE: (
        "The board cannot be written (disk full, read-only); runs are paused until it can."
    ),
}
