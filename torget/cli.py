"""The ``torget`` command: serve, manage access tokens, import and export the programme, look
after the store's schema.

Every command but ``serve`` says which store it uses (its URL, the password masked) and refuses
to make a new empty one where none exists unless given ``--init``: a command run without the
node's settings would otherwise write to a SQLite file the nodes never read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path

from aiohttp import web

from config import ConfigError, Settings, load_settings
from studio import program_io
from studio.access import Principal
from studio.branding_cases import configured_branding
from studio.errors import InvalidInput, StoreMissing, StudioError
from studio.models import TokenInput
from studio.roles import Role
from studio.service import Programme
from studio.store import SchemaVersion, Store, masked_url
from studio.store.schema import BASELINE

CLI_PRINCIPAL = Principal(token_id="cli", role=Role.ADMIN, name="command line")  # noqa: S106
EXIT_FAILED = 1
EXIT_USAGE = 2
WHICH_STORE = "set TORGET_STORE_URL or --config to the nodes' store"

# Connections the kernel keeps waiting for accept(): when a node dies its viewers arrive at
# once, and a short queue drops their SYNs (each retried after 1, 3, 7... s). The kernel caps
# it at net.core.somaxconn (docs/operations.md).
LISTEN_BACKLOG = 65535


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torget", description=__doc__)
    parser.add_argument("--config", type=Path, help="a TOML file overriding config/torget.toml")
    commands = parser.add_subparsers(dest="command", required=True)
    init = argparse.ArgumentParser(add_help=False)
    init.add_argument(
        "--init",
        action="store_true",
        help="make a new empty store if there is none (refused otherwise)",
    )

    serve = commands.add_parser("serve", help="run a Torget node")
    serve.add_argument("--config", type=Path, dest="config_sub", help=argparse.SUPPRESS)

    token = commands.add_parser("token", help="manage access tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", parents=[init], help="issue a token (printed once)")
    create.add_argument(
        "--role",
        required=True,
        choices=["admin", "operator", "moderator", "captioner", "interpreter"],
    )
    create.add_argument(
        "--studio", action="append", default=[], help="a studio id (repeat; none = all studios)"
    )
    create.add_argument("--name", help="who the token is for")
    token.add_parser("list", help="list tokens (never their secrets)")
    revoke = token.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token_id")

    program = commands.add_parser("program", help="import or export the programme")
    program_actions = program.add_subparsers(dest="action", required=True)
    imp = program_actions.add_parser(
        "import", parents=[init], help="import a YAML or CSV programme file"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--move-to",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="move the programme by whole days so its first day is this date (rehearsals)",
    )
    exp = program_actions.add_parser("export", help="print the programme as YAML or CSV")
    exp.add_argument("--format", choices=["yaml", "csv"], default="yaml")

    db = commands.add_parser("db", help="the store's schema").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("upgrade", parents=[init], help="apply the migrations the store lacks")
    db.add_parser("current", help="print the store's schema revision and what is pending")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    config_file = getattr(args, "config_sub", None) or args.config
    try:
        settings = load_settings(config_file, os.environ)
    except ConfigError as exc:
        print(f"torget: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        configured_branding(settings)
    except InvalidInput as exc:
        key = "event.name" if exc.field == "name" else f"event.brand_{exc.field}"
        print(f"torget: invalid configuration: {key}: {exc.problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        return serve(settings)
    init = bool(getattr(args, "init", False))
    work: Awaitable[int]
    if args.command == "db":
        work = _db_upgrade(settings, init) if args.action == "upgrade" else _db_current(settings)
    else:
        work = _with_programme(settings, _programme_action(args), create=init)
    try:
        return asyncio.run(work)
    except StoreMissing as exc:
        hint = WHICH_STORE + (", or pass --init to make a new empty one" if "init" in args else "")
        print(f"torget: {exc.message} ({hint})", file=sys.stderr)
        return EXIT_USAGE
    except StudioError as exc:
        print(f"torget: {exc.message}", file=sys.stderr)
        return EXIT_USAGE


def _programme_action(args: argparse.Namespace) -> Callable[[Programme], Awaitable[int]]:
    if args.command == "token":
        return {
            "create": lambda p: _token_create(p, args.role, args.studio, args.name),
            "list": _token_list,
            "revoke": lambda p: _token_revoke(p, args.token_id),
        }[args.action]
    return {
        "import": lambda p: _program_import(p, args.file, args.move_to),
        "export": lambda p: _program_export(p, args.format),
    }[args.action]


def serve(settings: Settings) -> int:
    """Run one node until interrupted."""
    from web.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Alembic talks at every look at the schema; the store logs the revisions it applied.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Tens of thousands of long-lived connection objects make full garbage collections slow
    # (latency spikes for every viewer); collect the young generations far less often.
    gc.set_threshold(100_000, 50, 1000)
    # The store's driver thread (aiosqlite) needs the GIL between the event loop's long fan-outs:
    # hand it over sooner than the default 5 ms so acks and commits are not starved.
    sys.setswitchinterval(0.0005)
    host, port = settings.server.host, settings.server.port
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        # Bound before anything else: a busy port stops the node before the store is touched
        # and before a first-start token is printed.
        sock = _bind(host, port)
    except OSError as exc:
        print(f"torget: cannot listen on {address}: {_os_reason(exc)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Torget listening on http://{address}, public URL {settings.public_url}", flush=True)
    try:
        web.run_app(
            create_app(settings),
            sock=sock,
            print=None,
            access_log=None,
            backlog=LISTEN_BACKLOG,
            loop=_event_loop(),
        )
    except StudioError as exc:  # the store cannot be opened, or is not this Torget's
        print(f"torget: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (the first address ``host`` names), not yet
    listening: the port is ours, but connections are refused (nginx tries another node at once)
    until the application has started and listens on it."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _os_reason(exc: OSError) -> str:
    """``address already in use``, not ``[Errno 98] Address already in use (while ...)``."""
    if exc.errno and not isinstance(exc, socket.gaierror):
        reason = os.strerror(exc.errno)
    else:
        reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where available (its transports write from C: the websocket fan-out is mostly
    ``transport.write`` calls), else the standard loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _say_which_store(settings: Settings) -> None:
    print(f"torget: store {masked_url(settings.store.url)}", file=sys.stderr, flush=True)


async def _with_programme(
    settings: Settings, action: Callable[[Programme], Awaitable[int]], *, create: bool
) -> int:
    _say_which_store(settings)
    store = await Store.open(settings.store.url, create=create)
    try:
        return await action(Programme(store, settings))
    finally:
        await store.close()


async def _db_upgrade(settings: Settings, init: bool) -> int:
    _say_which_store(settings)
    store = Store.connect(settings.store.url, create=init)
    try:
        before, after = await store.upgrade_schema(create=init)
    finally:
        await store.close()
    if before.empty:
        print(f"Made a new store at revision {after.current}.")
    elif before.pre_migration:
        print(f"Marked the store made before migrations as revision {BASELINE}; "
              f"now at {after.current}.")  # fmt: skip
    elif before.current == after.current:
        print(f"The store is at revision {after.current}, the newest: nothing to do.")
    else:
        print(f"Upgraded the store from revision {before.current} to {after.current}.")
    return 0


async def _db_current(settings: Settings) -> int:
    _say_which_store(settings)
    store = Store.connect(settings.store.url, create=False)
    try:
        version = await store.schema_version()
    finally:
        await store.close()
    print(_describe_version(version))
    return 0


def _describe_version(version: SchemaVersion) -> str:
    """The store's schema revision and what an upgrade would do, for an operator."""
    if version.pending is None:
        return (f"revision {version.current}, unknown to this Torget (it knows up to "
                f"{version.head}): run a newer Torget")  # fmt: skip
    if version.empty:
        return "no schema yet: the database is empty (`torget db upgrade --init` makes it)"
    if version.pre_migration:
        return (f"no revision: the store was made before migrations (`torget db upgrade` or "
                f"the next start of a node marks it {BASELINE} and upgrades it)")  # fmt: skip
    if not version.pending:
        return f"revision {version.current} (the newest)"
    return (f"revision {version.current}; pending: {', '.join(version.pending)} "
            "(`torget db upgrade` or the next start of a node applies them)")  # fmt: skip


async def _token_create(
    programme: Programme, role: str, studios: list[str], name: str | None
) -> int:
    data = TokenInput(role=Role(role), name=name or f"{role} token", studio_ids=studios)
    token, secret = await programme.issue_token(data)
    scope = ", ".join(token.studio_ids) if token.studio_ids else "all studios"
    print(f"Token {token.id} for {token.name} ({token.role.value}, {scope}). Shown only now:")
    print(secret)
    return 0


async def _token_list(programme: Programme) -> int:
    for token in await programme.list_tokens(CLI_PRINCIPAL):
        scope = ",".join(token.studio_ids) or "*"
        print(f"{token.id}\t{token.role.value}\t{scope}\t{token.name}")
    return 0


async def _token_revoke(programme: Programme, token_id: str) -> int:
    await programme.revoke_token(CLI_PRINCIPAL, token_id)
    print(f"Token {token_id} revoked.")
    return 0


async def _program_import(programme: Programme, file: Path, move_to: date | None) -> int:
    try:
        text = await asyncio.to_thread(file.read_text, encoding="utf-8-sig")
    except OSError as exc:
        print(f"torget: cannot read {str(file)!r}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if file.suffix.lower() == ".csv":
        doc = program_io.parse_csv(text, timezone=programme.settings.event.timezone)
    else:
        doc = program_io.parse_yaml(text)
    if move_to is not None:
        doc = program_io.rebase(doc, move_to)
    result = await programme.import_program(CLI_PRINCIPAL, doc)
    print(
        f"Imported {file.name}: {result.studios_created} studios created, "
        f"{result.sessions_created} sessions created, {result.sessions_updated} updated."
    )
    return 0


async def _program_export(programme: Programme, fmt: str) -> int:
    doc = await programme.export_program(CLI_PRINCIPAL)
    sys.stdout.write(program_io.to_csv(doc) if fmt == "csv" else program_io.to_yaml(doc))
    return 0
