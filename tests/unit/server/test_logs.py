"""Daemon logs: JSON lines, secrets redacted, rotated so they never grow without bound."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from bosun import secrets
from bosun.server.logs import setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    secrets.clear_for_tests()


def test_records_are_json_lines_with_secrets_redacted(
    tmp_path: Path, restore_logging: None
) -> None:
    secrets.register_secret("sk-live-0123456789abcdef")
    setup_logging(tmp_path, "info", stderr=False)
    log = logging.getLogger("bosun.test")
    log.info("calling with key %s", "sk-live-0123456789abcdef")
    try:
        raise RuntimeError("boom sk-live-0123456789abcdef")
    except RuntimeError:
        log.exception("failed")
    lines = [json.loads(x) for x in (tmp_path / "daemon.log").read_text().splitlines()]
    assert lines[0]["msg"] == "calling with key [REDACTED]"
    assert lines[0]["level"] == "info" and lines[0]["logger"] == "bosun.test"
    assert "sk-live" not in json.dumps(lines)
    assert "RuntimeError: boom [REDACTED]" in lines[1]["exc"]


def test_level_filters_and_pygls_bodies_stay_out(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path, "warning", stderr=False)
    logging.getLogger("bosun.x").info("not shown")
    logging.getLogger("pygls.protocol").info("Sending data: {...transcript...}")
    logging.getLogger("bosun.x").warning("shown")
    text = (tmp_path / "daemon.log").read_text()
    assert "shown" in text and "not shown" not in text and "transcript" not in text


def test_log_file_rotates_at_its_size_limit(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path, "info", stderr=False, max_bytes=2000, backups=2)
    log = logging.getLogger("bosun.rot")
    for i in range(200):
        log.info("line %d %s", i, "x" * 50)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["daemon.log", "daemon.log.1", "daemon.log.2"]
    assert all(p.stat().st_size <= 2200 for p in tmp_path.iterdir())


def test_a_huge_record_is_cut_to_a_bounded_line(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path, "info", stderr=False)
    logging.getLogger("bosun.x").info("method %s", "m" * 5_000_000)
    (line,) = (tmp_path / "daemon.log").read_text().splitlines()
    assert len(line) < 5000 and "more chars cut" in line


def test_a_client_error_from_pygls_is_one_info_line_without_traceback(
    tmp_path: Path, restore_logging: None
) -> None:
    from pygls.exceptions import JsonRpcException, JsonRpcInternalError

    setup_logging(tmp_path, "info", stderr=False)
    rpc = logging.getLogger("pygls.protocol.json_rpc")
    rpc.error("Unable to deserialize message\n%s", "Traceback ...")
    try:
        raise JsonRpcException("run #9 does not exist", code=-32050)
    except JsonRpcException:
        rpc.exception('Exception occurred for message "%s"', 4)
    try:
        raise JsonRpcInternalError("a real bug")
    except JsonRpcInternalError:
        rpc.exception('Exception occurred for message "%s"', 5)
    records = [json.loads(x) for x in (tmp_path / "daemon.log").read_text().splitlines()]
    assert [(r["level"], "exc" in r) for r in records] == [("info", False), ("error", True)]
    assert records[0]["msg"] == "request answered with error -32050: run #9 does not exist"
