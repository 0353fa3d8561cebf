"""`bosun board export` and `bosun board import`: the workspace's board copied whole to
or from another database (a SQLite file or a PostgreSQL schema), nothing left out.

    bosun board export --to postgresql://bosun@db/boards     # then set board.url
    bosun board import --from .bosun/board.sqlite3.old      # into the configured board

The other end is a file's path or a postgresql:// URL (its password from the variable
`--password-env` names, BOSUN_BOARD_PASSWORD by default; its schema `--schema`, by
default the one this workspace would get). The workspace's daemon must be stopped: the
copy holds the workspace's lock while it runs. See docs/postgresql.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bosun.cli.common import EXIT_OK, guarded, json_mode, print_json, workspace_of

if TYPE_CHECKING:
    from bosun.board.location import BoardLocation


def add_parsers(sub: Any) -> None:
    """Register `bosun board export|import`."""
    board = sub.add_parser("board", help="copy the board to or from another database")
    verbs = board.add_subparsers(dest="board_command", metavar="VERB", required=True)
    export = verbs.add_parser("export", help="copy this workspace's board into an empty one")
    export.add_argument("--to", required=True, help="a SQLite file, or a postgresql:// URL")
    imp = verbs.add_parser("import", help="copy a board into this workspace's empty board")
    imp.add_argument("--from", dest="source", required=True, help="a SQLite file or a URL")
    for parser in (export, imp):
        parser.add_argument("--schema", default="", help="the PostgreSQL schema of that end")
        parser.add_argument(
            "--password-env",
            default="BOSUN_BOARD_PASSWORD",
            help="variable holding that end's PostgreSQL password",
        )
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(func=guarded(cmd_board))


def _other_end(args: argparse.Namespace, text: str, root: Path) -> BoardLocation:
    from bosun.board.location import BoardSettings, board_location

    if not text.startswith(("postgresql://", "postgres://")):
        return Path(text).expanduser().resolve()
    settings = BoardSettings(url=text, password_env=args.password_env, schema_name=args.schema)
    return board_location(settings, root, root / "unused.sqlite3")


def cmd_board(args: argparse.Namespace) -> int:
    """Copy, holding the workspace's lock; print what was copied."""
    from bosun.board.copy import copy_board
    from bosun.board.location import board_location
    from bosun.config import load_settings
    from bosun.server.daemon import acquire_lock

    with json_mode(args.json):
        ws = workspace_of(args)
        ws.ensure_state_dir()
        settings = load_settings(ws.config_path)
        mine = board_location(settings.board, ws.root, ws.db_path, env=dict(os.environ))
        if args.board_command == "export":
            source, target = mine, _other_end(args, args.to, ws.root)
        else:
            source, target = _other_end(args, args.source, ws.root), mine
        lock = acquire_lock(ws)  # no daemon writes the board while it is copied
        try:
            report = asyncio.run(copy_board(source, target))
        finally:
            lock.close()
        if args.json:
            print_json({"source": report.source, "target": report.target, "rows": report.rows})
        else:
            total = sum(report.rows.values())
            print(f"copied {total} rows from {report.source} to {report.target}")
            for table, count in report.rows.items():
                print(f"  {table:16} {count}")
    return EXIT_OK
