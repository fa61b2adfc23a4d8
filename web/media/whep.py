"""HTTP handlers of WHEP playback (draft-ietf-wish-whep; routes in ``web.routes``).

    POST   /whep/{session_id}                 an SDP offer (application/sdp) -> 201, the SDP
                                              answer, Location: /whep/{session_id}/{resource}
    DELETE /whep/{session_id}/{resource_id}   the viewer leaves -> 204

Trickle ICE is not offered: the answer carries every candidate, and a PATCH on the resource is
answered 405 Method Not Allowed (no route), as the draft asks of servers without trickle ICE.

Refusals are the API's JSON errors: 400 a body that is not a usable SDP offer, 404 an unknown
session or resource, 409 a session that is over or has no ingest now, 415 another Content-Type,
503 a viewer cap reached (with ``Retry-After`` and the HLS address to use instead).
"""

from __future__ import annotations

from aiohttp import web

from streaming.plane import OVER
from streaming.whep import SDP_TYPE, Full, WhepError, check_offer, is_resource_id
from studio.errors import NotFound
from studio.interaction.playback import valid_viewer_query
from web.auth import require_viewer_access, viewer_id
from web.errors import error_response
from web.keys import PROGRAMME, WHEP

RETRY_AFTER = "30"


async def offer(request: web.Request) -> web.StreamResponse:
    """Answer a viewer's SDP offer with a peer that plays the session's live media."""
    await require_viewer_access(request)
    if request.content_type != SDP_TYPE:
        return error_response(
            415, "unsupported_media_type", "send the SDP offer with Content-Type: application/sdp"
        )
    try:
        sdp = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        return error_response(400, "bad_offer", "the SDP offer is not UTF-8 text")
    try:
        check_offer(sdp)
    except WhepError as exc:
        return error_response(exc.status, exc.code, exc.message)
    session_id = request.match_info["session_id"]
    try:
        session = await request.app[PROGRAMME].get_session(session_id)
    except NotFound:
        return error_response(404, "not_found", "no such session")
    if session.state in OVER:
        return error_response(409, "not_live", f"this session is {session.state.value}")
    try:
        audience = viewer_id(request) or valid_viewer_query(request.query.get("v"))
        resource, answer = await request.app[WHEP].open(session_id, sdp, audience)
    except WhepError as exc:
        response = error_response(exc.status, exc.code, exc.message)
        if isinstance(exc, Full):
            response.headers["Retry-After"] = RETRY_AFTER
        return response
    return web.Response(
        status=201,
        text=answer,
        content_type=SDP_TYPE,
        headers={"Location": f"/whep/{session_id}/{resource}"},
    )


async def leave(request: web.Request) -> web.StreamResponse:
    """End a viewer's playback and free its peer."""
    await require_viewer_access(request)
    resource = request.match_info["resource_id"]
    session_id = request.match_info["session_id"]
    if not is_resource_id(resource) or not await request.app[WHEP].close_viewer(
        resource, session_id
    ):
        return error_response(404, "not_found", "no such WebRTC playback resource")
    return web.Response(status=204)
