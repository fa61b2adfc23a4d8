"""A client's websocket once the handshake is done: our own small protocol on its socket.

aiohttp answers the upgrade; then ``take_over`` moves the socket to a ``Link`` (an
``asyncio.Protocol`` on a transport of its own) and aiohttp lets go of the request. For the
rest of the connection's life no request, response, parser or handler task of aiohttp stays
alive for it: a few hundred bytes per idle client instead of about 13 KB, which is what lets
one node hold tens of thousands. The framing rules are in web/realtime/frames.py (no I/O);
this module only moves bytes and answers the control frames.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Protocol, cast

from web.realtime.frames import (
    CLOSE_GOING_AWAY,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    CLOSE_OVERLOADED,
    FrameParser,
    Message,
    Opcode,
    ProtocolViolation,
    close_frame,
    close_reason,
    pong_frame,
)

CLOSE_TIMEOUT_S = 5.0  # after our close frame, how long the client has to answer it


class Listener(Protocol):
    """Who the link hands its messages to."""

    def received(self, message: Message) -> None:
        """A text, binary or pong message arrived."""

    def lost(self) -> None:
        """The connection is gone (closed by either side, or broken)."""


class Link(asyncio.Protocol):
    """The websocket protocol of one client, after the handshake."""

    __slots__ = ("_closer", "_early", "closing", "listener", "parser", "transport")

    def __init__(self, parser: FrameParser) -> None:
        self.parser = parser
        self.listener: Listener | None = None
        self.transport: asyncio.Transport | None = None
        self.closing = False  # our close frame is sent: only the client's close matters now
        self._closer: asyncio.TimerHandle | None = None
        self._early: list[Message] | None = None  # arrived before the listener was attached

    def attach(self, listener: Listener) -> None:
        """Hand messages to ``listener`` from now on (and those that came before it)."""
        self.listener = listener
        early, self._early = self._early or [], None
        for message in early:
            listener.received(message)
        if self.transport is None:  # gone already
            self.listener = None
            listener.lost()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no asyncio subclass

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.parser.feed(data)
        except ProtocolViolation as exc:
            self.close(exc.code, exc.reason)
            self.parser = FrameParser(0)  # read nothing more of a broken stream
            return
        for message in messages:
            if message.opcode is Opcode.CLOSE:
                self._closed_by_client(message.data)
                return
            if self.closing:
                continue
            if message.opcode is Opcode.PING:
                assert isinstance(message.data, bytes)
                self.write(pong_frame(message.data))
            elif self.listener is not None:
                self.listener.received(message)
            else:
                self._early = [*(self._early or []), message]

    def _closed_by_client(self, data: str | bytes) -> None:
        assert self.transport is not None
        assert isinstance(data, bytes)
        if not self.closing:
            try:
                code, _ = close_reason(data)
            except ProtocolViolation as exc:
                code = exc.code
            self.closing = True
            self.write(close_frame(CLOSE_NORMAL if code == CLOSE_NO_STATUS else code))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closer is not None:
            self._closer.cancel()
        self.closing = True
        self.transport = None
        if self.listener is not None:
            listener, self.listener = self.listener, None
            listener.lost()

    def write(self, data: bytes) -> None:
        """Write ready frame bytes (the caller checks the buffer)."""
        assert self.transport is not None
        self.transport.write(data)

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the connection is cut if the client does not answer."""
        transport = self.transport
        if self.closing or transport is None or transport.is_closing():
            return
        self.closing = True
        transport.write(close_frame(code, reason))
        if code in (CLOSE_GOING_AWAY, CLOSE_OVERLOADED):
            # shutting down, or a client that does not read: no waiting for an answer; the
            # socket closes once what is queued has gone out (or is cut after the timeout)
            transport.close()
        self._closer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, transport.abort)


async def take_over(transport: asyncio.Transport, parser: FrameParser) -> Link:
    """Move a socket whose handshake was just written to a new ``Link``.

    The old transport must have been paused before the handshake was written, so that no
    frame of the client's is read by it; it keeps its own copy of the socket and is closed by
    its owner (which must not write to it again)."""
    loop = asyncio.get_running_loop()
    for _ in range(1000):  # the handshake goes out before anything of ours
        if not transport.get_write_buffer_size():
            break
        await asyncio.sleep(0.001)
    await asyncio.sleep(0)  # a loop turn: writes the event loop queued are flushed too
    original: socket.socket = transport.get_extra_info("socket")
    sock = socket.socket(fileno=os.dup(original.fileno()))
    _, link = await loop.connect_accepted_socket(lambda: Link(parser), sock)
    return link
