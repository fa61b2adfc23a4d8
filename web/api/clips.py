"""Clips: make clips of a session (staff), list them and download their MP4s."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web

from streaming.clip_plan import last_run_start, played_range, snap_to_keyframe
from streaming.vod import Trim
from studio.captions.cues import LanguageTag, check_language
from studio.captions.formats import render_vtt
from studio.clips import ClipAspect, ClipState, check_aspects, clip_span
from studio.states import SessionState
from web.auth import principal, require_viewer_access
from web.errors import error_response
from web.keys import MEDIA, PROGRAMME, URLS
from web.views import ClipView, clip_view

MP4_TYPE = "video/mp4"


class ClipInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/sessions/{id}/clips``: either ``last_seconds`` (the last seconds
    recorded: while live, or the replay's end) or ``in_seconds`` and ``out_seconds`` on the
    replay as it plays (the player's time); one clip per aspect; ``captions``: a caption
    language of the event to burn into the picture (none when absent)."""

    last_seconds: float | None = None
    in_seconds: float | None = None
    out_seconds: float | None = None
    aspects: list[ClipAspect] = msgspec.field(default_factory=lambda: [ClipAspect.LANDSCAPE])
    captions: LanguageTag | None = None


def _id(request: web.Request) -> str:
    return request.match_info["session_id"]


async def make_clips(request: web.Request, body: ClipInput) -> list[ClipView]:
    """Check the request, record the clips as being cut and cut them in the background."""
    who = await principal(request)
    programme = request.app[PROGRAMME]
    session = await programme.clip_session(who, _id(request))
    assert who is not None  # clip_session refused an anonymous caller
    aspects = check_aspects(body.aspects)
    language = body.captions
    if language is not None:
        check_language(language, programme.caption_languages, "captions")
    live = session.state is SessionState.LIVE
    clips = request.app[MEDIA].clips
    source = await clips.recorded(session.id, live=live)
    if live:
        start, end = last_run_start(source.recording), source.recording.duration
    else:
        replay = await request.app[MEDIA].recordings.replay(session.id)
        trim = Trim() if replay is None else replay.trim
        start, end = played_range(source.recording, trim)
    span = clip_span(
        recorded=end,
        offset=start,
        last_seconds=body.last_seconds,
        in_seconds=body.in_seconds,
        out_seconds=body.out_seconds,
        live=live,
    )
    if body.last_seconds is not None:
        span = snap_to_keyframe(source.recording, span, start)
    played_from = 0.0 if live else start
    subtitles = None
    if language is not None:  # no cue within the clip: it is cut without, and says so
        lines = await programme.burn_in(session, language, span)
        subtitles = render_vtt(lines) if lines else None
        language = language if lines else None
    records = await programme.add_clips(
        who, session, span, aspects, played_from=played_from, captions=language
    )
    clips.cut(records, source, span, subtitles=subtitles)
    urls = request.app[URLS]
    return [clip_view(record, urls) for record in records]


async def list_clips(request: web.Request) -> list[ClipView]:
    """A session's clips, newest first: staff see every clip, viewers those ready."""
    await require_viewer_access(request)
    who = await principal(request)
    clips = await request.app[PROGRAMME].list_clips(_id(request), every=who is not None)
    urls = request.app[URLS]
    return [clip_view(record, urls) for record in clips]


async def download(request: web.Request) -> web.StreamResponse:
    """A ready clip as an MP4 download (byte ranges supported)."""
    await require_viewer_access(request)
    record = await request.app[PROGRAMME].get_clip(_id(request), request.match_info["clip_id"])
    path = request.app[MEDIA].clips.path(record.session_id, record.id)
    if record.state is not ClipState.READY or not await asyncio.to_thread(path.is_file):
        return error_response(404, "not_found", f"clip {record.id!r} is not ready to download")
    name = f"{record.session_id}-{record.id}-{record.aspect.value.replace(':', 'x')}.mp4"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": MP4_TYPE,
            "Cache-Control": "public, max-age=60",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
