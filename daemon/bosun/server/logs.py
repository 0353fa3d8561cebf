"""Structured logging: JSON lines to `.bosun/logs/daemon.log` (rotated), text to stderr.

Every record passes through secret redaction first, whatever handler it goes to, and is
cut to a bounded size: a client controls some of what is logged (a method name, params),
and one 16 MiB record would rotate the history away. A client's mistake that pygls logs
as an error with a traceback (params it could not structure, a handler's JSON-RPC error)
becomes one short info line: the client was answered, and nothing in the daemon failed.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from bosun_protocol.errors import ErrorCode
from pygls.exceptions import JsonRpcException

from bosun.private_files import PrivateRotatingFileHandler
from bosun.secrets import redact

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
MAX_MSG_CHARS = 4000
MAX_EXC_CHARS = 16000


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more chars cut]"


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _bounded(redact(record.getMessage()), MAX_MSG_CHARS)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = _bounded(redact(text), MAX_EXC_CHARS)
            record.exc_info = None
        return True


def _client_error(exc: BaseException | None) -> JsonRpcException | None:
    """The JSON-RPC error a client was answered with, unless it is an internal error."""
    while exc is not None:
        if isinstance(exc, JsonRpcException):
            return None if exc.code == ErrorCode.INTERNAL_ERROR else exc
        exc = exc.__cause__
    return None


class ClientMistakes(logging.Filter):
    """On pygls's JSON-RPC logger: client mistakes as one bounded info line, or nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if text.startswith("Unable to deserialize message"):
            # The connection answers and logs these itself, briefly (bosun.server.connection).
            return False
        exc = _client_error(record.exc_info[1] if record.exc_info else None)
        if exc is None:
            return True
        if not logging.getLogger("bosun.server").isEnabledFor(logging.INFO):
            return False
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg = "request answered with error %d: %s"
        record.args = (exc.code, _bounded(str(exc.message), 200))
        record.exc_info, record.exc_text = None, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg (and exc)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


def setup_logging(
    log_dir: Path | None, level: str, *, stderr: bool, max_bytes: int = 10 << 20, backups: int = 5
) -> None:
    """Configure the root logger for the daemon process."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(_LEVELS.get(level, logging.ERROR))
    redactor = _Redact()
    if log_dir is not None:
        fh = PrivateRotatingFileHandler(  # 0600, as every file in the state directory
            log_dir / "daemon.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        fh.setFormatter(JsonFormatter())
        fh.addFilter(redactor)
        root.addHandler(fh)
    if stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        sh.addFilter(redactor)
        root.addHandler(sh)
    # pygls logs every message body at INFO: transcripts and keys must not reach logs.
    logging.getLogger("pygls").setLevel(logging.WARNING)
    rpc = logging.getLogger("pygls.protocol.json_rpc")
    for f in [f for f in rpc.filters if isinstance(f, ClientMistakes)]:
        rpc.removeFilter(f)
    rpc.addFilter(ClientMistakes())
    logging.getLogger("websockets").setLevel(logging.WARNING)
