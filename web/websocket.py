"""``GET /ws``: the websocket edge. Identifies the client, answers the upgrade, takes the socket
over (realtime/link.py) and hands each message to Actions, in order. See docs/protocol.md and
docs/architecture.md, "Realtime".
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from aiohttp import web

from realtime.actions import Actions, error_frame
from realtime.connection import Connection
from realtime.errors import FrameError
from realtime.frames import CLOSE_POLICY, FrameParser, Message, Opcode
from realtime.hub import Hub
from realtime.link import copy_socket, take_over
from realtime.protocol import ErrorCode, envelope
from realtime.sign_ins import SignIn
from studio.access import Principal
from studio.errors import StudioError, Unauthenticated
from studio.secrets import hash_secret, new_id
from web import auth
from web.errors import BadRequest
from web.keys import ACTIONS, HUB, PROGRAMME, SETTINGS

log = logging.getLogger(__name__)
HARD_FRAME_LIMIT = 64 * 1024  # beyond this aiohttp closes with 1009; below it we answer errors
PIPELINE = 32  # chat messages of one client being stored at once
PIPELINED = frozenset({"chat.send"})  # frames that change nothing about the connection itself
INBOX_MAX = 64  # frames read but not handled yet, per client, before reading pauses
PASS_DEADLINE_S = 5.0  # with an access code: how long a client without a pass has to send one


class _Handshake(web.WebSocketResponse):
    """The upgrade's response. Its head is held back until the first frame is written, so
    that the 101 and the first frame leave in one write (one system call per viewer fewer in
    a join storm). Once the socket is taken over (``take_over``), aiohttp lets go of the
    request and must not close the websocket it thinks it has."""

    _send_headers_immediately = False

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
    gated = False  # the access code holds it back until a pass comes in the first frame
    try:
        principal = await auth.principal(request)
        if principal is not None and "Authorization" not in request.headers:
            _check_origin(request, settings.public_url)
        try:
            await auth.require_viewer_access(request)
        except Unauthenticated:
            gated = True
    except (StudioError, FrameError) as exc:
        refusal = exc
    transport = request.transport
    assert transport is not None
    if refusal is not None:
        writer = await ws.prepare(request)
        await writer.write(error_frame(refusal))
        await ws.close(code=CLOSE_POLICY, message=b"refused")
        return ws
    hub, actions = request.app[HUB], request.app[ACTIONS]
    holder = auth.pass_holder(request)
    viewer_id = holder.viewer_id if holder is not None else new_id("vwr", 12)
    name = principal.name if principal is not None else holder.name if holder else None
    name = name or f"Guest {viewer_id[-4:]}"
    transport.pause_reading()  # the client's first frames are for the link, not for aiohttp
    try:
        sock = copy_socket(transport)
    except OSError as exc:  # out of open files: refuse this client, keep serving
        (await ws.prepare(request)).send_headers()
        transport.abort()  # upgraded already: no HTTP error may follow on this socket
        log.warning("websocket dropped after its handshake: %s (raise the open-file limit)", exc)
        return ws
    try:
        writer = await ws.prepare(request)
        if gated:
            writer.send_headers()
        else:  # the welcome goes out with the 101, in one write
            await writer.write(actions.welcome(viewer_id, name, principal))
        link = await take_over(transport, sock, FrameParser(HARD_FRAME_LIMIT))
    except BaseException:
        sock.close()
        transport.abort()
        raise
    conn = Connection(
        link=link,
        viewer_id=viewer_id,
        name=name,
        address=request.remote or "unknown",
        buffer_limit=settings.realtime.send_buffer_bytes,
        principal_id=principal.token_id if principal else None,
        gated=gated,
    )
    hub.connections.add(conn)
    if principal is not None:
        hub.sign_ins.add(conn, await _sign_in(request, principal))
    client = Client(conn, principal, actions, hub)
    if gated:
        client.deadline = asyncio.get_running_loop().call_later(PASS_DEADLINE_S, client.too_late)
    link.attach(client)
    return ws


async def _sign_in(request: web.Request, principal: Principal) -> SignIn:
    """What signed the connection in: a bearer token, or a browser sign-in (which expires)."""
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    if "Authorization" in request.headers or not cookie:
        return SignIn(principal.token_id)
    programme = request.app[PROGRAMME]
    expires_at = await programme.sign_in_expiry(cookie) or programme.clock.now()
    return SignIn(principal.token_id, hash_secret(cookie), expires_at)


class Client:
    """One client's messages, handled in order by a task that exists only while there are any.

    Chat messages wait for the store before their ack; handling them one after another would
    cap a client at one message per commit. They are taken in order and stored concurrently
    (up to ``PIPELINE``); any other frame waits until they are done, so joins, leaves and the
    like still apply in the order they were sent."""

    __slots__ = ("actions", "conn", "deadline", "gone", "hub", "inbox", "principal", "worker")

    def __init__(
        self, conn: Connection, principal: Principal | None, actions: Actions, hub: Hub
    ) -> None:
        self.conn, self.principal, self.actions, self.hub = conn, principal, actions, hub
        self.inbox: list[str | bytes] = []  # text frames, and binary ones (refused in turn)
        self.worker: asyncio.Task[None] | None = None
        self.deadline: asyncio.TimerHandle | None = None  # for a pass (see PASS_DEADLINE_S)
        self.gone = False

    def too_late(self) -> None:
        """The access code held the connection back and no pass came in time: close it."""
        conn = self.conn
        if conn.gated and not self.inbox and self.worker is None:
            conn.send(error_frame(FrameError(
                ErrorCode.FORBIDDEN, f"this event asks for an access code: no viewer pass came "
                f"within {PASS_DEADLINE_S:g} seconds",
            )))  # fmt: skip
            conn.drop(CLOSE_POLICY, "an access code or viewer pass is needed")

    def received(self, message: Message) -> None:
        """Take one message from the link."""
        conn = self.conn
        conn.alive = True
        if message.opcode is Opcode.PONG:
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
        if self.deadline is not None:
            self.deadline.cancel()
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


def _pipelined(data: str | bytes) -> bool:
    """Whether this frame may be handled while the previous ones are being stored (one that
    is not a chat message, or is malformed, is handled in turn and answered there)."""
    return isinstance(data, str) and envelope(data)[0] in PIPELINED


def _check_origin(request: web.Request, public_url: str) -> None:
    """A cookie-signed-in websocket must come from our own pages (no cross-site hijacking)."""
    origin = request.headers.get("Origin")
    allowed = {urlsplit(public_url).netloc, request.host}
    if origin is not None and urlsplit(origin).netloc not in allowed:
        raise FrameError(ErrorCode.FORBIDDEN, "this page may not open a signed-in connection")
