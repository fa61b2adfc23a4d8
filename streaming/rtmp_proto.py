"""The server side of RTMP as encoders publish with it: handshake, chunk stream, AMF0, replies.

Pure: bytes in, messages and bytes out (``streaming.rtmp`` owns the sockets); anything malformed
raises ``ProtocolError``. See ``docs/architecture.md`` ("RTMP listener").
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from streaming.errors import ProtocolError

RTMP_VERSION = 3
HANDSHAKE_SIZE = 1536
DEFAULT_CHUNK_SIZE = 128
MAX_CHUNK_SIZE = 0xFFFFFF
MAX_CHUNK_STREAMS = 64
MAX_BUFFERED = 32 * 1024 * 1024

MSG_SET_CHUNK_SIZE = 1
MSG_ABORT = 2
MSG_ACK = 3
MSG_USER_CONTROL = 4
MSG_WINDOW_ACK_SIZE = 5
MSG_SET_PEER_BANDWIDTH = 6
MSG_AUDIO = 8
MSG_VIDEO = 9
MSG_DATA_AMF3 = 15
MSG_COMMAND_AMF3 = 17
MSG_DATA_AMF0 = 18
MSG_COMMAND_AMF0 = 20

CSID_CONTROL = 2
CSID_COMMAND = 3
PUBLISH_STREAM_ID = 1

Amf = float | bool | str | None | dict[str, "Amf"] | list["Amf"]


_MORE: tuple[bool, None] = (False, None)


class Undefined:
    """AMF0's ``undefined`` marker (decoded as None; encoded with this)."""


# --- handshake -------------------------------------------------------------------------------


def handshake_reply(c0c1: bytes) -> bytes:
    """S0, S1 and S2 for a client's C0+C1 (1537 bytes)."""
    if len(c0c1) != 1 + HANDSHAKE_SIZE:
        raise ProtocolError("short handshake")
    if c0c1[0] != RTMP_VERSION:
        raise ProtocolError(f"unsupported RTMP version {c0c1[0]}")
    s1 = bytes(8) + os.urandom(HANDSHAKE_SIZE - 8)
    s2 = c0c1[1:5] + bytes(4) + c0c1[9:]
    return bytes([RTMP_VERSION]) + s1 + s2


# --- AMF0 ------------------------------------------------------------------------------------


class _AmfReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise ProtocolError("AMF0 value is truncated")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def string(self, long: bool = False) -> str:
        (size,) = struct.unpack(">I" if long else ">H", self.take(4 if long else 2))
        return self.take(size).decode("utf-8", errors="replace")

    def properties(self, depth: int) -> dict[str, Amf]:
        result: dict[str, Amf] = {}
        while True:
            key = self.string()
            if not key and self.data[self.pos : self.pos + 1] == b"\x09":
                self.pos += 1
                return result
            if self.pos >= len(self.data):
                return result  # some encoders leave the end marker out of the last object
            result[key] = self.value(depth + 1)

    def value(self, depth: int = 0) -> Amf:
        if depth > 16:
            raise ProtocolError("AMF0 value nests too deep")
        marker = self.take(1)[0]
        if marker == 0x00:
            return float(struct.unpack(">d", self.take(8))[0])
        if marker == 0x01:
            return self.take(1) != b"\x00"
        if marker == 0x02:
            return self.string()
        if marker == 0x03:
            return self.properties(depth)
        if marker in (0x05, 0x06):
            return None
        if marker == 0x08:
            self.take(4)  # approximate count
            return self.properties(depth)
        if marker == 0x0A:
            (count,) = struct.unpack(">I", self.take(4))
            if count > len(self.data) - self.pos:
                raise ProtocolError("AMF0 strict array is longer than its message")
            return [self.value(depth + 1) for _ in range(count)]
        if marker == 0x0B:
            value = float(struct.unpack(">d", self.take(8))[0])
            self.take(2)
            return value
        if marker == 0x0C:
            return self.string(long=True)
        raise ProtocolError(f"unsupported AMF0 marker {marker:#04x}")


def amf0_decode(data: bytes) -> list[Amf]:
    """Every AMF0 value in ``data``, in order."""
    reader = _AmfReader(data)
    values: list[Amf] = []
    while reader.pos < len(data):
        values.append(reader.value())
    return values


def _amf0_string(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 0xFFFF:
        return b"\x0c" + struct.pack(">I", len(raw)) + raw
    return b"\x02" + struct.pack(">H", len(raw)) + raw


def amf0_encode(*values: Amf | Undefined) -> bytes:
    """The AMF0 encoding of ``values``."""
    out = bytearray()
    for value in values:
        if isinstance(value, Undefined):
            out += b"\x06"
        elif value is None:
            out += b"\x05"
        elif isinstance(value, bool):
            out += b"\x01" + (b"\x01" if value else b"\x00")
        elif isinstance(value, int | float):
            out += b"\x00" + struct.pack(">d", float(value))
        elif isinstance(value, str):
            out += _amf0_string(value)
        elif isinstance(value, dict):
            out += b"\x03"
            for key, item in value.items():
                raw = key.encode()
                out += struct.pack(">H", len(raw)) + raw + amf0_encode(item)
            out += b"\x00\x00\x09"
        else:
            out += b"\x0a" + struct.pack(">I", len(value))
            for item in value:
                out += amf0_encode(item)
    return bytes(out)


# --- chunk stream ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One complete RTMP message."""

    type_id: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass
class _ChunkStream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    started: bool = False
    partial: bytearray = field(default_factory=bytearray)


class ChunkReader:
    """Reassembles the messages of an incoming chunk stream (see the module docstring)."""

    def __init__(self) -> None:
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.bytes_received = 0
        self._buffer = bytearray()
        self._pos = 0
        self._streams: dict[int, _ChunkStream] = {}

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages they complete."""
        self.bytes_received += len(data)
        self._buffer += data
        messages: list[Message] = []
        while True:
            progressed, message = self._next()
            if not progressed:
                break
            if message is not None:
                messages.append(message)
        if self._pos > 65536 or self._pos * 2 > len(self._buffer):
            del self._buffer[: self._pos]
            self._pos = 0
        if len(self._buffer) - self._pos > MAX_BUFFERED:
            raise ProtocolError("too many unread bytes")
        return messages

    def _next(self) -> tuple[bool, Message | None]:
        """Parse one chunk: (False, None) when more bytes are needed, else (True, its message)."""
        buf, pos, end = self._buffer, self._pos, len(self._buffer)
        if pos >= end:
            return _MORE
        first = buf[pos]
        fmt, csid = first >> 6, first & 0x3F
        pos += 1
        if csid == 0:
            if pos + 1 > end:
                return _MORE
            csid = 64 + buf[pos]
            pos += 1
        elif csid == 1:
            if pos + 2 > end:
                return _MORE
            csid = 64 + buf[pos] + buf[pos + 1] * 256
            pos += 2
        header = (11, 7, 3, 0)[fmt]
        if pos + header > end:
            return _MORE
        stream = self._streams.get(csid)
        if stream is None:
            if fmt != 0:
                raise ProtocolError(f"chunk stream {csid} starts without a full header")
            if len(self._streams) >= MAX_CHUNK_STREAMS:
                raise ProtocolError("too many chunk streams")
            stream = _ChunkStream()
        continuing = bool(stream.partial)
        if fmt != 3 and stream.partial:
            raise ProtocolError(f"chunk stream {csid} gets a new header mid-message")
        field_ts = int.from_bytes(buf[pos : pos + 3], "big") if fmt < 3 else 0
        extended = field_ts == 0xFFFFFF if fmt < 3 else stream.extended
        ext = 0
        if extended:
            if pos + header + 4 > end:
                return _MORE
            ext = int.from_bytes(buf[pos + header : pos + header + 4], "big")
        length, type_id, stream_id = stream.length, stream.type_id, stream.stream_id
        if fmt <= 1:
            length = int.from_bytes(buf[pos + 3 : pos + 6], "big")
            type_id = buf[pos + 6]
        if fmt == 0:
            stream_id = int.from_bytes(buf[pos + 7 : pos + 11], "little")
        payload_start = pos + header + (4 if extended else 0)
        already = len(stream.partial) if continuing else 0
        size = min(self.chunk_size, length - already)
        if payload_start + size > end:
            return _MORE
        # The whole chunk is here: commit its header.
        if fmt < 3:
            value = ext if extended else field_ts
            stream.timestamp = value if fmt == 0 else (stream.timestamp + value) & 0xFFFFFFFF
            stream.delta = value
            stream.extended = extended
        elif not continuing and stream.started:
            stream.timestamp = (stream.timestamp + stream.delta) & 0xFFFFFFFF
        stream.length, stream.type_id, stream.stream_id = length, type_id, stream_id
        stream.started = True
        self._streams[csid] = stream
        stream.partial += buf[payload_start : payload_start + size]
        self._pos = payload_start + size
        if len(stream.partial) < length:
            return True, None
        payload = bytes(stream.partial)
        stream.partial = bytearray()
        return True, self._complete(Message(type_id, stream_id, stream.timestamp, payload))

    def _complete(self, message: Message) -> Message | None:
        if message.type_id == MSG_SET_CHUNK_SIZE:
            if len(message.payload) < 4:
                raise ProtocolError("short Set Chunk Size")
            size = int.from_bytes(message.payload[:4], "big") & 0x7FFFFFFF
            if not 1 <= size <= MAX_CHUNK_SIZE:
                raise ProtocolError(f"chunk size {size} is out of range")
            self.chunk_size = size
            return None
        if message.type_id == MSG_ABORT and len(message.payload) >= 4:
            aborted = self._streams.get(int.from_bytes(message.payload[:4], "big"))
            if aborted is not None:
                aborted.partial = bytearray()
            return None
        return message


def encode_message(
    csid: int,
    type_id: int,
    payload: bytes,
    *,
    stream_id: int = 0,
    timestamp: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bytes:
    """``payload`` as one type-0 chunk and as many type-3 continuation chunks as it needs."""
    if not 2 <= csid <= 63:
        raise ValueError("replies use chunk stream ids 2 to 63")
    out = bytearray([csid])
    out += min(timestamp, 0xFFFFFF).to_bytes(3, "big")
    out += len(payload).to_bytes(3, "big") + bytes([type_id]) + stream_id.to_bytes(4, "little")
    if timestamp >= 0xFFFFFF:
        out += timestamp.to_bytes(4, "big")
    for start in range(0, max(len(payload), 1), chunk_size):
        if start:
            out.append(0xC0 | csid)
            if timestamp >= 0xFFFFFF:
                out += timestamp.to_bytes(4, "big")
        out += payload[start : start + chunk_size]
    return bytes(out)


# --- what the server sends -------------------------------------------------------------------


def control(type_id: int, value: int, *extra: int) -> bytes:
    """A protocol control message (Set Chunk Size, Acknowledgement, Window Ack Size, ...)."""
    payload = value.to_bytes(4, "big") + bytes(extra)
    return encode_message(CSID_CONTROL, type_id, payload)


def stream_begin(stream_id: int) -> bytes:
    """The User Control ``StreamBegin`` event."""
    payload = b"\x00\x00" + stream_id.to_bytes(4, "big")
    return encode_message(CSID_CONTROL, MSG_USER_CONTROL, payload)


def command(
    name: str,
    transaction_id: float,
    *args: Amf | Undefined,
    stream_id: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bytes:
    """An AMF0 command message."""
    payload = amf0_encode(name, transaction_id, *args)
    return encode_message(
        CSID_COMMAND, MSG_COMMAND_AMF0, payload, stream_id=stream_id, chunk_size=chunk_size
    )


def connect_result(transaction_id: float, *, chunk_size: int) -> bytes:
    """The answer to ``connect``."""
    properties: dict[str, Amf] = {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0}
    information: dict[str, Amf] = {
        "level": "status",
        "code": "NetConnection.Connect.Success",
        "description": "Connection succeeded.",
        "objectEncoding": 0.0,
    }
    return command("_result", transaction_id, properties, information, chunk_size=chunk_size)


def status(level: str, code: str, description: str, *, stream_id: int, chunk_size: int) -> bytes:
    """An ``onStatus`` for a net stream (publish start, refusal)."""
    info: dict[str, Amf] = {"level": level, "code": code, "description": description}
    return command("onStatus", 0, None, info, stream_id=stream_id, chunk_size=chunk_size)


def string_arg(values: Sequence[Amf], index: int) -> str | None:
    """``values[index]`` when it is a string."""
    if index < len(values) and isinstance(values[index], str):
        value = values[index]
        assert isinstance(value, str)
        return value
    return None


def number_arg(values: Sequence[Amf], index: int) -> float:
    """``values[index]`` when it is a number, else 0 (a transaction id)."""
    if index < len(values):
        value = values[index]
        if isinstance(value, float) and not isinstance(value, bool):
            return value
    return 0.0


def object_arg(values: Sequence[Amf], index: int) -> Mapping[str, Amf]:
    """``values[index]`` when it is an object, else an empty one."""
    if index < len(values):
        value = values[index]
        if isinstance(value, dict):
            return value
    return {}
