"""The security headers every answer carries, and the middleware that adds them."""

from __future__ import annotations

from aiohttp import web

from web.errors import Handler

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        # data: media: the empty WebVTT source of the <track> hls.js adds for captions
        "media-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'; object-src 'none'"
    ),
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the security headers every answer carries."""
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        if name == "X-Frame-Options" and "Content-Security-Policy" in response.headers:
            continue  # a handler's own policy decides framing (the embed page's frame-ancestors)
        response.headers.setdefault(name, value)
    return response
