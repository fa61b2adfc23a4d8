"""A lean HTTP/1.1 keep-alive client for thousands of simulated players in one process.

aiohttp costs too much CPU per request for the request rates of thousands of LL-HLS players
on a small machine; this one sends ``GET`` on one connection at a time and reads a
``Content-Length`` or chunked body, nothing else (no redirects, no compression, no TLS).
"""

from __future__ import annotations

import asyncio
import contextlib


class HttpError(Exception):
    """The connection broke or the answer could not be read."""


def content_length(head: bytes) -> int | None:
    """The Content-Length of a response head, None when absent."""
    lowered = head.lower()
    start = lowered.find(b"\r\ncontent-length:")
    if start < 0:
        return None
    end = lowered.find(b"\r\n", start + 2)
    return int(lowered[start + 17 : end].strip())


def status_of(head: bytes) -> int:
    """The status code of a response head (``HTTP/1.1 200 OK``)."""
    if not head.startswith(b"HTTP/1."):
        raise HttpError(f"not an HTTP response: {head[:40]!r}")
    return int(head[9:12])


class Connection:
    """One keep-alive connection to ``host:port``, opened on first use and after a break."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes, bytes]:
        """GET ``path``; (status, body, head). Raise HttpError when the connection fails."""
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            self._writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
            )
            head = await self._reader.readuntil(b"\r\n\r\n")
            length = content_length(head)
            if length is not None:
                body = await self._reader.readexactly(length)
            elif b"\r\ntransfer-encoding: chunked" in head.lower():
                body = await self._chunked(self._reader)
            else:
                raise HttpError("an answer without a length")
            if b"\r\nconnection: close" in head.lower():
                self.close()
            return status_of(head), body, head
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from None

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return body
            body += await reader.readexactly(size)
            await reader.readexactly(2)

    def close(self) -> None:
        """Drop the connection (the next ``get`` opens a new one)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self._reader = self._writer = None
