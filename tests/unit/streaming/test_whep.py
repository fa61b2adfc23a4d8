"""WHEP playback's pure parts: which offers it takes, and what a full server answers."""

from __future__ import annotations

import pytest

from streaming.errors import BadWhepOffer
from streaming.whep import WhepLimits, check_offer, full_message, opus_samples


def test_offer_check_refuses_what_is_not_sdp() -> None:
    """A body that is not SDP, or SDP without media, is refused with a sentence saying so."""
    with pytest.raises(BadWhepOffer, match="it must start with v=0"):
        check_offer('{"sdp": 1}')
    with pytest.raises(BadWhepOffer, match="no audio or video section"):
        check_offer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n")
    check_offer("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")


def test_caps_name_the_cap_and_point_to_hls() -> None:
    """The node cap wins over the session cap; both send the viewer to HLS; 0 turns it off."""
    limits = WhepLimits(max_viewers=10, max_viewers_per_session=4)
    hls = "/hls/s1/index.m3u8"
    assert full_message(9, 3, limits, hls) is None
    assert full_message(9, 4, limits, hls) == (
        "this session already has 4 low-latency (WebRTC) viewers; "
        "watch with HLS at /hls/s1/index.m3u8 or try again later"
    )
    assert full_message(10, 0, limits, hls) == (
        "this server already has 10 low-latency (WebRTC) viewers; "
        "watch with HLS at /hls/s1/index.m3u8 or try again later"
    )
    off = WhepLimits(max_viewers=0)
    assert full_message(0, 0, off, hls) == (
        "low-latency (WebRTC) playback is off on this server; watch with HLS at /hls/s1/index.m3u8"
    )


def test_an_opus_packets_length_comes_from_its_toc_byte() -> None:
    """20 ms CELT and SILK packets are 960 samples, a 10 ms one 480, two 20 ms frames 1920,
    a code-3 packet counts its frames; an empty packet is taken as 20 ms."""
    assert opus_samples(bytes([0xFC, 0])) == 960  # config 31 (CELT 20 ms), one frame
    assert opus_samples(bytes([0x08])) == 960  # config 1 (SILK NB 20 ms)
    assert opus_samples(bytes([0x00])) == 480  # config 0 (SILK NB 10 ms)
    assert opus_samples(bytes([0xFD, 0, 0])) == 1920  # two frames
    assert opus_samples(bytes([0xFF, 0x03])) == 2880  # code 3: three frames
    assert opus_samples(b"") == 960
