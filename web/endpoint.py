"""The route table's entries and the adapter from typed handlers to aiohttp handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from streaming.errors import OwnerUnknown
from streaming.owners import media_here
from streaming.ownership import PROXIED_HEADER
from studio.access import authorize_role
from studio.roles import Role
from web.auth import principal, require_viewer_access
from web.errors import error_response
from web.keys import MEDIA, MEDIA_PROXY
from web.validation import json_body

TypedHandler = Callable[..., Awaitable[Any]]
OWNER_UNKNOWN = (
    "which node holds this session's media cannot be told now (the store is unavailable); "
    "try again in a few seconds"
)


@dataclass(frozen=True, slots=True)
class Query:
    """A documented query parameter."""

    name: str
    description: str
    enum: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: where it is, who may call it, what it reads and answers.

    ``roles`` empty means public (gated only by the event's access code when ``viewer_gate``).
    ``media_session``: the path names a session whose media may be on another node; the
    request is forwarded there (``forward_if_elsewhere``) before the handler runs.
    The OpenAPI document is generated from these entries, so it says what the server accepts.
    """

    method: str
    path: str
    handler: TypedHandler
    summary: str
    tag: str
    body: type[Any] | None = None
    response: Any = None
    status: int = 200
    roles: frozenset[Role] = frozenset()
    viewer_gate: bool = False
    media_types: tuple[str, ...] = ("application/json",)
    body_media_types: tuple[str, ...] = ("application/json",)
    query: tuple[Query, ...] = field(default=())
    errors: tuple[int, ...] = ()
    media_session: bool = False

    def aiohttp_handler(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap the typed handler: check the caller, decode the JSON body, encode the answer.

        Who may call is decided before anything of the body is read: an anonymous caller gets
        401 (a wrong role 403) whatever the body holds.
        """
        typed, body_type, status = self.handler, self.body, self.status
        media_session, roles, viewer_gate = self.media_session, self.roles, self.viewer_gate
        reads_json = body_type is not None and self.body_media_types == ("application/json",)

        async def handle(request: web.Request) -> web.StreamResponse:
            if roles:
                authorize_role(await principal(request), roles)
            elif viewer_gate:
                await require_viewer_access(request)
            if media_session and (proxied := await forward_if_elsewhere(request)) is not None:
                return proxied  # another node holds this session's media: it answers
            if reads_json:
                assert body_type is not None
                result = await typed(request, await json_body(request, body_type))
            else:
                result = await typed(request)
            if isinstance(result, web.StreamResponse):
                return result
            if result is None:
                return web.Response(status=204)
            return web.Response(
                status=status, body=msgspec.json.encode(result), content_type="application/json"
            )

        handle.__name__ = typed.__name__
        return handle


async def forward_if_elsewhere(request: web.Request) -> web.StreamResponse | None:
    """The owner's answer when another node holds the session's media; None when this node
    answers itself (no ownership here, a request already forwarded, or the media is here);
    503 when the store cannot say which node holds it (and did not say so recently)."""
    proxy = request.app.get(MEDIA_PROXY)
    if proxy is None or request.headers.get(PROXIED_HEADER):
        return None
    session_id = request.match_info["session_id"]
    if media_here(request.app[MEDIA], session_id):
        return None
    try:
        target = await proxy.owners.owner_elsewhere(session_id)
    except OwnerUnknown:
        unknown = error_response(503, "unavailable", OWNER_UNKNOWN)
        unknown.headers["Retry-After"] = "2"
        return unknown
    if target is None:
        return None
    return await proxy.forward(request, target)
