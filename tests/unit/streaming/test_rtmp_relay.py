"""RTMP media turned into relay media: the AVC decoder configuration record."""

from __future__ import annotations

import pytest

from streaming.rtmp_relay import parse_avc_config


def test_avc_config_record_is_read() -> None:
    """The NAL length size, SPS and PPS come out of a decoder configuration record; a cut one
    is refused."""
    record = bytes([1, 0x64, 0, 0x1F, 0xFF, 0xE1, 0, 3]) + b"\x67ab" + bytes([1, 0, 2]) + b"\x68c"
    config = parse_avc_config(record)
    assert (config.length_size, config.sps, config.pps) == (4, (b"\x67ab",), (b"\x68c",))
    with pytest.raises(Exception, match="truncated"):
        parse_avc_config(record[:-1])
