"""The websocket framing (RFC 6455) of a server's side, without I/O.

``FrameParser`` turns a client's bytes into whole messages and checks what RFC 6455 requires of
client frames; a violation raises ``ProtocolViolation`` with the close code (1002, 1007, 1009)
that realtime/link.py closes with. Server frames are unmasked and built once for any number of
clients. See docs/architecture.md, "Realtime" (The websocket after its handshake).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from realtime.errors import ProtocolViolation

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_OVERLOADED = 1013
CLOSE_SIGN_IN_ENDED = 4401  # ours: the staff sign-in was revoked, signed out or expired


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 section 5.2)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


@dataclass(frozen=True, slots=True)
class Message:
    """A whole message from the client: text is ``str``, everything else ``bytes``."""

    opcode: Opcode
    data: str | bytes


def _header(opcode: int, size: int) -> bytes:
    first = 0x80 | opcode
    if size < 126:
        return struct.pack("!BB", first, size)
    if size < 65536:
        return struct.pack("!BBH", first, 126, size)
    return struct.pack("!BBQ", first, 127, size)


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked text frame (server to client) holding UTF-8 ``payload``."""
    return _header(Opcode.TEXT, len(payload)) + payload


def pong_frame(payload: bytes) -> bytes:
    """The pong answering a ping with ``payload``."""
    return _header(Opcode.PONG, len(payload)) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame with a status code and a short reason (cut to fit a control frame)."""
    data = reason.encode()[:123].decode(errors="ignore").encode()
    return _header(Opcode.CLOSE, 2 + len(data)) + struct.pack("!H", code) + data


PING_FRAME = _header(Opcode.PING, 0)  # an empty ping, server to client


def unmask(mask: bytes, data: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` (one big-integer operation, not a byte loop)."""
    size = len(data)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    value = int.from_bytes(data, "big") ^ int.from_bytes(key, "big")
    return value.to_bytes(size, "big")


def close_reason(data: bytes) -> tuple[int, str]:
    """The code and reason of a received close frame's payload."""
    if not data:
        return CLOSE_NO_STATUS, ""
    if len(data) == 1:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "close frame with a one-byte payload")
    (code,) = struct.unpack("!H", data[:2])
    try:
        return code, data[2:].decode()
    except UnicodeDecodeError:
        raise ProtocolViolation(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None


class FrameParser:
    """Client frames in, whole messages out. Feed bytes as they arrive, in order."""

    __slots__ = ("_buffer", "_fragments", "_kind", "_size", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = b""
        self._kind: Opcode | None = None  # the fragmented message under way
        self._fragments: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> list[Message]:
        """Take more bytes; return the messages they complete."""
        buffer = self._buffer + data if self._buffer else data
        messages: list[Message] = []
        offset = 0
        while True:
            parsed = self._frame(buffer, offset)
            if parsed is None:
                break
            offset, message = parsed
            if message is not None:
                messages.append(message)
        self._buffer = buffer[offset:]
        return messages

    def _frame(self, buffer: bytes, offset: int) -> tuple[int, Message | None] | None:
        if len(buffer) - offset < 2:
            return None
        first, second = buffer[offset], buffer[offset + 1]
        fin, opcode_bits, size = first & 0x80, first & 0x0F, second & 0x7F
        if first & 0x70:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "reserved bits set")
        if not second & 0x80:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
        try:
            opcode = Opcode(opcode_bits)
        except ValueError:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "unknown opcode") from None
        at = offset + 2
        if size == 126:
            if len(buffer) - at < 2:
                return None
            (size,) = struct.unpack_from("!H", buffer, at)
            at += 2
        elif size == 127:
            if len(buffer) - at < 8:
                return None
            (size,) = struct.unpack_from("!Q", buffer, at)
            at += 8
        control = opcode >= Opcode.CLOSE
        if control and (size > 125 or not fin):
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "control frames are short and whole")
        if not control and self._size + size > self.max_size:
            raise ProtocolViolation(CLOSE_TOO_BIG, f"messages may be at most {self.max_size} bytes")
        if len(buffer) - at < 4 + size:
            return None
        payload = unmask(buffer[at : at + 4], buffer[at + 4 : at + 4 + size])
        end = at + 4 + size
        if control:
            return end, Message(opcode, payload)
        return end, self._data(opcode, bool(fin), payload)

    def _data(self, opcode: Opcode, fin: bool, payload: bytes) -> Message | None:
        if opcode is Opcode.CONTINUATION:
            if self._kind is None:
                raise ProtocolViolation(
                    CLOSE_PROTOCOL_ERROR, "continuation with nothing to continue"
                )
            kind = self._kind
        elif self._kind is not None:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "a new message inside a fragmented one")
        else:
            kind = opcode
        if not fin:
            self._kind = kind
            self._fragments.append(payload)
            self._size += len(payload)
            return None
        if self._fragments:
            payload = b"".join([*self._fragments, payload])
            self._kind, self._fragments, self._size = None, [], 0
        if kind is Opcode.TEXT:
            try:
                return Message(kind, payload.decode())
            except UnicodeDecodeError:
                raise ProtocolViolation(CLOSE_INVALID_DATA, "text is not valid UTF-8") from None
        return Message(kind, payload)
