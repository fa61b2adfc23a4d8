"""Sessions: read, schedule, edit, delete, and the broadcast actions."""

from __future__ import annotations

from aiohttp import web

from studio.models import AuditEntry, ExtendInput, Session, SessionInput, SessionPatch
from studio.report import SessionReport
from web.auth import principal
from web.keys import PROGRAMME, URLS
from web.views import (
    IngestUrls,
    SessionCreated,
    SessionView,
    StreamKeyView,
    session_created,
    session_view,
)


def _id(request: web.Request) -> str:
    return request.match_info["session_id"]


async def _view(request: web.Request, session: Session) -> SessionView:
    studio = await request.app[PROGRAMME].get_studio(session.studio_id)
    return session_view(session, studio.name, request.app[URLS])


async def get_session(request: web.Request) -> SessionView:
    """One session, as viewers see it."""
    return await _view(request, await request.app[PROGRAMME].get_session(_id(request)))


async def create_session(request: web.Request, body: SessionInput) -> SessionCreated:
    """Schedule a session; the answer holds its stream key, shown this once."""
    created = await request.app[PROGRAMME].create_session(await principal(request), body)
    studio = await request.app[PROGRAMME].get_studio(created.session.studio_id)
    return session_created(created.session, studio.name, created.stream_key, request.app[URLS])


async def update_session(request: web.Request, body: SessionPatch) -> SessionView:
    """Change some fields of a session."""
    who = await principal(request)
    return await _view(
        request, await request.app[PROGRAMME].update_session(who, _id(request), body)
    )


async def delete_session(request: web.Request) -> None:
    """Delete a session that is not live."""
    await request.app[PROGRAMME].delete_session(await principal(request), _id(request))


async def go_live(request: web.Request) -> SessionView:
    """Start the broadcast now."""
    who = await principal(request)
    return await _view(request, await request.app[PROGRAMME].go_live(who, _id(request)))


async def end(request: web.Request) -> SessionView:
    """End the broadcast now."""
    who = await principal(request)
    return await _view(request, await request.app[PROGRAMME].end(who, _id(request)))


async def cancel(request: web.Request) -> SessionView:
    """Call the session off (it stays in the programme, marked cancelled)."""
    who = await principal(request)
    return await _view(request, await request.app[PROGRAMME].cancel(who, _id(request)))


async def extend(request: web.Request, body: ExtendInput) -> SessionView:
    """Push the planned end later, so the scheduler keeps the broadcast on."""
    who = await principal(request)
    programme = request.app[PROGRAMME]
    return await _view(request, await programme.extend(who, _id(request), body.minutes))


async def rotate_stream_key(request: web.Request) -> StreamKeyView:
    """Issue a new stream key; the old one stops working."""
    key = await request.app[PROGRAMME].rotate_stream_key(await principal(request), _id(request))
    return StreamKeyView(
        session_id=_id(request), stream_key=key, ingest=request.app[URLS].ingest(_id(request))
    )


async def ingest(request: web.Request) -> IngestUrls:
    """Where to publish this session (the stream key is not repeated: rotate to see a new one)."""
    session = await request.app[PROGRAMME].get_session(_id(request))
    request.app[PROGRAMME].check_ingest_access(await principal(request), session)
    return request.app[URLS].ingest(session.id)


async def audit(request: web.Request) -> list[AuditEntry]:
    """The moderators' actions in this session's room, oldest first."""
    session = await request.app[PROGRAMME].get_session(_id(request))
    return await request.app[PROGRAMME].audit(await principal(request), session)


async def report(request: web.Request) -> SessionReport:
    """Peak and unique viewers, viewers per minute, questions and chat volume."""
    session = await request.app[PROGRAMME].get_session(_id(request))
    return await request.app[PROGRAMME].report(await principal(request), session)
