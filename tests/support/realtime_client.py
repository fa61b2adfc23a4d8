"""A small test client for the websocket protocol over a real connection."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType

from realtime.frames import unmask


class WsClient:
    """Sends frames and waits for the ones a test expects, keeping every event it saw."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.closed_code: int | None = None
        self.welcome: dict[str, Any] = {}

    async def send(self, **frame: Any) -> None:
        """Send one JSON frame."""
        await self.ws.send_str(json.dumps(frame))

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame from the server."""
        async with asyncio.timeout(timeout):
            message = await self.ws.receive()
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            self.closed_code = self.ws.close_code
            raise ConnectionError(f"closed with {self.ws.close_code}")
        frame: dict[str, Any] = json.loads(message.data)
        self.seen.append(frame)
        if frame["type"] == "events":
            self.events.extend(frame["events"])
        return frame

    async def until(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """Read frames until one of ``kind`` whose fields equal ``match``."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next(timeout)
                if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                    return frame

    async def event(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """Read until an event of ``kind`` arrives (or was already received); return it."""
        for event in self.events:
            if event["type"] == kind:
                self.events.remove(event)
                return event
        async with asyncio.timeout(timeout):
            while True:
                await self.next(timeout)
                for event in self.events:
                    if event["type"] == kind:
                        self.events.remove(event)
                        return event

    async def request(self, ref: str, **frame: Any) -> dict[str, Any]:
        """Send a frame with ``ref`` and return its ack, joined or error answer."""
        await self.send(ref=ref, **frame)
        async with asyncio.timeout(5):
            while True:
                answer = await self.next()
                if answer.get("ref") == ref and answer["type"] in (
                    "ack", "error", "joined", "left", "pong",
                ):  # fmt: skip
                    return answer


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> bytes:
    """A frame as a client sends it (masked unless told otherwise)."""
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        header = struct.pack("!BB", first, mask_bit | size)
    elif size < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + unmask(mask, payload)


class RawClient:
    """A websocket client on a plain socket with a tiny receive buffer that reads only when
    told to: a viewer on a bad link."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawClient:
        """Connect and upgrade to a websocket."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        # a small stream limit: the client stops reading from the socket once 8 KiB wait
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n"
            f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, **frame: Any) -> None:
        """Send one text frame."""
        self.send_frame(0x1, json.dumps(frame).encode())

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """Send one masked frame (clients must mask)."""
        self.writer.write(client_frame(opcode, payload))

    async def frames(self) -> AsyncIterator[tuple[int, bytes]]:
        """Every frame (opcode, payload) until the connection ends."""
        while True:
            try:
                first, second = await self.reader.readexactly(2)
            except asyncio.IncompleteReadError:
                return
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
            yield first & 0x0F, await self.reader.readexactly(size)

    def close(self) -> None:
        """Drop the socket."""
        self.writer.close()
