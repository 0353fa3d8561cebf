"""`bosun daemon start|serve|status|stop`."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
from typing import Any

from bosun.cli.common import (
    EXIT_OK,
    fail,
    guarded,
    print_json,
    run_async,
    workspace_of,
)

EXIT_NOT_RUNNING = 3


def add_parsers(sub: Any) -> None:
    """Register the `daemon` group."""
    daemon = sub.add_parser("daemon", help="start, stop and inspect the workspace daemon")
    dsub = daemon.add_subparsers(dest="daemon_command", metavar="ACTION", required=True)

    def listener_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--tcp", type=int, metavar="PORT", help="also listen on TCP (token)")
        p.add_argument("--ws", type=int, metavar="PORT", help="also listen on WebSocket (token)")
        p.add_argument("--host", default=None, help="TCP/WebSocket address (default 127.0.0.1)")
        p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])

    start = dsub.add_parser("start", help="start in the background and print where it listens")
    listener_args(start)
    start.add_argument("--json", action="store_true")
    start.set_defaults(func=guarded(cmd_start))

    serve = dsub.add_parser("serve", help="run in the foreground (logs to stderr too)")
    listener_args(serve)
    serve.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--secrets-fd", type=int, help=argparse.SUPPRESS)
    serve.set_defaults(func=guarded(cmd_serve))

    status = dsub.add_parser("status", help="pid, socket, version, uptime, clients, runs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=guarded(cmd_status))

    stop = dsub.add_parser("stop", help="stop the daemon and wait until it has exited")
    stop.add_argument("--timeout", type=float, default=30.0)
    stop.add_argument("--json", action="store_true")
    stop.set_defaults(func=guarded(cmd_stop))


def _listener_flags(args: argparse.Namespace) -> list[str]:
    flags: list[str] = []
    for name in ("tcp", "ws", "host", "log_level"):
        value = getattr(args, name, None)
        if value is not None:
            flags += [f"--{name.replace('_', '-')}", str(value)]
    return flags


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the daemon in this process until it is stopped."""
    from bosun.server.hardening import harden_daemon_process
    from bosun.server.secret_handoff import accept

    ws = workspace_of(args)
    # Before anything else: keys out of the environment (re-executes if they are in
    # it), then out of reach of the user's other processes.
    accept(args.secrets_fd, ws.config_path)
    harden_daemon_process()

    from bosun.server.attrs_cache import import_lsprotocol_cached

    import_lsprotocol_cached()  # before pygls: a quarter of cold start otherwise

    from bosun.config import load_settings
    from bosun.server.daemon import Daemon
    from bosun.server.logs import setup_logging

    ws.ensure_state_dir()
    settings = load_settings(ws.config_path)
    srv = settings.server
    level = args.log_level or srv.log_level
    # In the foreground logs also go to stderr; a background daemon logs to the file only.
    setup_logging(
        ws.log_dir,
        level,
        stderr=not args.background,
        max_bytes=srv.log_max_bytes,
        backups=srv.log_backups,
    )
    daemon = Daemon(
        workspace=ws,
        settings=settings,
        tcp_port=args.tcp if args.tcp is not None else srv.tcp_port,
        ws_port=args.ws if args.ws is not None else srv.ws_port,
        host=args.host or srv.host,
        ready_fd=args.ready_fd,
    )
    asyncio.run(daemon.run())
    return EXIT_OK


def cmd_start(args: argparse.Namespace) -> int:
    """Start in the background unless one is already running."""
    from bosun.server.daemon import read_daemon_info
    from bosun.server.launcher import spawn_daemon

    ws = workspace_of(args)
    if _is_running(ws.socket_path):
        info = read_daemon_info(ws) or {}
        print_json(info) if args.json else print(
            f"already running: pid {info.get('pid')} on {', '.join(info.get('listeners', []))}"
        )
        return EXIT_OK
    info = spawn_daemon(ws, _listener_flags(args))
    if args.json:
        print_json(info)
    else:
        print(f"bosun daemon {info['pid']} listening on {', '.join(info['listeners'])}")
        print(f"logs: {ws.log_dir / 'daemon.log'}")
    return EXIT_OK


def _is_running(socket_path: Any) -> bool:
    from bosun.client import Client, DaemonNotRunning

    async def probe() -> bool:
        try:
            client = await Client.connect(socket_path, timeout=5)
        except DaemonNotRunning:
            return False
        await client.close()
        return True

    return asyncio.run(probe())


def cmd_status(args: argparse.Namespace) -> int:
    """Report on the running daemon."""
    from bosun.client import Client, DaemonNotRunning

    ws = workspace_of(args)

    async def go() -> int:
        try:
            client = await Client.connect(ws.socket_path, timeout=5)
        except DaemonNotRunning:
            if args.json:
                print_json({"running": False, "workspace": str(ws.root)})
            else:
                print(f"no daemon running for {ws.root}")
            return EXIT_NOT_RUNNING
        async with client:
            st = await client.request("bosun/status")
        if args.json:
            print_json({"running": True, **st})
            return EXIT_OK
        print(f"bosun {st['version']} (protocol {st['protocolVersion']}), pid {st['pid']}")
        print(f"  workspace  {st['workspace']}")
        print(f"  listening  {', '.join(st['listeners'])}")
        print(f"  uptime     {st['uptimeS']:.0f}s   clients {st['clients']}")
        print(
            f"  runs       {st['runs']} ({st['activeRuns']} active)   last event #{st['lastSeq']}"
        )
        print(f"  sandbox    {st['sandbox']}")
        return EXIT_OK

    return run_async(go())


def cmd_stop(args: argparse.Namespace) -> int:
    """Ask the daemon to stop and wait until its lock is released."""
    from bosun.client import Client, DaemonNotRunning

    ws = workspace_of(args)

    async def go() -> int:
        try:
            client = await Client.connect(ws.socket_path, timeout=5)
        except DaemonNotRunning:
            said = {"stopped": False, "running": False, "workspace": str(ws.root)}
            print_json(said) if args.json else print(f"no daemon running for {ws.root}")
            return EXIT_OK
        async with client:
            pid = (await client.request("bosun/status")).get("pid")
            await client.request("bosun/shutdown", {"reason": "bosun daemon stop"})
        try:
            await asyncio.wait_for(asyncio.to_thread(_wait_unlocked, ws.lock_path), args.timeout)
        except TimeoutError:
            return fail(f"the daemon did not stop within {args.timeout:.0f}s")
        if args.json:
            print_json({"stopped": True, "running": False, "pid": pid, "workspace": str(ws.root)})
        else:
            print(f"stopped (pid {pid})")
        return EXIT_OK

    return run_async(go())


def _wait_unlocked(path: Any) -> None:
    # Blocks until the daemon's flock is gone, i.e. the daemon process has exited.
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
