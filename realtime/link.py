"""A client's websocket once the handshake is done: our own small protocol on its own socket.

``take_over`` gives a copy of the upgraded socket to a ``Link``, which reads with the loop's
reader callback, writes whole frames under a per-link lock (from the loop or the sweep writer
thread) and answers pings and the closing handshake; framing rules are in realtime/frames.py.
See docs/architecture.md, "Realtime" (The websocket after its handshake).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from typing import Protocol

from realtime.errors import ProtocolViolation
from realtime.frames import (
    CLOSE_GOING_AWAY,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    CLOSE_OVERLOADED,
    FrameParser,
    Message,
    Opcode,
    close_frame,
    close_reason,
    pong_frame,
)

CLOSE_TIMEOUT_S = 5.0  # after our close frame, how long the client has to answer (or drain)
READ_SIZE = 65536


class Listener(Protocol):
    """Who the link hands its messages to."""

    def received(self, message: Message) -> None:
        """A text, binary or pong message arrived."""

    def lost(self) -> None:
        """The connection is gone (closed by either side, or broken)."""


class Link:
    """The websocket of one client, after the handshake."""

    __slots__ = (
        "_backlog",
        "_closer",
        "_early",
        "_finish_when_flushed",
        "_finished",
        "_loop",
        "_reading",
        "_thread",
        "_writing",
        "backlog_bytes",
        "closing",
        "fd",
        "listener",
        "lock",
        "parser",
        "sock",
        "writable",
    )

    def __init__(
        self, sock: socket.socket, parser: FrameParser, loop: asyncio.AbstractEventLoop
    ) -> None:
        sock.setblocking(False)
        self.sock, self.fd, self._loop = sock, sock.fileno(), loop
        self.parser: FrameParser | None = parser
        self._thread = threading.get_ident()  # the event loop's
        self.lock = threading.Lock()
        self.listener: Listener | None = None
        self.closing = False  # our close frame is sent: only the client's close matters now
        self.writable = True  # false once closed or broken: writes are dropped
        self.backlog_bytes = 0
        self._backlog: list[bytes] = []
        self._writing = False  # waiting for the socket to take the backlog
        self._reading = False
        self._finished = False
        self._finish_when_flushed = False
        self._closer: asyncio.TimerHandle | None = None
        self._early: list[Message] | None = None  # arrived before the listener was attached
        self.resume_reading()

    # --- reading (event loop) ----------------------------------------------------------------

    def attach(self, listener: Listener) -> None:
        """Hand messages to ``listener`` from now on (and those that came before it)."""
        self.listener = listener
        early, self._early = self._early or [], None
        for message in early:
            listener.received(message)
        if self._finished:
            self.listener = None
            listener.lost()

    def pause_reading(self) -> None:
        """Read nothing more until ``resume_reading``."""
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self.fd)

    def resume_reading(self) -> None:
        """Read again."""
        if not self._reading and not self._finished:
            self._reading = True
            self._loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.abort()
            return
        if not data:
            self.abort()
            return
        self.data_received(data)

    def data_received(self, data: bytes) -> None:
        """Bytes from the client."""
        if self.parser is None:  # a broken stream: only its end matters
            return
        try:
            messages = self.parser.feed(data)
        except ProtocolViolation as exc:
            self.close(exc.code, exc.reason)
            self._broken()
            return
        for message in messages:
            if message.opcode is Opcode.CLOSE:
                assert isinstance(message.data, bytes)
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

    def _broken(self) -> None:
        """The stream cannot be read any further: what comes is read and thrown away (so the
        socket closes without a reset) and our side is shut once the close frame is out; the
        client sees the close frame, then the end of the stream, and hangs up."""
        self.parser = None
        with self.lock:
            if not self._backlog and self.writable:
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_WR)

    def _closed_by_client(self, data: bytes) -> None:
        if not self.closing:
            try:
                code, _ = close_reason(data)
            except ProtocolViolation as exc:
                code = exc.code
            self.closing = True
            self.write(close_frame(CLOSE_NORMAL if code == CLOSE_NO_STATUS else code))
        self._finish_after_flush()

    # --- writing (any thread) -----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send ready frame bytes now, or keep them in order behind what is waiting."""
        with self.lock:
            if not self.writable:
                return
            if self._backlog:
                self._backlog.append(data)
                self.backlog_bytes += len(data)
                return
            try:
                sent = os.write(self.fd, data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:  # reset or broken: the loop cleans up
                self.writable = False
                self._loop.call_soon_threadsafe(self.abort)
                return
            if sent == len(data):
                return
            rest = data[sent:]
            self._backlog.append(rest)
            self.backlog_bytes += len(rest)
        if threading.get_ident() == self._thread:
            self._want_write()
        else:
            self._loop.call_soon_threadsafe(self._want_write)

    def _want_write(self) -> None:
        if not self._writing and not self._finished:
            self._writing = True
            self._loop.add_writer(self.fd, self._flush)

    def _flush(self) -> None:
        with self.lock:
            while self._backlog and self.writable:
                data = self._backlog[0]
                try:
                    sent = os.write(self.fd, data)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    self.writable = False
                    break
                self.backlog_bytes -= sent
                if sent < len(data):
                    self._backlog[0] = data[sent:]
                    return
                self._backlog.pop(0)
            self._writing = False
            self._loop.remove_writer(self.fd)
        if not self.writable or self._finish_when_flushed:
            self.abort()

    # --- closing (event loop) -----------------------------------------------------------------

    def is_closing(self) -> bool:
        """Whether the link is closing or gone."""
        return self.closing or not self.writable

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the socket is cut if the client does not answer."""
        if self.closing or self._finished:
            return
        self.closing = True
        self.write(close_frame(code, reason))
        if code in (CLOSE_GOING_AWAY, CLOSE_OVERLOADED):
            # shutting down, or a client that does not read: no waiting for an answer; the
            # socket closes once what is queued has gone out (or is cut after the timeout)
            self._finish_after_flush()
        if not self._finished:
            self._closer = self._loop.call_later(CLOSE_TIMEOUT_S, self.abort)

    def _finish_after_flush(self) -> None:
        if self._backlog:
            self._finish_when_flushed = True
            self.pause_reading()
        else:
            self.abort()

    def abort(self) -> None:
        """Close the socket now, dropping whatever was not sent."""
        if self._finished:
            return
        self._finished, self.closing = True, True
        if self._closer is not None:
            self._closer.cancel()
        self.pause_reading()
        with self.lock:  # no write is under way on another thread once we hold it
            self.writable = False
            self._backlog.clear()
            self.backlog_bytes = 0
            if self._writing:
                self._loop.remove_writer(self.fd)
            self.sock.close()
        if self.listener is not None:
            listener, self.listener = self.listener, None
            listener.lost()


def copy_socket(transport: asyncio.Transport) -> socket.socket:
    """A copy of the transport's socket for a ``Link`` (``OSError`` when no file is left), made
    before the handshake is answered, so a node out of open files answers no upgrade."""
    original: socket.socket = transport.get_extra_info("socket")
    return socket.socket(fileno=os.dup(original.fileno()))


async def take_over(transport: asyncio.Transport, sock: socket.socket, parser: FrameParser) -> Link:
    """Give ``sock`` (``copy_socket``), whose handshake was just written, to a new ``Link``.

    The old transport must have been paused before the handshake was written, so that no
    frame of the client's is read by it; it keeps its own copy of the socket and is closed by
    its owner (which must not write to it again)."""
    loop = asyncio.get_running_loop()
    for _ in range(1000):  # the handshake goes out before anything of ours
        if not transport.get_write_buffer_size():
            break
        await asyncio.sleep(0.001)
    await asyncio.sleep(0)  # a loop turn: writes the event loop queued are flushed too
    return Link(sock, parser, loop)
