"""HTTP handlers serving a session's HLS / LL-HLS from its pipeline (routes in ``web.routes``).

    GET /hls/{session_id}/index.m3u8   the multivariant playlist
    GET /hls/{session_id}/{name}       a media playlist (blocking reload with ``_HLS_msn`` /
                                       ``_HLS_part``), an init segment, a segment, or a part;
                                       a subtitle playlist or WebVTT segment (captions)

Once the live media has ended and the recording is built, the same URLs serve the replay. See
``docs/architecture.md`` ("Playlists", "Slates and recordings").
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from streaming import names
from streaming.errors import InvalidName, PlaylistConflict
from streaming.llhls import PartLocation, cache_control, parse_directives
from streaming.pipeline.supervisor import SessionPipeline
from streaming.recording import Replay
from streaming.subtitles import (
    LANGUAGE_NAMES,
    TimedCue,
    find_segment,
    find_vod_segment,
    render_cue_segment,
    render_subtitle_playlist,
    render_vod_cue_segment,
    render_vod_subtitle_playlist,
    segment_span,
    subtitle_media,
    vod_segment_span,
)
from streaming.vocab import ReloadDecision, ResourceKind
from streaming.vod import render_media as render_vod_media
from streaming.vod import render_multivariant as render_vod_multivariant
from studio.captions.formats import VTT_TYPE
from studio.interaction.playback import client_address
from web import auth
from web.errors import error_response
from web.keys import MEDIA, PLAYBACK, PROGRAMME

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
MP4_TYPE = "video/mp4"
READY_WAIT = 5.0
CUES_CACHE = "public, max-age=2"  # cues may still be corrected: a short cache, not an immutable one


WITHDRAWN = (
    "this part is not served: it will not be produced (its segment closed or the live stream"
    " ended first); reload the playlist and go on"
)


DROPPED = (
    "this rendition was dropped: the node could not keep up with the whole ladder; the"
    " multivariant playlist lists the renditions still offered"
)


def _not_found(message: str = "no such media resource") -> web.Response:
    return error_response(404, "not_found", message)


def _answer(body: bytes, content_type: str, cache: str) -> web.Response:
    return web.Response(body=body, content_type=content_type, headers={"Cache-Control": cache})


def _read(path: Path, offset: int, length: int | None) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read() if length is None else fh.read(length)


async def _read_segment_file(
    directory: Path, segment: str, offset: int, length: int | None
) -> bytes | None:
    """Bytes of a segment ffmpeg closed (``name``) or is writing / abandoned (``name.tmp``)."""
    for candidate in (segment, f"{segment}.tmp", segment):
        try:
            return await asyncio.to_thread(_read, directory / candidate, offset, length)
        except FileNotFoundError:
            continue
    return None


def _pipeline(request: web.Request) -> SessionPipeline | None:
    pipeline = request.app[MEDIA].pipeline(request.match_info["session_id"])
    if pipeline is None or not pipeline.ready.is_set():
        return None
    return pipeline


async def _replay(request: web.Request) -> Replay | None:
    """The session's replay, once its live media (if this node has it) has ended."""
    media = request.app[MEDIA]
    session_id = request.match_info["session_id"]
    live = media.pipeline(session_id)
    if live is not None and not live.ended:
        return None
    return await media.recordings.replay(session_id)


async def _replay_resource(request: web.Request, replay: Replay) -> web.StreamResponse:
    """A VOD media playlist (only the trimmed segments), an init segment or a segment."""
    try:
        parsed = names.parse_name(request.match_info["name"])
    except InvalidName:
        return _not_found()
    if parsed.kind in (ResourceKind.SUBTITLE_PLAYLIST, ResourceKind.CUES):
        return await _replay_subtitles(request, replay, parsed)
    directory = request.app[MEDIA].recordings.directory(request.match_info["session_id"])
    if parsed.kind is ResourceKind.PLAYLIST:
        rendition = replay.recording.rendition(parsed.name)
        if rendition is None:
            return _not_found()
        try:
            text = render_vod_media(rendition, replay.trim)
        except PlaylistConflict:
            return _not_found("the trimmed replay holds nothing of this rendition")
        cache = cache_control(ResourceKind.PLAYLIST, ended=True)
        return _answer(text.encode(), PLAYLIST_TYPE, cache)
    if parsed.kind is ResourceKind.PART:
        return await _ended_part(request, parsed)
    body: bytes | None = None
    if parsed.kind is ResourceKind.INIT and parsed.name in replay.inits:
        body = await _read_segment_file(directory, parsed.name, 0, None)
    elif parsed.kind is ResourceKind.SEGMENT and parsed.name in replay.segments:
        length = replay.segments[parsed.name].length
        body = await _read_segment_file(directory, parsed.name, 0, length)
    if body is None:
        return _not_found()
    return _answer(body, MP4_TYPE, cache_control(parsed.kind))


async def _replay_subtitles(
    request: web.Request, replay: Replay, parsed: names.ResourceName
) -> web.StreamResponse:
    """A caption language's VOD subtitle playlist, or the WebVTT segment beside a segment the
    replay plays (docs/captions.md)."""
    programme = request.app[PROGRAMME]
    if parsed.language not in programme.caption_languages:
        return _not_found()
    video = replay.recording.video[0]
    if parsed.kind is ResourceKind.SUBTITLE_PLAYLIST:
        try:
            text = render_vod_subtitle_playlist(video, parsed.language, replay.trim)
        except PlaylistConflict:
            return _not_found("the trimmed replay holds nothing of this rendition")
        cache = cache_control(ResourceKind.PLAYLIST, ended=True)
        return _answer(text.encode(), PLAYLIST_TYPE, cache)
    segment_file = names.segment_name(parsed.run, parsed.rendition, parsed.number)
    segment = find_vod_segment(video, segment_file, replay.trim)
    if segment is None:
        return _not_found()
    span = vod_segment_span(segment)
    cues = [] if span is None else await _cues(request, parsed.language, span)
    return _answer(render_vod_cue_segment(segment, cues).encode(), VTT_TYPE, CUES_CACHE)


async def _cues(request: web.Request, language: str, span: tuple[int, int]) -> list[TimedCue]:
    """The session's cues of ``language`` starting within ``span`` (program date times, ms)."""
    found = await request.app[PROGRAMME].captions(
        request.match_info["session_id"], language, from_ms=span[0], until_ms=span[1]
    )
    return [TimedCue(cue.start_ms, cue.end_ms, cue.text) for cue in found]


async def multivariant(request: web.Request) -> web.StreamResponse:
    """The multivariant playlist: every video rendition and the shared audio."""
    session_id = request.match_info["session_id"]
    replay = await _replay(request)
    if replay is not None:
        languages = request.app[PROGRAMME].caption_languages
        text = render_vod_multivariant(replay.recording, subtitle_media(languages), LANGUAGE_NAMES)
        return _answer(
            text.encode(), PLAYLIST_TYPE, cache_control(ResourceKind.PLAYLIST, ended=True)
        )
    pipeline = await request.app[MEDIA].wait_ready(session_id, READY_WAIT)
    if pipeline is None:
        return _not_found("this session has no live media")
    note_playback(request, pipeline)
    text = pipeline.multivariant(subtitle_media(request.app[PROGRAMME].caption_languages))
    cache = cache_control(ResourceKind.PLAYLIST, ended=pipeline.ended)
    return _answer(text.encode(), PLAYLIST_TYPE, cache)


async def media_resource(request: web.Request) -> web.StreamResponse:
    """A media playlist (blocking reload), an init segment, a segment or a part."""
    replay = await _replay(request)
    if replay is not None:
        return await _replay_resource(request, replay)
    try:
        parsed = names.parse_name(request.match_info["name"])
    except InvalidName:
        return _not_found()
    if parsed.kind in (ResourceKind.PLAYLIST, ResourceKind.SUBTITLE_PLAYLIST):
        # Like the multivariant: a player asking while the media starts (go-live, a publisher
        # moved to this node) waits for it rather than getting a 404 it would retry later.
        pipeline = await request.app[MEDIA].wait_ready(request.match_info["session_id"], READY_WAIT)
    else:
        pipeline = _pipeline(request)
    if pipeline is None:
        return _not_found("this session has no live media")
    note_playback(request, pipeline)
    if parsed.kind is ResourceKind.PLAYLIST:
        return await _media_playlist(request, pipeline, parsed.name)
    if parsed.kind in (ResourceKind.SUBTITLE_PLAYLIST, ResourceKind.CUES):
        return await _subtitles(request, pipeline, parsed)
    playlist = pipeline.playlists.get(pipeline.rendition_of(parsed.run, parsed.rendition))
    if playlist is None:
        return _not_found()
    immutable = cache_control(parsed.kind)
    if parsed.kind is ResourceKind.INIT:
        body = await _read_segment_file(pipeline.directory, parsed.name, 0, None)
    elif parsed.kind is ResourceKind.SEGMENT:
        if not playlist.is_complete(parsed.name):
            return _not_found()
        body = await _read_segment_file(
            pipeline.directory, parsed.name, 0, playlist.segment_length(parsed.name)
        )
    else:
        location = playlist.locate(parsed.name)
        if location is None and parsed.name == playlist.preload_hint:
            deadline = asyncio.get_running_loop().time() + playlist.blocking_timeout
            while location is None and parsed.name == playlist.preload_hint:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0 or not await pipeline.changed.wait(remaining):
                    break
                location = playlist.locate(parsed.name)
        if location is None and playlist.withdrawn(parsed.run, parsed.number, parsed.part):
            return error_response(404, "part_withdrawn", WITHDRAWN)
        return await _part(pipeline, location)
    if body is None:
        return _not_found()
    return _answer(body, MP4_TYPE, immutable)


async def _part(pipeline: SessionPipeline, location: PartLocation | None) -> web.Response:
    """The bytes of a part that landed, from its segment's file."""
    if location is None:
        return _not_found()
    body = await _read_segment_file(
        pipeline.directory, location.segment_file, location.offset, location.length
    )
    if body is None:
        return _not_found()
    return _answer(body, MP4_TYPE, cache_control(ResourceKind.PART))


async def _ended_part(request: web.Request, parsed: names.ResourceName) -> web.Response:
    """A live part asked for after the session's live media ended (a player that was live when
    it ended): served while this node still has it, else withdrawn (replays have no parts)."""
    live = request.app[MEDIA].pipeline(request.match_info["session_id"])
    playlist = None if live is None else live.playlists.get(
        live.rendition_of(parsed.run, parsed.rendition)
    )  # fmt: skip
    location = None if playlist is None else playlist.locate(parsed.name)
    if live is None or location is None:
        return error_response(404, "part_withdrawn", WITHDRAWN)
    return await _part(live, location)


async def _media_playlist(
    request: web.Request, pipeline: SessionPipeline, name: str
) -> web.StreamResponse:
    found = pipeline.playlist_named(name)
    if found is None:
        return _missing_rendition(pipeline, name)
    index, playlist = found
    directive = parse_directives(request.query)  # BadDirective: 400 (web.errors)
    if directive is not None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + playlist.blocking_timeout
        while True:
            decision = playlist.decide(directive.msn, directive.part)
            if decision is ReloadDecision.READY:
                break
            if decision is ReloadDecision.BAD_REQUEST:
                return error_response(
                    400, "bad_request", "_HLS_msn/_HLS_part is too far beyond the live edge"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return error_response(
                    503, "unavailable", "the requested part did not appear in time"
                )
            await pipeline.changed.wait(remaining)
            if pipeline.playlist_named(name) is None:  # dropped for overload while waiting
                return _missing_rendition(pipeline, name)
    text = playlist.render(pipeline.reports(index))
    cache = cache_control(
        ResourceKind.PLAYLIST, blocking=directive is not None, ended=playlist.ended
    )
    return _answer(text.encode(), PLAYLIST_TYPE, cache)


def _missing_rendition(pipeline: SessionPipeline, name: str) -> web.Response:
    """404 for a media playlist the session does not offer: ``rendition_dropped`` for one
    dropped for overload (players move to another level), else ``not_found``."""
    if name in {names.playlist_name(dropped) for dropped in pipeline.dropped_names}:
        return error_response(404, "rendition_dropped", DROPPED)
    return _not_found()


async def _subtitles(
    request: web.Request, pipeline: SessionPipeline, parsed: names.ResourceName
) -> web.StreamResponse:
    """A caption language's subtitle playlist, or the WebVTT segment beside a video segment
    (docs/captions.md)."""
    programme = request.app[PROGRAMME]
    video = pipeline.timed_playlist()
    if video is None or parsed.language not in programme.caption_languages:
        return _not_found()
    if parsed.kind is ResourceKind.SUBTITLE_PLAYLIST:
        text = render_subtitle_playlist(video, parsed.language)
        cache = cache_control(ResourceKind.PLAYLIST, ended=pipeline.ended)
        return _answer(text.encode(), PLAYLIST_TYPE, cache)
    segment = find_segment(video, names.segment_name(parsed.run, parsed.rendition, parsed.number))
    span = None if segment is None else segment_span(segment)
    if segment is None or span is None:
        return _not_found()
    cues = await _cues(request, parsed.language, span)
    return _answer(render_cue_segment(segment, cues).encode(), VTT_TYPE, CUES_CACHE)


def note_playback(request: web.Request, pipeline: SessionPipeline) -> None:
    """Count the viewer behind an HLS request of a live session (the HLS handlers' hook); a
    browser signed in as staff (its sign-in cookie goes along) is no viewer."""
    viewers = request.app.get(PLAYBACK)
    if viewers is None or pipeline.ended or pipeline.plan is None:
        return
    if auth.SESSION_COOKIE in request.cookies:
        return
    viewers.seen(
        pipeline.session_id,
        target_duration=pipeline.plan.target_duration,
        address=client_address(request.remote, request.headers.get("X-Forwarded-For")),
        user_agent=request.headers.get("User-Agent", ""),
        pass_viewer=auth.viewer_id(request),
        query_viewer=request.query.get("v"),
    )
