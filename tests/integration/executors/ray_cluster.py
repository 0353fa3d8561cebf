"""A real Ray cluster on 127.0.0.1 for the executor tests: a head that runs nothing and
two worker nodes, each `ray start --block` in its own session, with its own temporary
and working directory and a custom resource naming it. Stopped by the test through its
own process groups (never `ray stop`, which ends every Ray process of the machine)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_LAUNCHER = Path(__file__).with_name("ray_launcher.py")
_STORE_BYTES = 80 * 1024 * 1024  # the object store's floor is ~75 MiB
_UP_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    name: str
    dir: Path
    proc: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the node's whole process group (raylet, its workers): a lost machine."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)


@dataclass
class Cluster:
    base: Path
    port: int = field(default_factory=_free_port)
    nodes: dict[str, Node] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start_node(self, name: str, *args: str) -> Node:
        node_dir = self.base / name
        (node_dir / "tmp").mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "BOSUN_NODE_DIR": str(node_dir)}
        command = [
            sys.executable, str(_LAUNCHER), "start", "--block", "--node-ip-address=127.0.0.1",
            f"--temp-dir={node_dir / 'tmp'}", "--disable-usage-stats",
            f"--object-store-memory={_STORE_BYTES}", *args,
        ]  # fmt: skip
        log = (self.base / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        node = Node(name, node_dir, proc)
        self.nodes[name] = node
        return node

    def start(self) -> None:
        self.start_node("head", "--head", f"--port={self.port}", "--num-cpus=0",
                        "--include-dashboard=false")  # fmt: skip
        self._wait_for("head", 1)
        for name in ("w1", "w2"):
            resources = json.dumps({"bosun": 1, name: 1})
            self.start_node(name, f"--address={self.address}", "--num-cpus=1",
                            f"--resources={resources}")  # fmt: skip
        self._wait_for("w1", 3)

    def alive_nodes(self) -> int:
        """Nodes the head counts as alive (`ray status`-free: Ray's state API via a child)."""
        probe = (
            "import ray, ray._private.services as s; s.resolve_ip_for_localhost = lambda h: h; "
            f"ray.init(address='{self.address}', _node_ip_address='127.0.0.1', "
            "log_to_driver=False, logging_level='ERROR'); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))"
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
        lines = done.stdout.strip().splitlines()
        return int(lines[-1]) if done.returncode == 0 and lines else 0

    def _wait_for(self, name: str, count: int) -> None:
        deadline = time.monotonic() + _UP_S
        while self.alive_nodes() < count:
            for node in self.nodes.values():
                if node.proc.poll() is not None:
                    log = (self.base / f"{node.name}.log").read_text(errors="replace")
                    raise RuntimeError(f"ray node {node.name} exited:\n{log[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test's Ray cluster did not reach {count} nodes")
            time.sleep(0.5)  # polling a process we started, not waiting on a test's state

    def stop(self) -> None:
        for node in reversed(list(self.nodes.values())):
            node.kill()
