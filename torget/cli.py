"""The ``torget`` command: serve, manage access tokens, import and export the programme."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path

from aiohttp import web

from config import ConfigError, Settings, load_settings
from studio import program_io
from studio.access import Principal
from studio.errors import StudioError
from studio.models import TokenInput
from studio.roles import Role
from studio.service import Programme
from studio.store import Store

CLI_PRINCIPAL = Principal(token_id="cli", role=Role.ADMIN, name="command line")  # noqa: S106
EXIT_USAGE = 2
# Connections the kernel keeps waiting for accept(): when a node dies its viewers arrive at
# once, and a short queue drops their SYNs (each retried after 1, 3, 7... s). The kernel caps
# it at net.core.somaxconn (docs/operations.md).
LISTEN_BACKLOG = 65535


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torget", description=__doc__)
    parser.add_argument("--config", type=Path, help="a TOML file overriding config/torget.toml")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run a Torget node")
    serve.add_argument("--config", type=Path, dest="config_sub", help=argparse.SUPPRESS)

    token = commands.add_parser("token", help="manage access tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=["admin", "operator", "moderator"])
    create.add_argument(
        "--studio", action="append", default=[], help="a studio id (repeat; none = all studios)"
    )
    create.add_argument("--name", help="who the token is for")
    token.add_parser("list", help="list tokens (never their secrets)")
    revoke = token.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token_id")

    program = commands.add_parser("program", help="import or export the programme")
    program_actions = program.add_subparsers(dest="action", required=True)
    imp = program_actions.add_parser("import", help="import a YAML or CSV programme file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--move-to",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="move the programme by whole days so its first day is this date (rehearsals)",
    )
    exp = program_actions.add_parser("export", help="print the programme as YAML or CSV")
    exp.add_argument("--format", choices=["yaml", "csv"], default="yaml")
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
    if args.command == "serve":
        return serve(settings)
    action: Callable[[Programme], Awaitable[int]]
    if args.command == "token":
        action = {
            "create": lambda p: _token_create(p, args.role, args.studio, args.name),
            "list": _token_list,
            "revoke": lambda p: _token_revoke(p, args.token_id),
        }[args.action]
    else:
        action = {
            "import": lambda p: _program_import(p, args.file, args.move_to),
            "export": lambda p: _program_export(p, args.format),
        }[args.action]
    try:
        return asyncio.run(_with_programme(settings, action))
    except StudioError as exc:
        print(f"torget: {exc.message}", file=sys.stderr)
        return EXIT_USAGE


def serve(settings: Settings) -> int:
    """Run one node until interrupted."""
    from web.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Tens of thousands of long-lived connection objects make full garbage collections slow
    # (latency spikes for every viewer); collect the young generations far less often.
    gc.set_threshold(100_000, 50, 1000)
    # The store's driver thread (aiosqlite) needs the GIL between the event loop's long fan-outs:
    # hand it over sooner than the default 5 ms so acks and commits are not starved.
    sys.setswitchinterval(0.0005)
    print(f"Torget listening on {settings.public_url}", flush=True)
    web.run_app(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        print=None,
        access_log=None,
        backlog=LISTEN_BACKLOG,
        loop=_event_loop(),
    )
    return 0


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where available (its transports write from C: the websocket fan-out is mostly
    ``transport.write`` calls), else the standard loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


async def _with_programme(settings: Settings, action: Callable[[Programme], Awaitable[int]]) -> int:
    store = await Store.open(settings.store.url)
    try:
        return await action(Programme(store, settings))
    finally:
        await store.close()


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
