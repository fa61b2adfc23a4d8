"""Live captions: the HTTP and websocket ingest for captioners and caption services, the cues
as JSON, and corrections afterwards (docs/captions.md)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from aiohttp import WSMsgType, web

from studio.access import Principal
from studio.captions.cues import (
    CaptionInput,
    CaptionPatch,
    CaptionShift,
    Cue,
    recording_zero_ms,
)
from studio.captions.formats import SRT_TYPE, VTT_TYPE, lines_from, render_srt, render_vtt
from studio.errors import Forbidden, StudioError, Unauthenticated
from web.auth import principal, require_viewer_access
from web.errors import BadRequest, ErrorDetail, error_detail
from web.keys import PROGRAMME, SETTINGS
from web.validation import decode

log = logging.getLogger(__name__)
LINE_MAX_BYTES = 16 * 1024  # a caption frame on the websocket, at most


class CaptionView(msgspec.Struct, kw_only=True):
    """A caption cue: its text and when it is shown (program date times: the picture's)."""

    id: str
    language: str
    text: str
    start: datetime
    end: datetime
    start_ms: int
    end_ms: int


class ShiftedView(msgspec.Struct, kw_only=True):
    """How many cues a shift moved."""

    language: str
    shift_ms: int
    moved: int


class LiveCaptionLine(CaptionInput, kw_only=True):
    """A line on the caption websocket: the body of ``POST …/captions`` and the ``ref`` its
    answer carries back."""

    ref: Annotated[str, msgspec.Meta(max_length=64)] = ""


class LiveCaptionAck(msgspec.Struct, kw_only=True, tag_field="type", tag="cue"):
    """The caption websocket's answer to a line it kept."""

    ref: str
    cue: CaptionView


class LiveCaptionError(msgspec.Struct, kw_only=True, tag_field="type", tag="error"):
    """The caption websocket's answer to a line it refused (the HTTP error's detail)."""

    ref: str
    status: int
    error: ErrorDetail


class LanguagesView(msgspec.Struct, kw_only=True):
    """The event's caption languages."""

    languages: list[str]


async def languages(request: web.Request) -> LanguagesView:
    """The languages the event captions in."""
    return LanguagesView(languages=list(request.app[PROGRAMME].caption_languages))


def caption_view(cue: Cue) -> CaptionView:
    """Present a cue."""
    return CaptionView(
        id=cue.id,
        language=cue.language,
        text=cue.text,
        start=datetime.fromtimestamp(cue.start_ms / 1000, UTC),
        end=datetime.fromtimestamp(cue.end_ms / 1000, UTC),
        start_ms=cue.start_ms,
        end_ms=cue.end_ms,
    )


def _id(request: web.Request) -> str:
    return request.match_info["session_id"]


async def add_caption(request: web.Request, body: CaptionInput) -> CaptionView:
    """Keep a caption line of a live session (captioners of its studio)."""
    who = await principal(request)
    return caption_view(await request.app[PROGRAMME].add_caption(who, _id(request), body))


async def list_captions(request: web.Request) -> list[CaptionView]:
    """A session's cues in time order, of one language or all."""
    await require_viewer_access(request)
    language = request.query.get("language") or None
    found = await request.app[PROGRAMME].captions(_id(request), language)
    return [caption_view(cue) for cue in found]


async def correct_caption(request: web.Request, body: CaptionPatch) -> CaptionView:
    """Fix a cue's text or move it in time."""
    who = await principal(request)
    programme = request.app[PROGRAMME]
    cue_id = request.match_info["caption_id"]
    return caption_view(await programme.correct_caption(who, _id(request), cue_id, body))


async def shift_captions(request: web.Request, body: CaptionShift) -> ShiftedView:
    """Move every cue of one language (captions that ran late or early)."""
    who = await principal(request)
    moved = await request.app[PROGRAMME].shift_captions(
        who, _id(request), body.language, body.shift_ms
    )
    return ShiftedView(language=body.language, shift_ms=body.shift_ms, moved=moved)


async def download(request: web.Request, file_format: str) -> web.Response:
    """A caption language of the session as a file, timed from the start of the broadcast (when
    it went live: where the replay starts)."""
    await require_viewer_access(request)
    programme = request.app[PROGRAMME]
    session = await programme.get_session(_id(request))
    language = request.query.get("language") or programme.caption_languages[0]
    cues = await programme.captions(session.id, language)
    lines = lines_from(cues, recording_zero_ms(session))
    if file_format == "vtt":
        text, content_type = render_vtt(lines), VTT_TYPE
    else:
        text, content_type = render_srt(lines), SRT_TYPE
    name = f"{session.id}.{language}.{file_format}"
    return web.Response(
        text=text,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def download_vtt(request: web.Request) -> web.Response:
    """The captions of one language as WebVTT."""
    return await download(request, "vtt")


async def download_srt(request: web.Request) -> web.Response:
    """The captions of one language as SubRip."""
    return await download(request, "srt")


# --- the websocket: one JSON caption line per text frame -----------------------------------


class _Envelope(msgspec.Struct):
    ref: Any = None


def _ref(raw: str) -> str:
    try:
        ref = msgspec.json.decode(raw, type=_Envelope).ref
    except msgspec.MsgspecError:
        return ""
    return ref if isinstance(ref, str) and len(ref) <= 64 else ""


async def _signed_in(request: web.Request) -> Principal:
    """The captioner: a bearer token, or a browser sign-in from one of our own pages."""
    who = await principal(request)
    if who is None:
        raise Unauthenticated("sign in to caption sessions")
    origin = request.headers.get("Origin")
    if "Authorization" not in request.headers and origin is not None:
        allowed = {urlsplit(request.app[SETTINGS].public_url).netloc, request.host}
        if urlsplit(origin).netloc not in allowed:
            raise Forbidden("this page may not send captions")
    return who


async def _line(request: web.Request, who: Principal, raw: str) -> bytes:
    """Keep one line sent on the socket; the frame that answers it."""
    ref = _ref(raw)
    try:
        body = decode(raw.encode(), LiveCaptionLine)
        cue = await request.app[PROGRAMME].add_caption(who, _id(request), body)
    except BadRequest as exc:
        return msgspec.json.encode(
            LiveCaptionError(ref=ref, status=400, error=ErrorDetail(exc.code, exc.message))
        )
    except StudioError as exc:
        found = error_detail(exc)
        if found is None:
            raise
        status, detail = found
        return msgspec.json.encode(LiveCaptionError(ref=ref, status=status, error=detail))
    return msgspec.json.encode(LiveCaptionAck(ref=ref, cue=caption_view(cue)))


async def live_captions(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/sessions/{id}/captions/live``: a websocket on which each text frame is a
    caption line (the body of ``POST …/captions``, plus an optional ``ref``), each answered in
    order with a ``cue`` or an ``error`` frame carrying that ``ref``."""
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=LINE_MAX_BYTES)
    if not ws.can_prepare(request).ok:
        raise BadRequest("this address takes websocket connections only (Upgrade: websocket)")
    session = await request.app[PROGRAMME].get_session(_id(request))
    who = await _signed_in(request)
    request.app[PROGRAMME].check_caption_access(who, session)
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str((await _line(request, who, message.data)).decode())
        elif message.type is WSMsgType.BINARY:
            await ws.close(code=1003, message=b"send caption lines as text frames")
    return ws
