"""Which repository `bosun lsp` serves: the editor's root, read from its `initialize`.

An editor starts its language server from wherever it was itself started, so the
process directory says little; the client's `rootUri` / `workspaceFolders` say which
project is open. The relay reads the first frame itself (it copies bytes unparsed
afterwards), picks the workspace from it, and forwards the frame unchanged. When the
editor's root is not a usable repository, or `--workspace` names another one, the
relay answers `initialize` with an error the editor shows, and stays polite until
`exit` instead of vanishing (editors then only say "the server quit").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from bosun.errors import BosunError
from bosun.workspace import Workspace, find_workspace

MAX_FIRST_FRAME = 4 << 20  # an initialize message is a few KiB; refuse anything absurd
SERVER_NOT_INITIALIZED = -32002
REQUEST_FAILED = -32803


class RootError(BosunError):
    """The editor's root cannot be served; the message is shown to the user."""


def read_frame(fd: int, buffered: bytearray) -> bytes | None:
    """One `Content-Length` frame (headers and body, as read) from a blocking fd.

    None at end of input. `buffered` keeps bytes read past the frame for the next call."""
    while b"\r\n\r\n" not in buffered:
        if len(buffered) > 8192:
            raise RootError("the editor sent headers over 8 KiB")
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buffered += chunk
    head, _, _ = bytes(buffered).partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    if length is None or length > MAX_FIRST_FRAME:
        raise RootError("the editor's first message has no usable Content-Length")
    total = len(head) + 4 + length
    while len(buffered) < total:
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buffered += chunk
    frame = bytes(buffered[:total])
    del buffered[:total]
    return frame


def frame_body(frame: bytes) -> dict[str, Any] | None:
    """The JSON object of a frame, or None when it is not one."""
    try:
        body = json.loads(frame.partition(b"\r\n\r\n")[2])
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _path_of(uri: Any) -> Path | None:
    if not isinstance(uri, str) or not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", ""):
        raise RootError(f"Bosun serves local repositories only, not {uri}")
    return Path(unquote(parsed.path))


def client_root(params: Any) -> Path | None:
    """The folder the editor has open: first workspace folder, rootUri, then rootPath."""
    if not isinstance(params, dict):
        return None
    folders = params.get("workspaceFolders")
    if isinstance(folders, list) and folders and isinstance(folders[0], dict):
        found = _path_of(folders[0].get("uri"))
        if found is not None:
            return found
    found = _path_of(params.get("rootUri"))
    if found is not None:
        return found
    root_path = params.get("rootPath")
    return Path(root_path) if isinstance(root_path, str) and root_path else None


def choose_workspace(message: dict[str, Any] | None, explicit: Path | None) -> Workspace:
    """The workspace for this editor session.

    The editor's root decides; `--workspace` (explicit) must agree with it; the process
    directory is the fallback only when the editor names no root at all."""
    root = client_root(message.get("params")) if message is not None else None
    if root is None:
        return find_workspace(explicit)
    try:
        ws = find_workspace(root)
    except BosunError as exc:
        raise RootError(f"Bosun cannot serve the folder open in the editor: {exc.message}") from exc
    if explicit is not None:
        wanted = find_workspace(explicit)
        if wanted.root != ws.root:
            raise RootError(
                f"the editor has {ws.root} open but bosun lsp was started with "
                f"--workspace {wanted.root}; drop --workspace or open that folder"
            )
    return ws


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def refuse_session(
    in_fd: int, out_fd: int, first: dict[str, Any] | None, buffered: bytearray, why: str
) -> int:
    """Answer `initialize` with `why`, then every request with it, until `exit` (status 1).

    `shutdown` is answered normally so the editor's own stop sequence goes through."""
    show = {"jsonrpc": "2.0", "method": "window/showMessage", "params": {"type": 1}}
    show["params"]["message"] = f"Bosun: {why}"  # type: ignore[index]
    _write(out_fd, _frame(show))
    message = first
    while True:
        if message is not None and "id" in message and "method" in message:
            if message["method"] == "shutdown":
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"], "result": None}
            else:
                code = (
                    REQUEST_FAILED
                    if message["method"] == "initialize"
                    else (SERVER_NOT_INITIALIZED)
                )
                reply = {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": code, "message": f"Bosun: {why}"},
                }
            _write(out_fd, _frame(reply))
        if message is not None and message.get("method") == "exit":
            return 1
        try:
            frame = read_frame(in_fd, buffered)
        except RootError:
            return 1
        if frame is None:
            return 1
        message = frame_body(frame)
