"""The programme as a whole: the public guide, its iCalendar feeds, import and export."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from studio import program_io
from studio.ical import render_calendar
from web.auth import principal
from web.errors import BadRequest
from web.keys import PROGRAMME, SETTINGS, URLS
from web.validation import read_body
from web.views import ImportView, ProgramView, import_view, session_view, studio_view

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
CSV_TYPES = ("text/csv",)
CALENDAR_CACHE = "public, max-age=300"


async def program(request: web.Request) -> ProgramView:
    """Every session with its studio and viewer URLs; filter by ``studio_id`` or ``language``."""
    settings, programme, urls = request.app[SETTINGS], request.app[PROGRAMME], request.app[URLS]
    studios = await programme.list_studios()
    names = {s.id: s.name for s in studios}
    sessions = await programme.list_sessions(studio_id=request.query.get("studio_id") or None)
    language = request.query.get("language")
    if language:
        sessions = [s for s in sessions if s.language == language]
    return ProgramView(
        event=(await programme.branding()).name,
        timezone=settings.event.timezone,
        studios=[studio_view(s, urls) for s in studios],
        sessions=[session_view(s, names[s.studio_id], urls) for s in sessions],
    )


async def _ics(request: web.Request, studio_id: str | None) -> web.Response:
    programme, urls = request.app[PROGRAMME], request.app[URLS]
    studios = {s.id: s for s in await programme.list_studios()}
    name = (await programme.branding()).name
    if studio_id is not None:
        name = f"{name}: {(await programme.get_studio(studio_id)).name}"
    body = render_calendar(
        await programme.list_sessions(studio_id=studio_id),
        studios,
        calendar_name=name,
        base_url=urls.base,
        host=urlsplit(urls.base).hostname or "torget",
    )
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": CALENDAR_CACHE},
    )


async def program_ics(request: web.Request) -> web.Response:
    """The whole programme as an iCalendar feed."""
    return await _ics(request, None)


async def studio_ics(request: web.Request) -> web.Response:
    """One studio's programme as an iCalendar feed."""
    return await _ics(request, request.match_info["studio_id"])


async def export_program(request: web.Request) -> web.Response:
    """The programme as YAML (default) or CSV, in the documented import format."""
    fmt = request.query.get("format", "yaml")
    if fmt not in ("yaml", "csv"):
        raise BadRequest("format must be yaml or csv", field="format")
    doc = await request.app[PROGRAMME].export_program(await principal(request))
    text, media = await asyncio.to_thread(_render, doc, fmt)  # a large programme: off the loop
    return web.Response(
        text=text,
        content_type=media,
        headers={"Content-Disposition": f'attachment; filename="program.{fmt}"'},
    )


def _render(doc: program_io.ProgramDocument, fmt: str) -> tuple[str, str]:
    if fmt == "csv":
        return program_io.to_csv(doc), "text/csv"
    return program_io.to_yaml(doc), "application/yaml"


async def import_program(request: web.Request) -> ImportView:
    """Create or update studios and sessions from a YAML or CSV file, all or nothing.

    The file is read in a worker thread: parsing a large file takes seconds of CPU, which on the
    event loop would stall every viewer's chat and playlists meanwhile.
    """
    who = await principal(request)
    request.app[PROGRAMME].check_import_access(who)  # before reading a possibly large body
    raw = await read_body(request, media_types=YAML_TYPES + CSV_TYPES)
    timezone = request.app[SETTINGS].event.timezone
    is_csv = request.content_type in CSV_TYPES
    doc = await asyncio.to_thread(_parse, raw, is_csv=is_csv, timezone=timezone)
    return import_view(await request.app[PROGRAMME].import_program(who, doc))


def _parse(raw: bytes, *, is_csv: bool, timezone: str) -> program_io.ProgramDocument:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the file must be UTF-8 text") from None
    if is_csv:
        return program_io.parse_csv(text, timezone=timezone)
    return program_io.parse_yaml(text)
