"""Websocket framing rules (realtime/frames.py), without sockets."""

from __future__ import annotations

import pytest

from realtime.errors import ProtocolViolation
from realtime.frames import (
    CLOSE_INVALID_DATA,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
    FrameParser,
    Message,
    Opcode,
    close_frame,
    close_reason,
    text_frame,
)
from tests.support.realtime_client import client_frame


def violation(parser: FrameParser, data: bytes) -> ProtocolViolation:
    with pytest.raises(ProtocolViolation) as caught:
        parser.feed(data)
    return caught.value


def test_text_split_over_many_reads_comes_out_whole() -> None:
    """A text frame fed a byte at a time gives one message, decoded, at its last byte."""
    data = client_frame(Opcode.TEXT, '{"type":"ping","text":"hej på dig"}'.encode())
    parser = FrameParser(1024)
    out: list[Message] = []
    for index in range(len(data)):
        out += parser.feed(data[index : index + 1])
    assert out == [Message(Opcode.TEXT, '{"type":"ping","text":"hej på dig"}')]


def test_several_frames_in_one_read_and_long_lengths() -> None:
    """Frames arriving together are all returned in order, with 16- and 64-bit lengths."""
    medium, large = b"m" * 300, b"l" * 70_000
    data = (
        client_frame(Opcode.TEXT, b"a")
        + client_frame(Opcode.BINARY, medium)
        + client_frame(Opcode.BINARY, large)
    )
    parsed = FrameParser(100_000).feed(data)
    assert [m.data for m in parsed] == ["a", medium, large]


def test_fragments_join_with_control_frames_between() -> None:
    """A fragmented text is joined; a ping between its fragments comes out on its own first."""
    parser = FrameParser(1024)
    data = (
        client_frame(Opcode.TEXT, b"hel", fin=False)
        + client_frame(Opcode.PING, b"p")
        + client_frame(Opcode.CONTINUATION, b"lo")
    )
    assert parser.feed(data) == [Message(Opcode.PING, b"p"), Message(Opcode.TEXT, "hello")]


def test_unmasked_client_frames_are_refused() -> None:
    """RFC 6455 requires client frames to be masked."""
    exc = violation(FrameParser(1024), client_frame(Opcode.TEXT, b"x", masked=False))
    assert (exc.code, exc.reason) == (CLOSE_PROTOCOL_ERROR, "client frames must be masked")


def test_messages_over_the_limit_are_refused_before_they_are_read() -> None:
    """A header announcing more than the limit closes with 1009 at once, fragments counted."""
    exc = violation(FrameParser(100), client_frame(Opcode.TEXT, b"x" * 101)[:8])
    assert (exc.code, exc.reason) == (CLOSE_TOO_BIG, "messages may be at most 100 bytes")
    parser = FrameParser(100)
    parser.feed(client_frame(Opcode.TEXT, b"x" * 60, fin=False))
    exc = violation(parser, client_frame(Opcode.CONTINUATION, b"x" * 60))
    assert exc.code == CLOSE_TOO_BIG


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bytes([0xC1, 0x81]) + b"\x00" * 5, "reserved bits set"),
        (client_frame(0x3, b"x"), "unknown opcode"),
        (client_frame(Opcode.PING, b"x" * 126), "control frames are short and whole"),
        (client_frame(Opcode.PING, b"x", fin=False), "control frames are short and whole"),
        (client_frame(Opcode.CONTINUATION, b"x"), "continuation with nothing to continue"),
        (
            client_frame(Opcode.TEXT, b"a", fin=False) + client_frame(Opcode.TEXT, b"b"),
            "a new message inside a fragmented one",
        ),
    ],
)
def test_broken_framing_closes_with_a_protocol_error(data: bytes, reason: str) -> None:
    """Each framing mistake is answered with 1002 and a reason saying which."""
    exc = violation(FrameParser(1024), data)
    assert (exc.code, exc.reason) == (CLOSE_PROTOCOL_ERROR, reason)


def test_text_that_is_not_utf8_is_refused() -> None:
    """Invalid UTF-8 in a text message closes with 1007."""
    exc = violation(FrameParser(1024), client_frame(Opcode.TEXT, b"\xff\xfe"))
    assert (exc.code, exc.reason) == (CLOSE_INVALID_DATA, "text is not valid UTF-8")


def test_close_frames_round_trip() -> None:
    """A close frame we build reads back as its code and reason; long reasons are cut."""
    frame = close_frame(1013, "too slow; reconnect and resume")
    assert frame[0] == 0x88
    assert close_reason(frame[2:]) == (1013, "too slow; reconnect and resume")
    assert len(close_frame(1000, "å" * 200)) <= 2 + 125
    assert close_reason(b"") == (1005, "")


def test_text_frames_use_the_shortest_length() -> None:
    """Server frames are unmasked with 7-, 16- or 64-bit lengths as the size needs."""
    assert text_frame(b"hi") == b"\x81\x02hi"
    assert text_frame(b"x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert text_frame(b"x" * 70_000)[:2] == b"\x81\x7f"
