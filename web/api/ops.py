"""Operations endpoints: health, metrics and the OpenAPI document."""

from __future__ import annotations

import msgspec
from aiohttp import web

from web.keys import METRICS, PROGRAMME


class Health(msgspec.Struct, kw_only=True):
    """Whether this node can serve."""

    status: str
    store: str


async def healthz(request: web.Request) -> web.Response:
    """200 when the node and its store answer; 503 (StoreUnavailable) otherwise."""
    dialect = await request.app[PROGRAMME].check_store()
    body = msgspec.json.encode(Health(status="ok", store=dialect))
    return web.Response(body=body, content_type="application/json")


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition of this node."""
    registry = request.app[METRICS]
    sessions = await request.app[PROGRAMME].list_sessions()
    registry.set_session_states([s.state for s in sessions])
    return web.Response(
        body=registry.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )
