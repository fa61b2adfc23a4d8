"""WHIP's pure parts: offer checks, answer munging, H.264 Annex-B to FLV, AAC tags."""

from __future__ import annotations

import struct

import pytest

from streaming.errors import BadWhipOffer
from streaming.flv import FlvTag, IngestProbe, TagType, avc_config_size
from streaming.vocab import VideoCodec
from streaming.webrtc_media import (
    FlvVideoMuxer,
    H264Track,
    aac_config_tag,
    aac_frame_tag,
    add_bitrate_hints,
    annexb,
    audio_specific_config,
    avc_decoder_config,
    avcc,
    check_offer,
    check_voice_offer,
    rtp_to_ms,
    split_annexb,
    without_mdns_candidates,
)
from tests.support.h264_samples import IDR, PPS, SLICE, SPS

OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=fingerprint:sha-256 AA:BB",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102",
        "a=mid:0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:0123456789abcdef012345",
        "a=sendonly",
        "a=rtpmap:96 VP8/90000",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rtpmap:102 H264/90000",
        "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=mid:1",
        "a=sendonly",
        "a=rtpmap:111 opus/48000/2",
        "",
    ]
)


def test_a_browser_like_offer_is_summarised() -> None:
    """An offer with VP8 and H.264 video and Opus audio is accepted and summarised in order."""
    summary = check_offer(OFFER)
    assert summary.video_codecs == ("VP8", "H264")
    assert summary.has_audio


@pytest.mark.parametrize(
    ("offer", "message"),
    [
        ("", "the body is not an SDP offer (it must start with v=0)"),
        ("<html>", "the body is not an SDP offer (it must start with v=0)"),
        (OFFER + "\x00", "the SDP offer holds a NUL character"),
        (
            OFFER.replace("m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=application 9 UDP/DTLS/SCTP x"),
            "the offer has a application section; send one video and one audio only",
        ),
        (OFFER + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "the offer has more than one video or "
         "audio section; send one of each"),
        (OFFER.split("m=video")[0] + "m=audio" + OFFER.split("m=audio")[1],
         "the offer sends no video; send H.264 or VP8 video (and Opus audio)"),
        (OFFER.replace("a=sendonly", "a=recvonly", 1),
         "the offer's video is recvonly; a WHIP publisher sends it"),
        (OFFER.replace("VP8/", "VP9/").replace("H264/", "AV1/"),
         "the offer's video is neither H.264 nor VP8"),
        (OFFER.replace("opus/", "PCMU/"), "the offer's audio is not Opus"),
        (OFFER.replace("a=fingerprint:sha-256 AA:BB\r\n", ""),
         "the offer has no DTLS fingerprint (a=fingerprint)"),
        (OFFER.replace("a=ice-pwd:0123456789abcdef012345\r\n", ""),
         "the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)"),
    ],
)  # fmt: skip
def test_offers_torget_cannot_take_are_refused_with_the_reason(offer: str, message: str) -> None:
    """Each unusable offer is refused with a sentence naming what is wrong."""
    with pytest.raises(BadWhipOffer) as caught:
        check_offer(offer)
    assert caught.value.message == message


def test_an_offer_without_audio_is_accepted() -> None:
    """Video alone is enough."""
    offer = OFFER.split("m=audio")[0]
    assert not check_offer(offer).has_audio


VOICE = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=fingerprint:sha-256 AA:BB",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=mid:0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:0123456789abcdef012345",
        "a=sendonly",
        "a=rtpmap:111 opus/48000/2",
        "",
    ]
)


def test_an_interpreters_opus_offer_is_accepted() -> None:
    """One sending Opus audio section is what an interpreter offers."""
    check_voice_offer(VOICE)
    check_voice_offer(VOICE.replace("a=sendonly", "a=sendrecv"))


@pytest.mark.parametrize(
    ("offer", "message"),
    [
        ("x", "the body is not an SDP offer (it must start with v=0)"),
        (OFFER, "an interpreter publishes sound only: remove the video track from the offer"),
        (VOICE + OFFER.split("a=fmtp:97 apt=96\r\n")[0].split("a=group:BUNDLE 0 1\r\n")[1]
         .replace("a=fingerprint:sha-256 AA:BB\r\n", ""),
         "an interpreter publishes sound only: remove the video track from the offer"),
        (VOICE + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
         "the offer has a application section; an interpreter sends one audio section only"),
        (VOICE + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
         "the offer must send exactly one audio section (the interpreter's voice)"),
        (VOICE.split("m=audio")[0], "the offer must send exactly one audio section (the "
         "interpreter's voice)"),
        (VOICE.replace("a=sendonly", "a=recvonly"),
         "the offer's audio is recvonly; an interpreter sends it"),
        (VOICE.replace("opus/", "PCMU/"), "the offer's audio is not Opus"),
        (VOICE.replace("a=ice-ufrag:abcd\r\n", ""),
         "the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)"),
    ],
)  # fmt: skip
def test_interpreter_offers_with_video_or_without_voice_are_refused(
    offer: str, message: str
) -> None:
    """An interpreter's offer with video, or without one sending Opus section, is refused."""
    with pytest.raises(BadWhipOffer) as caught:
        check_voice_offer(offer)
    assert caught.value.message == message


def test_bitrate_hints_go_on_every_video_format_and_nothing_else() -> None:
    """Existing video fmtp lines get the hints appended, formats without one get a new line
    right after their rtpmap, rtx and audio lines stay as they were, line endings are kept."""
    munged = add_bitrate_hints(OFFER, start_kbps=2500, min_kbps=600, max_kbps=6000)
    hints = "x-google-start-bitrate=2500;x-google-min-bitrate=600;x-google-max-bitrate=6000"
    lines = munged.split("\r\n")
    assert lines[lines.index("a=rtpmap:96 VP8/90000") + 1] == f"a=fmtp:96 {hints}"
    assert f"a=fmtp:102 packetization-mode=1;profile-level-id=42e01f;{hints}" in lines
    assert "a=fmtp:97 apt=96" in lines
    assert "a=rtpmap:111 opus/48000/2" in lines
    assert munged.count("x-google-start-bitrate") == 2
    assert munged.endswith("\r\n")
    assert add_bitrate_hints(munged, start_kbps=2500, min_kbps=600, max_kbps=6000) == munged
    with pytest.raises(ValueError, match="min <= start <= max"):
        add_bitrate_hints(OFFER, start_kbps=100, min_kbps=600, max_kbps=6000)


def test_annexb_splits_on_three_and_four_byte_start_codes_and_round_trips() -> None:
    """NAL units come out without start codes or padding zeros; AVCC prefixes each length."""
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + IDR
    assert split_annexb(data) == [SPS, PPS, IDR]
    assert split_annexb(annexb([SPS, PPS])) == [SPS, PPS]
    assert split_annexb(b"") == []
    assert split_annexb(b"\x01\x02") == []
    assert avcc([PPS, SLICE]) == struct.pack(">I", 5) + PPS + struct.pack(">I", 25) + SLICE


def test_decoder_configuration_record_carries_the_picture_size() -> None:
    """The record built from SPS/PPS is what the FLV probe reads 640x360 from."""
    record = avc_decoder_config(SPS, PPS)
    assert record[:4] == bytes([1, 0x42, 0xC0, 0x1E])
    assert record[4] == 0xFF
    assert record[5] == 0xE1
    tag = FlvTag(TagType.VIDEO, 0, bytes([0x17, 0, 0, 0, 0]) + record)
    assert avc_config_size(tag) == (640, 360)
    with pytest.raises(ValueError, match=r"not an H\.264 SPS"):
        avc_decoder_config(PPS, SPS)


def test_the_relay_gets_parameter_sets_in_front_of_every_idr() -> None:
    """An IDR that came without SPS/PPS gets the remembered ones; other frames do not."""
    track = H264Track()
    first = track.add(annexb([b"\x09\xf0", SPS, PPS, IDR]))
    assert first.keyframe
    assert first.parameter_sets_changed
    assert split_annexb(track.for_relay(first)) == [SPS, PPS, IDR]
    later = track.add(annexb([IDR]))
    assert later.keyframe
    assert not later.parameter_sets_changed
    assert split_annexb(track.for_relay(later)) == [SPS, PPS, IDR]
    inter = track.add(annexb([SLICE]))
    assert not inter.keyframe
    assert split_annexb(track.for_relay(inter)) == [SLICE]


def test_the_flv_muxer_waits_for_a_keyframe_and_repeats_the_header_on_change() -> None:
    """Frames before the first IDR are dropped; then a sequence header, then AVCC frames
    without parameter sets; new parameter sets bring a new sequence header."""
    muxer = FlvVideoMuxer()
    assert muxer.push(annexb([SLICE]), 0)[1] == []
    _, tags = muxer.push(annexb([SPS, PPS, IDR]), 33)
    assert [t.is_video_config for t in tags] == [True, False]
    assert tags[0].payload[5:] == avc_decoder_config(SPS, PPS)
    assert tags[1].is_keyframe
    assert tags[1].timestamp == 33
    assert tags[1].payload[5:] == avcc([IDR])
    _, tags = muxer.push(annexb([SLICE]), 66)
    assert len(tags) == 1
    assert tags[0].is_frame
    assert not tags[0].is_keyframe
    other_pps = bytes.fromhex("68cb83cb21")
    _, tags = muxer.push(annexb([SPS, other_pps, IDR]), 99)
    assert [t.is_video_config for t in tags] == [True, False]
    assert tags[0].payload[5:] == avc_decoder_config(SPS, other_pps)


def test_aac_tags_and_audio_specific_config() -> None:
    """48 kHz stereo AAC-LC is 0x1190; the tags are what FLV readers call AAC config and frames."""
    assert audio_specific_config(48000, 2) == b"\x11\x90"
    assert audio_specific_config(44100, 1) == b"\x12\x08"
    with pytest.raises(ValueError, match="no sampling frequency index for 47000 Hz"):
        audio_specific_config(47000, 2)
    config = aac_config_tag(b"\x11\x90", 0)
    assert config.is_audio_config
    frame = aac_frame_tag(b"\x21\x00", 20)
    assert frame.payload == b"\xaf\x01\x21\x00"
    assert not frame.is_audio_config
    assert rtp_to_ms(100, 90_000, 90_000) == 1100
    assert rtp_to_ms(0, 960, 48_000) == 20


def test_the_probe_decides_on_muxed_webrtc_video() -> None:
    """Tags made by the muxer satisfy the same probe the RTMP ingest uses: size from the SPS,
    the keyframe interval from two IDRs, H.264."""
    muxer = FlvVideoMuxer()
    probe_ = IngestProbe(max_gop=2.0)
    source = None
    for n in range(31):
        data = annexb([SPS, PPS, IDR]) if n % 30 == 0 else annexb([SLICE])
        for tag in muxer.push(data, n * 33)[1]:
            source = probe_.add(tag)
    assert source is not None
    assert (source.width, source.height, source.video_codec) == (640, 360, VideoCodec.H264)
    assert source.keyframe_interval == 0.99


def test_mdns_host_candidates_are_left_out_of_an_offer() -> None:
    """``.local`` candidates go (aiortc would spend up to a second resolving each); address
    candidates, other lines and the line endings stay."""
    offer = (
        "v=0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "a=candidate:1 1 udp 2113937151 3b1c0d2e-1f2a-4c5d.local 54321 typ host generation 0\r\n"
        "a=candidate:2 1 udp 2113937151 192.0.2.7 5000 typ host\r\n"
        "a=candidate:3 1 udp 1677729535 198.51.100.4 6000 typ srflx raddr 0.0.0.0 rport 0\r\n"
        "a=end-of-candidates\r\n"
    )
    assert without_mdns_candidates(offer) == (
        "v=0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "a=candidate:2 1 udp 2113937151 192.0.2.7 5000 typ host\r\n"
        "a=candidate:3 1 udp 1677729535 198.51.100.4 6000 typ srflx raddr 0.0.0.0 rport 0\r\n"
        "a=end-of-candidates\r\n"
    )
    assert without_mdns_candidates("v=0\na=candidate:1 1 udp 1 x.local 9 typ host\n") == "v=0\n"
