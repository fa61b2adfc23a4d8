"""The RTMP protocol core: handshake, chunk reassembly and timestamps, AMF0, limits."""

from __future__ import annotations

import contextlib
import os
import struct

import pytest

from streaming.errors import ProtocolError
from streaming.rtmp_proto import (
    MAX_CHUNK_STREAMS,
    MSG_AUDIO,
    MSG_COMMAND_AMF0,
    MSG_SET_CHUNK_SIZE,
    MSG_VIDEO,
    Amf,
    ChunkReader,
    Message,
    Undefined,
    amf0_decode,
    amf0_encode,
    command,
    connect_result,
    control,
    encode_message,
    handshake_reply,
    status,
)


def header(fmt: int, csid: int, ts: int, length: int = 0, kind: int = 0, stream: int = 0) -> bytes:
    """A chunk's basic and message header (extended timestamp included when ts is large)."""
    out = bytes([fmt << 6 | csid])
    field = min(ts, 0xFFFFFF)
    if fmt < 3:
        out += field.to_bytes(3, "big")
    if fmt < 2:
        out += length.to_bytes(3, "big") + bytes([kind])
    if fmt == 0:
        out += stream.to_bytes(4, "little")
    if field == 0xFFFFFF:
        out += ts.to_bytes(4, "big")
    return out


def decode_all(data: bytes) -> list[list[object]]:
    """Reassemble ``data`` and decode every message's AMF0 body."""
    return [list(amf0_decode(message.payload)) for message in ChunkReader().feed(data)]


def feed_bytewise(reader: ChunkReader, data: bytes) -> list[Message]:
    """Feed ``data`` one byte at a time, as the slowest network would."""
    messages: list[Message] = []
    for index in range(len(data)):
        messages += reader.feed(data[index : index + 1])
    return messages


def test_handshake_answers_version_3_and_echoes_c1() -> None:
    """S0 is version 3, S1 says no digest (zero version), S2 echoes C1's time and random."""
    c1 = struct.pack(">I", 1234) + bytes(4) + os.urandom(1528)
    reply = handshake_reply(b"\x03" + c1)
    assert len(reply) == 1 + 2 * 1536
    assert reply[0] == 3
    assert reply[5:9] == bytes(4)
    s2 = reply[1 + 1536 :]
    assert s2[:4] == c1[:4]
    assert s2[8:] == c1[8:]
    with pytest.raises(ProtocolError):
        handshake_reply(b"\x06" + c1)
    with pytest.raises(ProtocolError):
        handshake_reply(b"\x03" + c1[:100])


def test_messages_reassemble_from_chunks_split_anywhere() -> None:
    """Messages interleaved on two chunk streams, chunked at 128 bytes and then at a chunk size
    the peer sets, come out whole whatever way the bytes arrive."""
    video = os.urandom(1000)
    audio = os.urandom(300)
    stream = (
        encode_message(6, MSG_VIDEO, video, stream_id=1, timestamp=40)
        + encode_message(4, MSG_AUDIO, audio, stream_id=1, timestamp=21)
        + control(MSG_SET_CHUNK_SIZE, 4096)
    )
    big = os.urandom(5000)
    stream += encode_message(6, MSG_VIDEO, big, stream_id=1, timestamp=80, chunk_size=4096)
    expected = [
        Message(MSG_VIDEO, 1, 40, video),
        Message(MSG_AUDIO, 1, 21, audio),
        Message(MSG_VIDEO, 1, 80, big),
    ]
    assert ChunkReader().feed(stream) == expected
    reader = ChunkReader()
    assert feed_bytewise(reader, stream) == expected
    assert reader.chunk_size == 4096
    assert reader.bytes_received == len(stream)


def test_timestamps_follow_deltas_type3_repeats_and_extended_fields() -> None:
    """Type 1/2 add their delta; a type-3 chunk opening a new message adds the last delta
    again; extended timestamps are read on type-0 and on their type-3 continuations."""
    data = (
        header(0, 4, 1000, 2, MSG_AUDIO, 1) + b"a0"
        + header(2, 4, 33) + b"a1"
        + header(3, 4, 0) + b"a2"
        + header(1, 4, 34, 3, MSG_AUDIO) + b"a3!"
        + header(3, 4, 0) + b"a4!"
    )  # fmt: skip
    times = [m.timestamp for m in ChunkReader().feed(data)]
    assert times == [1000, 1033, 1066, 1100, 1134]

    large = 0x01000000
    payload = os.urandom(200)
    data = header(0, 5, large, 200, MSG_VIDEO, 1) + payload[:128]
    data += header(3, 5, large) + payload[128:]
    [message] = ChunkReader().feed(data)
    assert (message.timestamp, message.payload) == (large, payload)
    assert encode_message(5, MSG_VIDEO, payload, stream_id=1, timestamp=large) == data


def test_amf0_round_trips_commands_and_reads_metadata() -> None:
    """Commands encode and decode to the same values; ECMA arrays and long strings decode."""
    values: list[Amf] = [
        "connect",
        1.0,
        {"app": "live", "flashVer": "FMLE/3.0", "fpad": False},
        None,
    ]
    assert amf0_decode(amf0_encode(*values)) == values
    assert amf0_decode(amf0_encode(Undefined(), [1.0, "x"])) == [None, [1.0, "x"]]
    ecma = b"\x08\x00\x00\x00\x02" + b"\x00\x05width" + b"\x00" + struct.pack(">d", 1280.0)
    ecma += b"\x00\x05title" + b"\x0c\x00\x00\x00\x02hi" + b"\x00\x00\x09"
    assert amf0_decode(b"\x02\x00\x0aonMetaData" + ecma) == [
        "onMetaData",
        {"width": 1280.0, "title": "hi"},
    ]
    [reply] = ChunkReader().feed(connect_result(1.0, chunk_size=128))
    assert reply.type_id == MSG_COMMAND_AMF0
    name, transaction, _, info = amf0_decode(reply.payload)
    assert (name, transaction) == ("_result", 1.0)
    assert isinstance(info, dict)
    assert info["code"] == "NetConnection.Connect.Success"
    [refusal] = ChunkReader().feed(
        status("error", "NetStream.Publish.BadName", "no", stream_id=1, chunk_size=4096)
    )
    assert refusal.stream_id == 1
    assert amf0_decode(refusal.payload)[3] == {
        "level": "error",
        "code": "NetStream.Publish.BadName",
        "description": "no",
    }
    assert amf0_decode(command("_result", 2.0, None, 1.0)[12:]) == ["_result", 2.0, None, 1.0]


@pytest.mark.parametrize(
    "data",
    [
        header(1, 4, 0, 2, MSG_AUDIO) + b"xx",  # a chunk stream must start with a full header
        header(0, 4, 0, 200, MSG_AUDIO) + bytes(128) + header(0, 4, 0, 2, MSG_AUDIO),
        header(0, 2, 0, 4, MSG_SET_CHUNK_SIZE) + bytes(4),  # chunk size 0
        header(0, 3, 0, 2, MSG_COMMAND_AMF0) + b"\x02\x00",  # a truncated AMF0 string
    ],
)
def test_malformed_chunk_streams_are_refused(data: bytes) -> None:
    """Broken headers, a new header mid-message and a zero chunk size raise ProtocolError."""
    with pytest.raises(ProtocolError):
        decode_all(data)


def test_limits_hold_against_junk() -> None:
    """Too many chunk streams, runaway AMF nesting and unknown markers are refused."""
    streams = b"".join(
        bytes([0x00, index]) + header(0, 0, 0, 10, MSG_AUDIO, 1)[1:] + bytes(10)
        for index in range(MAX_CHUNK_STREAMS + 1)
    )
    with pytest.raises(ProtocolError, match="chunk streams"):
        ChunkReader().feed(streams)
    with pytest.raises(ProtocolError):
        amf0_decode(b"\x0a\x00\x00\x00\x01" * 40)
    with pytest.raises(ProtocolError):
        amf0_decode(b"\x11")
    for _ in range(20):
        junk = os.urandom(512)
        with contextlib.suppress(ProtocolError):
            decode_all(junk)
