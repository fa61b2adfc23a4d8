"""HTTP handlers of WHEP playback (draft-ietf-wish-whep; routes in ``web.routes``).

``POST /whep/{session_id}`` (an SDP offer: 201, the answer, ``Location``; ``?audio=<language>``
hears that interpretation language instead of the original sound) and ``DELETE`` on the
resource (204). Refusals are the media plane's errors, answered by ``web.errors``
(``ANSWERS``). The answers: ``docs/operations.md`` ("Low-latency playback").
"""

from __future__ import annotations

from aiohttp import web

from streaming.errors import NotLive, UnknownWhepViewer
from streaming.plane import OVER
from streaming.whep import SDP_TYPE, check_offer, is_resource_id
from studio.errors import NotFound
from studio.interaction.playback import valid_viewer_query
from studio.interpretation import check_language
from web.auth import viewer_id
from web.errors import error_response
from web.keys import PROGRAMME, WHEP
from web.media.offers import read_offer


async def offer(request: web.Request) -> web.StreamResponse:
    """Answer a viewer's SDP offer with a peer that plays the session's live media."""
    sdp = await read_offer(request)
    check_offer(sdp)
    session_id = request.match_info["session_id"]
    try:
        session = await request.app[PROGRAMME].get_session(session_id)
    except NotFound:
        return error_response(404, "not_found", "no such session")
    if session.state in OVER:
        raise NotLive(f"this session is {session.state.value}")
    audience = viewer_id(request) or valid_viewer_query(request.query.get("v"))
    language = request.query.get("audio") or None  # an interpretation language to hear
    if language is not None:
        check_language(language, request.app[PROGRAMME].interpretation_languages)
    resource, answer = await request.app[WHEP].open(session_id, sdp, audience, language)
    return web.Response(
        status=201,
        text=answer,
        content_type=SDP_TYPE,
        headers={"Location": f"/whep/{session_id}/{resource}"},
    )


async def leave(request: web.Request) -> web.StreamResponse:
    """End a viewer's playback and free its peer."""
    resource = request.match_info["resource_id"]
    session_id = request.match_info["session_id"]
    if not is_resource_id(resource) or not await request.app[WHEP].close_viewer(
        resource, session_id
    ):
        raise UnknownWhepViewer("no such WebRTC playback resource")
    return web.Response(status=204)
