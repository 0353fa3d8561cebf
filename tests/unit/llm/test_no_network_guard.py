"""The guard that keeps tests away from real providers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from tests.fakes.no_network import NetworkGuard, RealNetworkBlockedError, is_local


def test_loopback_and_unix_addresses_count_as_local() -> None:
    assert is_local("127.0.0.1")
    assert is_local("::1")
    assert is_local("localhost")
    assert is_local(None)
    assert not is_local("api.openai.com")
    assert not is_local("192.0.2.1")


def test_connect_to_a_public_address_is_refused_and_recorded(network_guard: NetworkGuard) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RealNetworkBlockedError, match=r"192\.0\.2\.1:443"):
            sock.connect(("192.0.2.1", 443))
    finally:
        sock.close()
    assert network_guard.violations == ["connect to 192.0.2.1:443"]
    network_guard.violations.clear()  # this test provoked it on purpose


async def test_sdk_pointed_at_a_real_provider_is_stopped_before_any_traffic(
    network_guard: NetworkGuard,
) -> None:
    client = openai.AsyncOpenAI(api_key="sk-not-real-123456", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "hi"}]
        )
    await client.close()
    assert any("api.openai.com" in v for v in network_guard.violations)
    network_guard.violations.clear()


def test_provider_keys_from_the_environment_are_hidden() -> None:
    assert "OPENAI_API_KEY" not in os.environ
    assert "ANTHROPIC_API_KEY" not in os.environ


def test_a_test_that_swallowed_the_refusal_still_fails(tmp_path: Path) -> None:
    (tmp_path / "test_sneaky.py").write_text(
        "import socket\n"
        "def test_sneaky():\n"
        "    try:\n"
        "        socket.getaddrinfo('api.anthropic.com', 443)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.fakes.no_network",
            "-p",
            "no:cacheprovider",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "test tried to reach the network: name lookup of api.anthropic.com" in out.stdout
