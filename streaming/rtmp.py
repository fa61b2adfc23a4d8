"""The RTMP ingest listener: ``rtmp://HOST:PORT/live/<stream key>``, one publish per connection.

An asyncio server speaking ``streaming.rtmp_proto``: the key goes to the ``PublishTarget`` (the
media plane), which answers with a ``PublishHandle`` or ``IngestDenied``; tags are then awaited
one by one. Timeouts, refusals and logging: ``docs/architecture.md`` ("RTMP listener").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from streaming.errors import IngestDenied, ProtocolError, StreamingError
from streaming.flv import FlvTag, TagType, script_body
from streaming.rtmp_proto import (
    HANDSHAKE_SIZE,
    MSG_ACK,
    MSG_AUDIO,
    MSG_COMMAND_AMF0,
    MSG_DATA_AMF0,
    MSG_SET_CHUNK_SIZE,
    MSG_SET_PEER_BANDWIDTH,
    MSG_VIDEO,
    MSG_WINDOW_ACK_SIZE,
    RTMP_VERSION,
    Amf,
    ChunkReader,
    Message,
    amf0_decode,
    command,
    connect_result,
    control,
    handshake_reply,
    number_arg,
    object_arg,
    status,
    stream_begin,
    string_arg,
)

log = logging.getLogger(__name__)

APP = "live"
OUT_CHUNK_SIZE = 4096
ACK_WINDOW = 2_500_000
WRITE_TIMEOUT = 10.0
_END_COMMANDS = frozenset({"deleteStream", "closeStream", "FCUnpublish"})


class PublishHandle(Protocol):
    """An accepted publish, as the listener drives it."""

    session_id: str

    def set_abort(self, abort: Callable[[], None]) -> None:
        """Give the handle a way to drop the connection (the session ended, shutdown)."""

    def metadata(self, values: Mapping[str, object], tag: FlvTag) -> None:
        """``onMetaData`` arrived: its values, and the FLV script tag carrying it."""

    async def tag(self, tag: FlvTag) -> None:
        """An audio or video tag arrived."""

    async def close(self) -> None:
        """The publisher is gone (or was dropped)."""


class PublishTarget(Protocol):
    """Who decides whether a stream key may publish (the media plane)."""

    async def open_publish(self, key: str, peer: str) -> PublishHandle:
        """Accept a publish with ``key`` or raise ``IngestDenied``."""


class _Stop(Exception):
    """End this connection quietly."""


class _Connection:
    def __init__(
        self,
        server: RtmpServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "unknown peer"
        self.publish: PublishHandle | None = None
        self.connected = False
        self._acked = 0

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()

    async def _send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), WRITE_TIMEOUT)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.server.publish_timeout
        try:
            c0 = await asyncio.wait_for(self.reader.readexactly(1), deadline - loop.time())
            if c0[0] != RTMP_VERSION:
                raise ProtocolError(f"not RTMP (first byte {c0[0]:#04x})")
            c1 = await asyncio.wait_for(
                self.reader.readexactly(HANDSHAKE_SIZE), max(deadline - loop.time(), 0)
            )
            await self._send(handshake_reply(c0 + c1))
            await asyncio.wait_for(
                self.reader.readexactly(HANDSHAKE_SIZE), max(deadline - loop.time(), 0)
            )
            chunks = ChunkReader()
            while True:
                if self.publish is not None:
                    timeout = self.server.idle_timeout
                else:
                    timeout = deadline - loop.time()
                    if timeout <= 0:
                        raise ProtocolError("no publish within the time allowed")
                data = await asyncio.wait_for(self.reader.read(65536), timeout)
                if not data:
                    return
                for message in chunks.feed(data):
                    await self._handle(message)
                if chunks.bytes_received - self._acked >= ACK_WINDOW:
                    self._acked = chunks.bytes_received
                    await self._send(control(MSG_ACK, self._acked & 0xFFFFFFFF))
        except _Stop:
            return
        except TimeoutError:
            log.info("rtmp %s: closed (timed out)", self.peer)
        except asyncio.IncompleteReadError:
            log.info("rtmp %s: closed during the handshake", self.peer)
        except StreamingError as exc:
            log.warning("rtmp %s: closed: %s", self.peer, exc.message)
        except (ConnectionError, OSError) as exc:
            log.info("rtmp %s: connection lost: %s", self.peer, exc)
        finally:
            await self._finish()

    async def _finish(self) -> None:
        publish, self.publish = self.publish, None
        if publish is not None:
            try:
                await publish.close()
            except Exception:
                log.exception("rtmp %s: closing publish %s failed", self.peer, publish.session_id)
            log.info("rtmp %s: stopped publishing session %s", self.peer, publish.session_id)
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2)

    async def _handle(self, message: Message) -> None:
        kind = message.type_id
        if kind in (MSG_AUDIO, MSG_VIDEO):
            if self.publish is not None and message.payload:
                await self.publish.tag(FlvTag(TagType(kind), message.timestamp, message.payload))
        elif kind == MSG_DATA_AMF0:
            self._data(message)
        elif kind == MSG_COMMAND_AMF0:
            await self._command(message)

    def _data(self, message: Message) -> None:
        if self.publish is None:
            return
        values = amf0_decode(message.payload)
        first, second = string_arg(values, 0), string_arg(values, 1)
        if first == "@setDataFrame" and second == "onMetaData":
            meta = object_arg(values, 2)
        elif first == "onMetaData":
            meta = object_arg(values, 1)
        else:
            return
        tag = FlvTag(TagType.SCRIPT, message.timestamp, script_body(message.payload))
        self.publish.metadata(meta, tag)

    async def _command(self, message: Message) -> None:
        values = amf0_decode(message.payload)
        name = string_arg(values, 0)
        transaction = number_arg(values, 1)
        if name == "connect":
            app = str(object_arg(values, 2).get("app") or "").strip("/")
            if app != APP:
                # Not echoed: a misconfigured encoder may have put its stream key there.
                raise ProtocolError(f"not the RTMP application /{APP} (use /{APP}/<stream key>)")
            self.connected = True
            await self._send(
                control(MSG_WINDOW_ACK_SIZE, ACK_WINDOW)
                + control(MSG_SET_PEER_BANDWIDTH, ACK_WINDOW, 2)
                + control(MSG_SET_CHUNK_SIZE, OUT_CHUNK_SIZE)
                + connect_result(transaction, chunk_size=OUT_CHUNK_SIZE)
            )
        elif name == "createStream":
            await self._send(command("_result", transaction, None, 1.0, chunk_size=OUT_CHUNK_SIZE))
        elif name == "publish":
            await self._publish(message, values)
        elif name in _END_COMMANDS and self.publish is not None:
            raise _Stop
        elif name in ("play", "play2"):
            raise ProtocolError("this server takes publishers only")

    async def _publish(self, message: Message, values: list[Amf]) -> None:
        stream_name = values[3] if len(values) > 3 else None
        if not self.connected or self.publish is not None or not isinstance(stream_name, str):
            raise ProtocolError("publish out of order")
        key = stream_name.split("?", 1)[0]
        try:
            publish = await self.server.target.open_publish(key, self.peer)
        except IngestDenied as exc:
            log.info("rtmp %s: publish refused: %s", self.peer, exc.message)
            with contextlib.suppress(Exception):
                await self._send(
                    status(
                        "error",
                        "NetStream.Publish.BadName",
                        exc.message,
                        stream_id=message.stream_id,
                        chunk_size=OUT_CHUNK_SIZE,
                    )
                )
            raise _Stop from None
        self.publish = publish
        publish.set_abort(self.abort)
        log.info("rtmp %s: publishing session %s", self.peer, publish.session_id)
        await self._send(
            stream_begin(message.stream_id)
            + status(
                "status",
                "NetStream.Publish.Start",
                "Publishing.",
                stream_id=message.stream_id,
                chunk_size=OUT_CHUNK_SIZE,
            )
        )


class RtmpServer:
    """The listening socket and its connections."""

    def __init__(
        self,
        target: PublishTarget,
        *,
        host: str,
        port: int,
        publish_timeout: float = 10.0,
        idle_timeout: float = 15.0,
    ) -> None:
        self.target = target
        self.host = host
        self.requested_port = port
        self.publish_timeout = publish_timeout
        self.idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}

    @property
    def port(self) -> int | None:
        """The port actually listened on (useful with port 0), or None when not listening."""
        if self._server is None or not self._server.sockets:
            return None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Listen; raises ``OSError`` when the address cannot be bound."""
        self._server = await asyncio.start_server(self._client, self.host, self.requested_port)
        log.info("rtmp ingest listening on %s:%s", self.host, self.port)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connection = _Connection(self, reader, writer)
        self._connections[task] = connection
        try:
            await connection.run()
        finally:
            self._connections.pop(task, None)

    async def close(self) -> None:
        """Stop listening, drop every connection and wait for their cleanup (bounded)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            connection.abort()
        tasks = list(self._connections)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
