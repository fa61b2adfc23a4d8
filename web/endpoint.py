"""The route table's entries and the adapter from typed handlers to aiohttp handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from studio.roles import Role
from web.validation import json_body

TypedHandler = Callable[..., Awaitable[Any]]


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

    def aiohttp_handler(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap the typed handler: decode the JSON body, encode the answer with the status."""
        typed, body_type, status = self.handler, self.body, self.status
        reads_json = body_type is not None and self.body_media_types == ("application/json",)

        async def handle(request: web.Request) -> web.StreamResponse:
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
