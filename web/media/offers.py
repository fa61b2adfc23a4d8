"""Read the SDP offer of a WHIP or WHEP request: media type, size (``MAX_OFFER_BYTES``: 413,
never read past it) and encoding, the same for both endpoints."""

from __future__ import annotations

from aiohttp import web

from streaming.whep import MAX_OFFER_BYTES, SDP_TYPE
from web.errors import BadRequest, PayloadTooLarge, Unsupported


async def read_offer(request: web.Request) -> str:
    """The SDP offer of the request (checked media type, size and encoding)."""
    if request.content_type != SDP_TYPE:
        raise Unsupported(f"send the offer as {SDP_TYPE}, not {request.content_type or 'nothing'}")
    length = request.content_length
    too_large = PayloadTooLarge(f"the SDP offer is larger than {MAX_OFFER_BYTES} bytes")
    if length is not None and length > MAX_OFFER_BYTES:
        raise too_large
    body = bytearray()
    try:
        while chunk := await request.content.read(16384):
            body += chunk
            if len(body) > MAX_OFFER_BYTES:
                raise too_large
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the SDP offer must be UTF-8 text") from None
