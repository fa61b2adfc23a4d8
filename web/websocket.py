"""``GET /ws``: the websocket edge. Identifies the client, answers the upgrade, takes the socket
over (realtime/link.py) and hands each message to Actions, in order. See docs/protocol.md and
docs/architecture.md, "Realtime".
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from realtime.actions import Actions, error_frame
from realtime.connection import Connection
from realtime.errors import FrameError
from realtime.frames import CLOSE_POLICY, FrameParser, Message, Opcode
from realtime.hub import Hub, frame
from realtime.link import take_over
from realtime.protocol import PROTOCOL_VERSION, ErrorCode
from studio.access import Principal
from studio.errors import StudioError
from studio.secrets import new_id
from web import auth
from web.errors import BadRequest
from web.keys import ACTIONS, HUB, SETTINGS

log = logging.getLogger(__name__)
HARD_FRAME_LIMIT = 64 * 1024  # beyond this aiohttp closes with 1009; below it we answer errors
PIPELINE = 32  # chat messages of one client being stored at once
PIPELINED = frozenset({"chat.send"})  # frames that change nothing about the connection itself
INBOX_MAX = 64  # frames read but not handled yet, per client, before reading pauses


class _Kind(msgspec.Struct):
    type: str = ""


_kind = msgspec.json.Decoder(_Kind).decode


class _Handshake(web.WebSocketResponse):
    """The upgrade's response. Once the socket is taken over (``take_over``), aiohttp lets go
    of the request and must not close the websocket it thinks it has."""

    async def write_eof(self) -> None:  # type: ignore[override]
        """Nothing to finish: the connection lives on in its ``Link``."""


async def websocket(request: web.Request) -> web.StreamResponse:
    """Answer the upgrade, then hand the socket to a ``Link`` and a ``Client`` and return."""
    settings = request.app[SETTINGS]
    ws = _Handshake(autoping=False, max_msg_size=HARD_FRAME_LIMIT, compress=False)
    if not ws.can_prepare(request).ok:
        raise BadRequest("this address takes websocket connections only (Upgrade: websocket)")
    refusal: StudioError | FrameError | None = None
    principal: Principal | None = None
    try:
        principal = await auth.principal(request)
        if principal is not None and "Authorization" not in request.headers:
            _check_origin(request, settings.public_url)
        await auth.require_viewer_access(request)
    except (StudioError, FrameError) as exc:
        refusal = exc
    transport = request.transport
    assert transport is not None
    if refusal is not None:
        await ws.prepare(request)
        transport.write(error_frame(refusal))
        await ws.close(code=CLOSE_POLICY, message=b"refused")
        return ws
    transport.pause_reading()  # the client's first frames are for the link, not for aiohttp
    await ws.prepare(request)
    try:
        link = await take_over(transport, FrameParser(HARD_FRAME_LIMIT))
    except OSError as exc:  # out of open files, most likely: refuse this client, keep serving
        transport.abort()  # upgraded already: no HTTP error may follow on this socket
        log.warning("websocket dropped after its handshake: %s (raise the open-file limit)", exc)
        return ws
    except BaseException:
        transport.abort()
        raise
    viewer_id = auth.viewer_id(request) or new_id("vwr", 12)
    conn = Connection(
        link=link,
        viewer_id=viewer_id,
        name=principal.name if principal is not None else f"Guest {viewer_id[-4:]}",
        address=request.remote or "unknown",
        buffer_limit=settings.realtime.send_buffer_bytes,
        principal_id=principal.token_id if principal else None,
    )
    hub = request.app[HUB]
    hub.connections.add(conn)
    role = principal.role.value if principal else "viewer"
    welcome = {"type": "welcome", "v": PROTOCOL_VERSION, "viewer_id": conn.viewer_id,
               "name": conn.name, "role": role, "node": hub.node_id}  # fmt: skip
    conn.send(frame(welcome))
    link.attach(Client(conn, principal, request.app[ACTIONS], hub))
    return ws


class Client:
    """One client's messages, handled in order by a task that exists only while there are any.

    Chat messages wait for the store before their ack; handling them one after another would
    cap a client at one message per commit. They are taken in order and stored concurrently
    (up to ``PIPELINE``); any other frame waits until they are done, so joins, leaves and the
    like still apply in the order they were sent."""

    __slots__ = ("actions", "conn", "gone", "hub", "inbox", "principal", "worker")

    def __init__(
        self, conn: Connection, principal: Principal | None, actions: Actions, hub: Hub
    ) -> None:
        self.conn, self.principal, self.actions, self.hub = conn, principal, actions, hub
        self.inbox: list[str] = []
        self.worker: asyncio.Task[None] | None = None
        self.gone = False

    def received(self, message: Message) -> None:
        """Take one message from the link."""
        conn = self.conn
        conn.alive = True
        if message.opcode is Opcode.PONG:
            return
        if not isinstance(message.data, str):
            conn.send(error_frame(FrameError(ErrorCode.BAD_FRAME, "send JSON text frames")))
            return
        self.inbox.append(message.data)
        if len(self.inbox) >= INBOX_MAX:  # read no more until these are handled
            conn.link.pause_reading()
        if self.worker is None:
            self.worker = asyncio.get_running_loop().create_task(self._work())

    def lost(self) -> None:
        """The client went away: what it sent and was not handled yet is dropped. A frame
        being handled (a join, say) finishes first, so the client leaves every room it ends
        up in."""
        self.gone = True
        self.inbox.clear()
        if self.worker is None:
            self.hub.disconnect(self.conn)

    async def _work(self) -> None:
        conn, principal, handle = self.conn, self.principal, self.actions.handle
        pipeline = self.hub.engine.ordered_appends
        inflight: list[asyncio.Task[None]] = []
        try:
            while True:
                if self.inbox:
                    data = self.inbox.pop(0)
                    if len(self.inbox) == INBOX_MAX // 2 and not conn.link.closing:
                        conn.link.resume_reading()
                    while inflight and inflight[0].done():
                        inflight.pop(0).result()
                    if pipeline and _pipelined(data):
                        inflight.append(asyncio.create_task(handle(conn, principal, data)))
                        if len(inflight) >= PIPELINE:
                            await inflight.pop(0)
                        continue
                    while inflight:
                        await inflight.pop(0)
                    await handle(conn, principal, data)
                elif inflight:
                    await inflight.pop(0)
                else:
                    return
        finally:
            self.worker = None
            for task in inflight:  # left to finish: what was sent is stored
                task.add_done_callback(_retrieve)
            if self.gone:
                self.hub.disconnect(self.conn)


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
