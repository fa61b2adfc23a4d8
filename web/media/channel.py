"""HTTP handler of a studio channel's stable HLS address (route in ``web.routes``).

    GET /hls/c/{studio_id}/index.m3u8     the channel's multivariant playlist
    GET /hls/c/{studio_id}/source.m3u8    its video track (LL-HLS blocking reload)
    GET /hls/c/{studio_id}/audio.m3u8     its audio track

The playlists list the sessions' own segments (``/hls/{session}/...``), served by the session
handlers. What is on air is ``studio.channel``; the stitching is ``streaming.channel``.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from streaming.channel_feed import ChannelFeed
from streaming.llhls import cache_control, parse_directives
from streaming.names import MULTIVARIANT
from streaming.vocab import ReloadDecision, ResourceKind
from web.auth import require_viewer_access
from web.errors import error_response
from web.keys import CHANNELS, PROGRAMME
from web.media.hls import PLAYLIST_TYPE, note_playback

NOTHING_YET = "nothing has been on air on this channel yet; try again when a session is live"


async def _catch_up(request: web.Request) -> ChannelFeed:
    channels, studio_id = request.app[CHANNELS], request.match_info["studio_id"]
    known = channels.looked_up(studio_id, time.monotonic())
    if known is None:  # read the programme at most once a second per studio
        known = await request.app[PROGRAMME].channel(studio_id)
        channels.remember(studio_id, known, time.monotonic())
    studio, now = known
    feed = await channels.catch_up(studio.id, now, playout=studio.playout)
    if feed.live is not None and now.on_air is not None:
        note_playback(request, feed.live)  # channel viewers count in the session on air
    return feed


def _answer(text: str, cache: str) -> web.Response:
    return web.Response(
        body=text.encode(), content_type=PLAYLIST_TYPE, headers={"Cache-Control": cache}
    )


async def channel_resource(request: web.Request) -> web.StreamResponse:
    """The channel's multivariant playlist or one of its two media playlists."""
    await require_viewer_access(request)
    name = request.match_info["name"]
    feed = await _catch_up(request)
    if name == MULTIVARIANT:
        text = feed.multivariant()
        if text is None:
            return error_response(404, "not_found", NOTHING_YET)
        return _answer(text, cache_control(ResourceKind.PLAYLIST))
    track = feed.track(name)
    if track is None:
        return error_response(404, "not_found", "a channel has index.m3u8, source.m3u8 and "
                              "audio.m3u8 only")  # fmt: skip
    directive = parse_directives(request.query)  # BadDirective: 400 (web.errors)
    if directive is not None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3.0 * track.target_duration
        while True:
            decision = track.decide(directive.msn, directive.part)
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
            await feed.wait(remaining)
            feed = await _catch_up(request)
    if not track.segments:
        return error_response(404, "not_found", NOTHING_YET)
    return _answer(
        track.render(), cache_control(ResourceKind.PLAYLIST, blocking=directive is not None)
    )
