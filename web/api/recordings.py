"""Recordings: a session's recording state, the operator's trim, and the MP4 download."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web

from streaming.vod import check_trim
from studio.states import SessionState
from web.auth import principal
from web.errors import error_response
from web.keys import MEDIA, PROGRAMME, URLS
from web.views import RecordingView, recording_view

MP4_TYPE = "video/mp4"


class TrimInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``PUT /api/v1/sessions/{id}/recording/trim``: the part of the replay to keep,
    in seconds from its start (``end_seconds`` null or left out: to the end)."""

    start_seconds: float = 0.0
    end_seconds: float | None = None


def _id(request: web.Request) -> str:
    return request.match_info["session_id"]


async def recording(request: web.Request) -> RecordingView:
    """The session's recording: state (with the reason when it failed), duration, trim."""
    session, record = await request.app[PROGRAMME].recording(await principal(request), _id(request))
    return recording_view(session, record, request.app[URLS])


async def trim(request: web.Request, body: TrimInput) -> RecordingView | web.StreamResponse:
    """Keep only part of the replay: the VOD playlists follow at once (whole segments), the MP4
    download is rebuilt, cut to the frame, in the background."""
    who = await principal(request)
    programme = request.app[PROGRAMME]
    session, record = await programme.recording(who, _id(request))
    start, end = body.start_seconds, body.end_seconds
    if session.state is SessionState.REPLAY and record is not None and record.duration:
        checked = check_trim(start, end, record.duration)  # InvalidArgument: 422 (web.errors)
        start, end = checked.start, checked.end
    saved = await programme.trim_recording(who, session.id, start, end)
    request.app[MEDIA].recordings.retrim(session.id)
    return recording_view(session, saved, request.app[URLS])


async def download(request: web.Request) -> web.StreamResponse:
    """The replay as one MP4 file (byte ranges supported)."""
    session = await request.app[PROGRAMME].get_session(_id(request))
    path = request.app[MEDIA].recordings.mp4_path(session.id)
    if session.state is not SessionState.REPLAY or not await asyncio.to_thread(path.is_file):
        return error_response(404, "not_found", "this session has no recording to download")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": MP4_TYPE,
            "Cache-Control": "public, max-age=60",
            "Content-Disposition": f'attachment; filename="{session.id}.mp4"',
        },
    )
