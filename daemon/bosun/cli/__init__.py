"""The `bosun` command line: one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes add_parsers(subparsers); commands set `func` on their parser.
_COMMAND_MODULES = [
    "bosun.cli.daemon_commands",
    "bosun.cli.lsp_relay",
    "bosun.cli.run_commands",
    "bosun.cli.git_commands",
    "bosun.cli.doctor_command",
    "bosun.cli.demo_command",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="bosun",
        description="Run LLM coding agents on this repository (see `bosun <command> -h`).",
    )
    parser.add_argument(
        "--workspace", "-C", default=None, help="repository to work on (default: current dir)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command group not built yet
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `bosun` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    result: int = func(args)
    return result
