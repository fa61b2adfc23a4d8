"""The WHIP endpoints (RFC 9725): ``POST /whip/{session_id}`` and ``DELETE`` on its resource.

The caller presents the session's stream key as ``Authorization: Bearer <key>``. 201 carries
the SDP answer, ``Location`` and ``ETag``; refusals are the media plane's errors, answered by
``web.errors`` (``ANSWERS``). The answers: ``docs/operations.md`` ("Publishing over
WebRTC (WHIP)").
"""

from __future__ import annotations

from aiohttp import web

from streaming.errors import WrongStreamKey
from streaming.whep import SDP_TYPE
from streaming.whip.ingest import WhipAnswer
from web.keys import MEDIA, PROGRAMME
from web.media.offers import read_offer

TAKEOVER_HEADER = "X-Torget-Takeover"


def stream_key(request: web.Request) -> str:
    """The bearer of the request (the stream key), or ``WrongStreamKey``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    key = value.strip()
    if scheme.lower() != "bearer" or not key:
        raise WrongStreamKey("send the session's stream key as Authorization: Bearer <stream key>")
    return key


async def publish(request: web.Request) -> web.StreamResponse:
    """Publish the session over WebRTC: the body is the SDP offer, the answer the SDP answer."""
    session_id = request.match_info["session_id"]
    await request.app[PROGRAMME].get_session(session_id)  # 404 when there is none
    key = stream_key(request)
    plane = request.app[MEDIA]
    await plane.check_stream_key(session_id, key)
    offer = await read_offer(request)
    takeover = request.headers.get(TAKEOVER_HEADER, "").strip() == "1"
    peer = request.remote or "unknown peer"
    answer = await plane.whip.publish(session_id, key, offer, peer=peer, takeover=takeover)
    return created(answer, f"/whip/{session_id}/{answer.resource_id}")


def created(answer: WhipAnswer, location: str) -> web.Response:
    """The 201 of an accepted WHIP offer: the SDP answer, its resource's Location and ETag."""
    return web.Response(
        status=201,
        body=answer.sdp.encode(),
        content_type=SDP_TYPE,
        headers={"Location": location, "ETag": answer.etag, "Cache-Control": "no-store"},
    )


async def unpublish(request: web.Request) -> web.StreamResponse | None:
    """End a WHIP publish (the stream key is needed here too)."""
    session_id = request.match_info["session_id"]
    resource_id = request.match_info["resource_id"]
    await request.app[PROGRAMME].get_session(session_id)
    key = stream_key(request)
    plane = request.app[MEDIA]
    await plane.check_stream_key(session_id, key)
    await plane.whip.delete(session_id, resource_id)
    return None
