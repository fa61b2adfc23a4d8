"""A small test client for the websocket protocol over a real connection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType


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
