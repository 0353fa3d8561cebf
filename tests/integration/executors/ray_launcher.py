"""`ray start` for the tests' cluster on 127.0.0.1 (run as a script by ray_cluster.py).

Ray replaces a loopback --node-ip-address with the machine's outward address, so that
other machines could join; the test cluster must stay on loopback (the network rule).
The one Ray function that does it is made to keep the address as given, then Ray's own
command line runs unchanged.
"""

from __future__ import annotations

import sys

import ray._private.services as services
from ray.scripts.scripts import main


def _as_given(host: str) -> str:
    return host


if __name__ == "__main__":
    services.resolve_ip_for_localhost = _as_given
    sys.argv[0] = "ray"
    sys.exit(main())  # type: ignore[no-untyped-call]
