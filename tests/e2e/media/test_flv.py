"""FLV tags, the ingest probe, the per-run FLV feed and the WebRTC FLV muxer against real ffmpeg."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pytest

from streaming.errors import InvalidMedia
from streaming.flv import (
    FlvFeed,
    FlvTag,
    IngestProbe,
    KeyframeCheck,
    TagType,
    avc_config_size,
    encode_tag,
    flv_header,
    parse_flv,
    script_body,
)
from streaming.ladder import plan_ladder
from streaming.rtmp_proto import amf0_decode
from streaming.vocab import VideoMode
from streaming.webrtc_media import FlvVideoMuxer, annexb, split_annexb
from tests.support.media_tools import FFMPEG, needs_ffmpeg, probe

pytestmark = [pytest.mark.slow, needs_ffmpeg]


@cache
def encoded(size: str = "1280x720", gop: int = 30, audio: bool = True, seconds: int = 3) -> bytes:
    """An FLV stream as an encoder publishes it: x264 test pattern and, if asked, AAC."""
    assert FFMPEG is not None
    args = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30"]  # fmt: skip
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop),
             "-sc_threshold", "0", "-pix_fmt", "yuv420p"]  # fmt: skip
    args += ["-c:a", "aac"] if audio else ["-an"]
    args += ["-f", "flv", "pipe:1"]
    return subprocess.run(args, capture_output=True, check=True, timeout=60).stdout


def test_tags_round_trip_through_the_flv_byte_stream() -> None:
    """Tags written with encode_tag parse back unchanged, 32-bit timestamps included."""
    tags = [
        FlvTag(TagType.SCRIPT, 0, b"\x02\x00\x0aonMetaData\x05"),
        FlvTag(TagType.VIDEO, 33, b"\x17\x01\x00\x00\x00abc"),
        FlvTag(TagType.AUDIO, 0x01020304, b"\xaf\x01xyz"),
    ]
    data = flv_header(audio=True, video=True) + b"".join(
        encode_tag(t.kind, t.timestamp, t.payload) for t in tags
    )
    assert parse_flv(data) == tags
    assert parse_flv(data[:-3]) == tags[:2]
    with pytest.raises(InvalidMedia):
        encode_tag(TagType.VIDEO, -1, b"")
    with pytest.raises(InvalidMedia):
        parse_flv(b"not an flv at all")
    assert script_body(b"\x02\x00\x0d@setDataFrame" + b"rest") == b"rest"


@pytest.mark.parametrize(
    ("size", "gop", "audio", "metadata", "expected"),
    [
        ("1280x720", 30, True, True, (1280, 720, True, 1.0)),
        ("1920x1080", 15, True, False, (1920, 1080, True, 0.5)),
        ("854x480", 30, False, False, (854, 480, False, 1.0)),
        ("640x360", 120, True, True, (640, 360, True, None)),
    ],
)
def test_probe_finds_size_keyframe_interval_and_audio(
    size: str, gop: int, audio: bool, metadata: bool, expected: tuple[int, int, bool, float | None]
) -> None:
    """The probe reads the size from the SPS (cropping included) or onMetaData, the keyframe
    interval from the first two keyframes, and gives up waiting past the longest GOP."""
    probe = IngestProbe(max_gop=2.0)
    found = None
    for tag in parse_flv(encoded(size, gop, audio, 5 if gop > 60 else 3)):
        if tag.kind is TagType.SCRIPT:
            if not metadata:
                continue
            values = amf0_decode(tag.payload)
            assert values[0] == "onMetaData"
            assert isinstance(values[1], dict)
            probe.set_metadata(values[1])
        found = probe.add(tag)
        if found is not None:
            break
    assert found is not None
    width, height, has_audio, interval = expected
    assert (found.width, found.height, found.has_audio) == (width, height, has_audio)
    assert found.fps == pytest.approx(30, abs=0.5)
    plan = plan_ladder(found)
    if interval is None:
        assert found.keyframe_interval is not None
        assert found.keyframe_interval > 2.0
        assert plan.renditions[0].mode is VideoMode.TRANSCODE
    else:
        assert found.keyframe_interval == pytest.approx(interval, abs=0.01)
        assert plan.renditions[0].mode is VideoMode.PASSTHROUGH
    config = next(t for t in probe.buffered if t.is_video_config)
    assert avc_config_size(config) == (width, height)


def test_probe_refuses_what_cannot_pass_through() -> None:
    """Video other than FLV H.264, and streams without keyframes, are refused."""
    with pytest.raises(InvalidMedia, match=r"H\.264"):
        IngestProbe(max_gop=2.0).add(FlvTag(TagType.VIDEO, 0, b"\x1c\x00\x00\x00\x00"))
    with pytest.raises(InvalidMedia, match=r"H\.264"):
        IngestProbe(max_gop=2.0).add(FlvTag(TagType.VIDEO, 0, b"\x90hvc1"))
    probe = IngestProbe(max_gop=2.0, max_bytes=1000)
    inter = b"\x27\x01\x00\x00\x00" + bytes(100)
    for timestamp in range(0, 270, 33):
        assert probe.add(FlvTag(TagType.VIDEO, timestamp, inter)) is None
    with pytest.raises(InvalidMedia, match="keyframes"):
        probe.add(FlvTag(TagType.VIDEO, 333, inter))


def test_feed_starts_each_run_at_a_keyframe_with_the_configurations(tmp_path: Path) -> None:
    """A run that starts mid-stream (and one after restart) gets the header, metadata and
    decoder configurations first, then media from a keyframe on at time 0; ffmpeg reads it."""
    tags = parse_flv(encoded("640x360", 30, True, 3))
    feed = FlvFeed(has_audio=True)
    heads = [t for t in tags if t.kind is TagType.SCRIPT or t.is_video_config or t.is_audio_config]
    for tag in heads:
        assert feed.push(tag) == b""
    media = [t for t in tags if t not in heads]
    first_key = next(i for i, t in enumerate(media) if t.is_keyframe)
    assert all(feed.push(t) == b"" for t in media[first_key + 1 : first_key + 5])
    out = b"".join(feed.push(t) for t in media[first_key + 5 :])
    second_key = next(t for t in media[first_key + 5 :] if t.is_keyframe)
    written = parse_flv(out)
    assert [t.kind for t in written[:3]] == [TagType.SCRIPT, TagType.VIDEO, TagType.AUDIO]
    assert written[1].is_video_config
    assert written[2].is_audio_config
    assert written[3].is_keyframe
    assert written[3].timestamp == 0
    assert all(t.timestamp >= 0 for t in written)
    assert written[-1].timestamp <= media[-1].timestamp - second_key.timestamp

    feed.restart()
    rest = media[len(media) // 2 :]
    again = b"".join(feed.push(t) for t in rest)
    assert again.startswith(b"FLV")
    path = tmp_path / "run.flv"
    path.write_bytes(again)
    info = probe(path)
    streams = info["streams"]
    assert isinstance(streams, list)
    assert sorted(s["codec_name"] for s in streams) == ["aac", "h264"]


def test_ffmpeg_reads_muxed_h264_as_flv(tmp_path: Path) -> None:
    """Real H.264 from x264 (Annex-B), muxed by our code into FLV, is read back by ffprobe as
    640x360 H.264 with every frame."""
    assert FFMPEG is not None
    raw = tmp_path / "in.h264"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-frames:v", "45", "-c:v", "libx264", "-g", "30", "-bf", "0", "-f", "h264", str(raw)],
        check=True, timeout=60,
    )  # fmt: skip
    data = raw.read_bytes()
    nals = split_annexb(data)
    units: list[list[bytes]] = []
    current: list[bytes] = []
    has_slice = False
    for nal in nals:  # access units: a new one at a parameter set or a first slice
        kind = nal[0] & 0x1F
        vcl = kind in (1, 5)
        if has_slice and ((not vcl and kind in (6, 7, 8, 9)) or (vcl and nal[1] & 0x80)):
            units.append(current)
            current, has_slice = [], False
        current.append(nal)
        has_slice = has_slice or vcl
    units.append(current)
    muxer = FlvVideoMuxer()
    out = [flv_header(audio=False, video=True)]
    for n, unit in enumerate(units):
        for tag in muxer.push(annexb(unit), n * 33)[1]:
            out.append(encode_tag(tag.kind, tag.timestamp, tag.payload))
    flv = tmp_path / "out.flv"
    flv.write_bytes(b"".join(out))
    [stream] = probe(flv, "-count_frames")["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 640, 360)
    assert stream["nb_read_frames"] == "45"


@pytest.mark.parametrize(("gop", "interval"), [(30, 1.0), (60, 2.0), (120, 2.25)])
def test_an_early_decision_assumes_the_keyframe_interval_and_the_check_tells_it(
    gop: int, interval: float
) -> None:
    """Asked to decide early, the probe decides 0.2 s after the first keyframe with keyframes
    assumed a second apart, a frame rate of 30 and a data rate near the whole GOP's; the check
    then tells the real interval at the second keyframe, or once the longest GOP has passed."""
    tags = parse_flv(encoded("640x360", gop, True, 3))
    probe = IngestProbe(max_gop=2.0, early=0.2, assumed_gop=1.0)
    index, found = next((i, s) for i, t in enumerate(tags) if (s := probe.add(t)) is not None)
    assert probe.provisional
    assert probe.first_keyframe is not None
    decided_at = (tags[index].timestamp - probe.first_keyframe) / 1000
    assert 0.2 <= decided_at < 0.3
    assert found.keyframe_interval == 1.0
    assert found.fps == pytest.approx(30, abs=0.5)
    whole = IngestProbe(max_gop=2.0)
    measured = next(s for t in tags if (s := whole.add(t)) is not None)
    assert found.video_bitrate is not None
    assert measured.video_bitrate is not None
    assert 0.5 < found.video_bitrate / measured.video_bitrate < 2.0
    check = KeyframeCheck(probe.first_keyframe, 2.0)
    told = next(i for i in tags[index + 1 :] if check.add(i) is not None)
    assert check.add(told) == pytest.approx(interval, abs=0.04)
