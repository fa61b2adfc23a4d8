"""``GET /ws``: the websocket edge. Identifies the client, then hands each frame to Actions."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import msgspec
from aiohttp import WSMsgType, web

from studio.access import Principal
from studio.errors import StudioError
from studio.secrets import new_id
from web import auth
from web.keys import ACTIONS, HUB, SETTINGS
from web.realtime.actions import FrameError, error_frame
from web.realtime.connection import CLOSE_POLICY, Connection
from web.realtime.hub import frame
from web.realtime.protocol import PROTOCOL_VERSION, ErrorCode

log = logging.getLogger(__name__)
HARD_FRAME_LIMIT = 64 * 1024  # beyond this aiohttp closes with 1009; below it we answer errors
PIPELINE = 32  # chat messages of one client being stored at once
PIPELINED = frozenset({"chat.send"})  # frames that change nothing about the connection itself


class _Kind(msgspec.Struct):
    type: str = ""


_kind = msgspec.json.Decoder(_Kind).decode


async def websocket(request: web.Request) -> web.StreamResponse:
    """Serve one client's websocket until it goes away."""
    settings = request.app[SETTINGS]
    # No per-connection heartbeat timers: the hub pings every client in one sweep (see
    # Hub._ping_loop) and we answer pings ourselves (autoping off, so pongs reach us).
    ws = web.WebSocketResponse(autoping=False, max_msg_size=HARD_FRAME_LIMIT, compress=False)
    refusal: StudioError | FrameError | None = None
    principal: Principal | None = None
    try:
        principal = await auth.principal(request)
        if principal is not None and "Authorization" not in request.headers:
            _check_origin(request, settings.public_url)
        await auth.require_viewer_access(request)
    except (StudioError, FrameError) as exc:
        refusal = exc
    await ws.prepare(request)
    if refusal is not None:
        assert request.transport is not None
        request.transport.write(error_frame(refusal))
        await ws.close(code=CLOSE_POLICY, message=b"refused")
        return ws
    assert request.transport is not None
    viewer_id = auth.viewer_id(request) or new_id("vwr", 12)
    conn = Connection(
        ws=ws,
        transport=request.transport,
        viewer_id=viewer_id,
        name=f"Guest {viewer_id[-4:]}",
        address=request.remote or "unknown",
        buffer_limit=settings.realtime.send_buffer_bytes,
        principal_id=principal.token_id if principal else None,
    )
    if principal is not None:
        conn.name = principal.name
    hub, actions = request.app[HUB], request.app[ACTIONS]
    hub.connections.add(conn)
    role = principal.role.value if principal else "viewer"
    welcome = {"type": "welcome", "v": PROTOCOL_VERSION, "viewer_id": conn.viewer_id,
               "name": conn.name, "role": role, "node": hub.node_id}  # fmt: skip
    conn.send(frame(welcome))
    # Chat messages wait for the store before their ack; handling them one after another would
    # cap a client at one message per commit. They are taken in order and stored concurrently
    # (up to PIPELINE); any other frame waits until they are done, so joins, leaves and the
    # like still apply in the order they were sent.
    pipeline = hub.engine.ordered_appends
    inflight: list[asyncio.Task[None]] = []  # (a deque would cost ~600 bytes per client)
    try:
        while True:
            message = await ws.receive()
            conn.alive = True
            kind = message.type
            if kind is WSMsgType.TEXT:
                while inflight and inflight[0].done():
                    inflight.pop(0).result()
                if pipeline and _pipelined(message.data):
                    inflight.append(
                        asyncio.create_task(actions.handle(conn, principal, message.data))
                    )
                    if len(inflight) >= PIPELINE:
                        await inflight.pop(0)
                    continue
                while inflight:
                    await inflight.pop(0)
                await actions.handle(conn, principal, message.data)
            elif kind is WSMsgType.PONG:
                continue
            elif kind is WSMsgType.PING:
                await ws.pong(message.data)
            elif kind is WSMsgType.BINARY:
                conn.send(error_frame(FrameError(ErrorCode.BAD_FRAME, "send JSON text frames")))
            else:  # closing, closed or broken
                break
    finally:
        for task in inflight:  # left to finish: what was sent is stored, the acks go nowhere
            task.add_done_callback(_retrieve)
        hub.disconnect(conn)
    return ws


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a chat frame failed", exc_info=task.exception())


def _pipelined(data: str) -> bool:
    """Whether this text frame may be handled while the previous ones are being stored."""
    try:
        return _kind(data).type in PIPELINED
    except msgspec.MsgspecError:
        return False  # handled in turn: it gets its error frame there


def _check_origin(request: web.Request, public_url: str) -> None:
    """A cookie-signed-in websocket must come from our own pages (no cross-site hijacking)."""
    origin = request.headers.get("Origin")
    allowed = {urlsplit(public_url).netloc, request.host}
    if origin is not None and urlsplit(origin).netloc not in allowed:
        raise FrameError(ErrorCode.FORBIDDEN, "this page may not open a signed-in connection")
