"""Run every benchmark module in this package, one after another."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    """Import each `bench.<area>_<what>` module and run its `main()` with its defaults."""
    here = Path(__file__).parent
    failed = 0
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        print(f"== bench.{info.name}", flush=True)
        # Each benchmark parses sys.argv: give it none of ours, so it uses its defaults.
        sys.argv = [f"bench.{info.name}"]
        try:
            module = importlib.import_module(f"bench.{info.name}")
            result = module.main()
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except SystemExit as stop:
            if stop.code not in (0, None):
                failed += 1
        except Exception as exc:  # one broken benchmark must not hide the others
            failed += 1
            print(f"bench.{info.name} failed: {exc!r}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
