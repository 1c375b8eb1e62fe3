"""The ``firebrick`` command: serve, db upgrade, bootstrap, account."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from firebrick.config import Settings, load_settings

if TYPE_CHECKING:
    import uvicorn

    from firebrick.db import IdentityRepository
    from firebrick.node import Node

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firebrick", description="OpenStack-compatible block storage on real files.")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--data-dir", help="where the database, pools and clouds.yaml live")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service in the foreground")
    serve.add_argument("--config", type=Path, dest="serve_config", help="TOML configuration file")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir", dest="serve_data_dir")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--workers", help="API worker processes: a number, or auto for one per CPU (default 1); one agent runs jobs"
    )
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    sub.add_parser("bootstrap", help="create the admin and demo accounts and clouds.yaml if missing")
    account = sub.add_parser("account", help="make sure a user exists with roles in a project (both made if missing)")
    account.add_argument("--user", required=True)
    account.add_argument("--project", required=True)
    account.add_argument("--password", required=True, help="used only when the user is created")
    account.add_argument("--role", action="append", required=True, help="repeat for several roles")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    config = getattr(args, "serve_config", None) or args.config
    data_dir = getattr(args, "serve_data_dir", None) or args.data_dir
    return load_settings(
        config, os.environ, host=getattr(args, "host", None), port=getattr(args, "port", None), data_dir=data_dir,
        workers=getattr(args, "workers", None),
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    if args.command == "serve":
        return _serve(settings, args.access_log)
    from firebrick.db import Database, IdentityRepository, upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    if args.command in ("bootstrap", "account"):
        db = Database(settings.database_url)
        try:
            _identity_command(args, settings, IdentityRepository(db))
        finally:
            db.dispose()  # close the pooled connections; a PostgreSQL one would otherwise leak
    return 0


def _identity_command(args: argparse.Namespace, settings: Settings, identity: IdentityRepository) -> None:
    from firebrick.domain.identity import Account, ensure_account
    from firebrick.first_run import prepare

    if args.command == "bootstrap":
        made = prepare(settings, identity)
        print(f"{'bootstrapped' if made else 'already bootstrapped'}; clouds.yaml: {settings.data_dir / 'clouds.yaml'}")
        return
    user = ensure_account(identity, Account(args.user, args.project, args.password, tuple(args.role)))
    print(f"user {user.name} ({user.id}) has {', '.join(args.role)} in project {args.project}")


def _serve(settings: Settings, access_log: bool) -> int:
    import uvicorn

    from firebrick.api import worker
    from firebrick.api.app import build_app
    from firebrick.node import Node, Role
    from firebrick.workers.agent import AgentRunning

    # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal to the handler it
    # replaced; with the default one the process would die with -15 after a clean shutdown.
    # A stop asked for by a service manager is a normal exit: status 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # The job worker threads share the interpreter with the event loop; with the default 5 ms
    # switch interval a busy loop makes each worker step wait in 5 ms slices for the GIL.
    sys.setswitchinterval(0.001)
    node = Node(settings, Role.NODE if settings.workers == 1 else Role.AGENT)
    try:
        node.become_agent()
    except AgentRunning as error:
        print(f"firebrick: {error}", file=sys.stderr)
        return 1
    print(
        f"firebrick serving on {settings.public_url} (data in {settings.data_dir}, "
        f"{settings.workers} API worker{'s' if settings.workers > 1 else ''} and one agent)",
        file=sys.stderr,
    )
    if settings.workers == 1:
        app = build_app(node)
        uvicorn.run(app, host=settings.host, port=settings.port, access_log=access_log, log_level="info")
        return 0
    _serve_workers(node, worker.config(settings, access_log))
    return 0


def _serve_workers(agent: Node, config: uvicorn.Config) -> None:
    """The agent runs here; the API workers are uvicorn's processes, on a socket bound first, so
    that a job calling this node's own API meanwhile waits in the listen backlog, not refused."""
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    agent.start()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        agent.stop()


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
