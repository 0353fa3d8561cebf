"""Structured logging: JSON lines to `.bosun/logs/daemon.log` (rotated), text to stderr.

Every record passes through secret redaction first, whatever handler it goes to.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from bosun.private_files import PrivateRotatingFileHandler
from bosun.secrets import redact

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
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
    logging.getLogger("websockets").setLevel(logging.WARNING)
