"""The `bosun` command line: one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from bosun.cli.common import json_mode
from bosun.cli.display import visible_output

# Exit status when stdout was closed under us (`bosun events | head`), as a shell
# reports a command killed by SIGPIPE. The CLI keeps Python's ignored SIGPIPE (the
# daemon it may start inherits the disposition) and stops quietly instead.
EXIT_BROKEN_PIPE = 141

# Each module exposes add_parsers(subparsers); commands set `func` on their parser.
_COMMAND_MODULES = [
    "bosun.cli.daemon_commands",
    "bosun.cli.lsp_relay",
    "bosun.cli.acp_command",
    "bosun.cli.run_commands",
    "bosun.cli.git_commands",
    "bosun.cli.doctor_command",
    "bosun.cli.demo_command",
    "bosun.cli.engine_commands",
    "bosun.cli.mcp_command",
    "bosun.cli.plan_commands",
    "bosun.cli.prompt_commands",
    "bosun.cli.board_commands",
]


# Commands an editor or a script starts often get a parser with only their own module,
# so `bosun lsp` does not pay for importing every command group (and their models).
_FAST = {
    "lsp": "bosun.cli.lsp_relay",
    "acp": "bosun.cli.acp_command",
    "daemon": "bosun.cli.daemon_commands",
    "mcp": "bosun.cli.mcp_command",
}


def _command_word(argv: Sequence[str]) -> str | None:
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--workspace", "-C"):
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(modules: Sequence[str] = tuple(_COMMAND_MODULES)) -> argparse.ArgumentParser:
    """The argument parser with the subcommands of `modules`."""
    parser = argparse.ArgumentParser(
        prog="bosun",
        description="Run LLM coding agents on this repository (see `bosun <command> -h`).",
    )
    parser.add_argument(
        "--workspace", "-C", default=None, help="repository to work on (default: current dir)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
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
    words = list(sys.argv[1:] if argv is None else argv)
    if "deps" in words:
        from bosun.cli.plan_commands import rewrite_argv

        words = rewrite_argv(words)  # `-DEP` is a dependency, not a flag
    fast = _FAST.get(_command_word(words) or "")
    parser = build_parser([fast] if fast else _COMMAND_MODULES)
    args = parser.parse_args(words)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        # Board text never reaches the terminal as control; with --json, only JSON
        # reaches stdout.
        with visible_output(), json_mode(bool(getattr(args, "json", False))):
            result: int = func(args)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away: nothing more can be said, and the interpreter's own
        # flush at exit must not fail on the same pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return result
