"""Media requests of sessions whose media another node holds are forwarded to that node.

``MediaProxy.forward`` sends the request as it came (the headers ``streaming.ownership``
allows, ``X-Torget-Proxied: 1``) and answers with the owner's answer, or 503 when the owner
cannot be reached. The route adapter (``web.endpoint``) calls it for routes flagged
``media_session``. See ``docs/architecture.md`` ("Media across nodes").
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from streaming.owners import MediaOwners
from streaming.ownership import proxy_request_headers, proxy_response_headers
from studio.interaction.playback import client_address
from web.errors import error_response
from web.security import SECURITY_HEADERS

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 60.0  # longer than any blocking playlist reload the owner may hold
BUFFER_LIMIT = 1 << 20  # answers larger than this (or of unknown length) are streamed
UNREACHABLE = (
    "the node that holds this session's media cannot be reached; try again in a few seconds"
)


class MediaProxy:
    """Forwards a request to the node that holds its session's media."""

    def __init__(self, owners: MediaOwners, client: aiohttp.ClientSession) -> None:
        self.owners = owners
        self.client = client

    async def forward(self, request: web.Request, target: str) -> web.StreamResponse:
        """Send ``request`` to the node at ``target`` and answer with what it answers."""
        headers = proxy_request_headers(
            request.headers.items(),
            client_address(request.remote, request.headers.get("X-Forwarded-For")),
        )
        body = await request.read() if request.body_exists else None
        url = target + str(request.rel_url)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S
        )
        response: web.StreamResponse | None = None
        try:
            async with self.client.request(
                request.method,
                url,
                headers=headers,
                data=body,
                timeout=timeout,
                allow_redirects=False,
            ) as upstream:
                passed = proxy_response_headers(upstream.headers, target)
                length = upstream.content_length
                if length is not None and length <= BUFFER_LIMIT:
                    data = await upstream.read()
                    return web.Response(status=upstream.status, body=data, headers=passed)
                response = web.StreamResponse(status=upstream.status, headers=passed)
                if length is not None:
                    response.content_length = length
                for name, value in SECURITY_HEADERS.items():
                    response.headers.setdefault(name, value)
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(1 << 16):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning(
                "media request %s %s to %s failed: %s",
                request.method,
                request.rel_url.path,
                target,
                exc,
            )
            if response is not None and response.prepared:
                raise  # the answer was under way: the viewer sees a cut-off download
            self.owners.forget_lookups()
            return error_response(503, "unavailable", UNREACHABLE)
