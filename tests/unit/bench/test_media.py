"""The media benchmark: burned-in clock, playlist reading, argument lists, and a smoke run."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from bench.__main__ import keep_other_sections, report
from bench.media import commands, stamp
from bench.media.playlist import parse_media, parse_variants, summarize
from bench.media.publisher import background, video_frame
from config import load_settings

# A live source playlist as Torget serves it (captured from a running node), one open segment.
LIVE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.644
#EXT-X-PART-INF:PART-TARGET=0.2011
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-MAP:URI="r0001_0_init.mp4"
#EXTINF:1.0,
r0001_0_000008.m4s
#EXT-X-PART:DURATION=0.2,URI="r0001_0_000009.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="r0001_0_000009.1.m4s"
#EXTINF:0.4,
r0001_0_000009.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="r0002_0_init.mp4"
#EXT-X-PART:DURATION=0.2,URI="r0002_0_000001.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="r0002_0_000001.1.m4s"
#EXT-X-PART:DURATION=0.2,URI="r0002_0_000001.2.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="r0002_0_000001.3.m4s"
#EXT-X-RENDITION-REPORT:URI="audio.m3u8",LAST-MSN=9,LAST-PART=2
"""

MASTER = """#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,URI="audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2813546,CODECS="avc1.42c01f,mp4a.40.2",RESOLUTION=1280x720
source.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1200000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=854x480
480p.m3u8
"""


def test_the_check_rejects_a_flipped_block() -> None:
    """Every value survives bits and back, and a single wrong block is refused."""
    for value in (0, 1, 1_795_658_632_938, (1 << 48) - 1):
        bits = stamp.bits_of(value)
        assert len(bits) == 64
        assert stamp.value_of(bits) == value
        for index in (0, 20, 47, 63):
            flipped = list(bits)
            flipped[index] ^= 1
            assert stamp.value_of(flipped) is None
    with pytest.raises(ValueError, match="does not fit in 48 bits"):
        stamp.bits_of(1 << 48)
    with pytest.raises(ValueError, match="too small"):
        stamp.block_size(100, 40)


def test_the_clock_survives_h264_encode_and_decode(tmp_path: Path) -> None:
    """Stamped frames encoded with x264 at a low bit rate and decoded read back exactly;
    a frame without blocks reads as None."""
    width, height = 640, 360
    values = [1_795_658_632_938 + 33 * i for i in range(45)]
    path = tmp_path / "stamped.mp4"
    output: Any = av.open(str(path), "w")
    video = output.add_stream("libx264", rate=30, options={"preset": "ultrafast", "g": "30"})
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.bit_rate = 300_000
    luma = background(width, height)
    chroma = bytes([128]) * (width * height)
    for index, value in enumerate(values):
        frame = video_frame(luma, chroma, width, height, value)
        frame.pts, frame.time_base = index, Fraction(1, 30)
        for packet in video.encode(frame):
            output.mux(packet)
    for packet in video.encode(None):
        output.mux(packet)
    output.close()

    read = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            plane = frame.planes[0]
            read.append(stamp.read(bytes(plane), frame.width, frame.height, plane.line_size))
    assert read == values
    plain = bytes(background(width, height))
    assert stamp.read(plain, width, height, width) is None


def test_a_live_ll_hls_playlist_is_read_like_a_player_would() -> None:
    """Segments, parts, the open segment, discontinuity, maps, hint and hold-backs are read;
    the next blocking request asks for the part after the last one listed."""
    listed = parse_media(LIVE)
    assert (listed.target_duration, listed.media_sequence) == (2.0, 7)
    assert (listed.part_target, listed.part_hold_back) == (0.2011, 0.644)
    assert listed.can_block_reload
    assert not listed.ended
    assert [(s.msn, s.uri) for s in listed.segments] == [
        (7, "r0001_0_000008.m4s"),
        (8, "r0001_0_000009.m4s"),
        (9, None),
    ]
    [first, second, open_segment] = listed.segments
    assert first.parts == ()
    assert first.duration == 1.0
    assert [p.independent for p in second.parts] == [True, False]
    assert (open_segment.map_uri, open_segment.discontinuity) == ("r0002_0_init.mp4", True)
    assert not second.discontinuity
    assert open_segment.duration == pytest.approx(0.6)
    assert [s.uri for s in listed.complete] == ["r0001_0_000008.m4s", "r0001_0_000009.m4s"]
    assert listed.preload_hint == "r0002_0_000001.3.m4s"
    assert listed.live_edge == (9, 2)
    assert listed.next_part() == (9, 3)
    assert listed.hold_back(low_latency=True) == 0.644
    assert listed.hold_back(low_latency=False) == 6.0

    closed = parse_media(LIVE.split("#EXT-X-DISCONTINUITY\n")[0] + "#EXT-X-ENDLIST\n")
    assert closed.ended
    assert closed.next_part() == (9, 0)
    assert closed.live_edge == (8, 1)
    with pytest.raises(ValueError, match="no #EXTM3U"):
        parse_media("<html>")
    with pytest.raises(ValueError, match="no #EXT-X-TARGETDURATION"):
        parse_media("#EXTM3U\n")
    with pytest.raises(ValueError, match="has no #EXTINF"):
        parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:1\nseg.m4s\n")


def test_variants_and_summaries() -> None:
    """A multivariant playlist gives its variants in order; summaries give the median and
    deciles, and nothing for no values."""
    variants = parse_variants(MASTER)
    assert [(v.uri, v.resolution, v.bandwidth) for v in variants] == [
        ("source.m3u8", (1280, 720), 2_813_546),
        ("480p.m3u8", (854, 480), 1_200_000),
    ]
    found = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert found is not None
    assert (found.count, found.median, found.low, found.high) == (5, 3.0, 1.0, 5.0)
    assert found.p10 == pytest.approx(1.4)
    assert found.p90 == pytest.approx(4.6)
    assert summarize([]) is None


def test_the_benchmark_config_is_one_torget_accepts(tmp_path: Path) -> None:
    """The config file the benchmark writes loads through Torget's own settings checks."""
    path = tmp_path / "torget.toml"
    path.write_text(
        commands.torget_config(
            http_port=18080,
            rtmp_port=11935,
            store_url="sqlite+aiosqlite:///x.db",
            data_dir=tmp_path / "media",
            ladder=(),
        )
    )
    settings = load_settings(path, {})
    assert (settings.server.port, settings.media.rtmp_port) == (18080, 11935)
    assert settings.media.ladder_heights == []
    assert settings.media.data_dir == str(tmp_path / "media")
    assert not settings.media.slate
    assert not settings.demo.load_on_first_start
    path.write_text(
        commands.torget_config(
            http_port=1,
            rtmp_port=2,
            store_url="sqlite+aiosqlite:///y.db",
            data_dir=tmp_path,
            ladder=(720, 360),
        )
    )
    assert load_settings(path, {}).media.ladder_heights == [720, 360]


def test_argument_lists() -> None:
    """Publishers copy the video (never re-encode it) to the URL given last; the clip has 1 s
    keyframes and no audio (a looped clip's own audio would jump at every loop)."""
    url = "rtmp://127.0.0.1:1/live/sk_x"
    loop = commands.loop_args("ffmpeg", Path("/t/clip.mp4"), url)
    assert loop[-3:] == ["-f", "flv", url]
    assert loop[loop.index("-c:v") + 1] == "copy"
    assert "-stream_loop" in loop
    assert "-re" in loop
    relay = commands.relay_args("ffmpeg", url)
    assert relay[relay.index("-i") + 1] == "pipe:0"
    assert relay[-1] == url
    clip = commands.clip_args("ffmpeg", Path("/t/c.mp4"), 1080, 6, 6_000_000)
    assert "testsrc2=size=1920x1080:rate=30:duration=6" in clip
    assert clip[clip.index("-g") + 1] == "30"
    assert "-an" in clip
    assert clip[-1] == "/t/c.mp4"
    pub = commands.publisher_args("python", (640, 360), 30, 1.0)
    assert pub[:3] == ["python", "-m", "bench.media.publisher"]
    assert "640x360" in pub


def test_a_partial_run_keeps_the_other_sections() -> None:
    """Running one benchmark replaces its section and keeps the others, marked as older."""
    when = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    old = report(["## Fan-out\n\nfan figures\n", "## Media\n\nold\n"], "python -m bench", when, 60)
    new = report(["## Media\n\nnew\n"], "python -m bench media", when, 60)
    merged = keep_other_sections(old, new)
    assert "fan figures" in merged
    assert "new" in merged
    assert "\nold\n" not in merged
    assert merged.index("## Fan-out") < merged.index("## Media")
    assert merged.count("(Kept from the earlier run.") == 1
    assert merged.rstrip().endswith("with `python -m bench media` (1.0 min).")
    again = keep_other_sections(merged, new)
    assert again.count("(Kept from the earlier run.") == 1


def test_a_section_that_says_run_on_inside_is_kept_whole() -> None:
    """Only the report's closing "Run on" line ends the sections: a section with a "Run on"
    line of its own, and the sections after it, survive a partial run."""
    when = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    imports = (
        "## Imports\n\nimport figures\n\n(Run on 2026-11-25 with `python -m bench imports`.)\n"
    )
    old = report([imports, "## Clips\n\nclip figures\n"], "python -m bench", when, 60)
    merged = keep_other_sections(
        old, report(["## Media\n\nnew\n"], "python -m bench media", when, 60)
    )
    assert "import figures" in merged
    assert "clip figures" in merged
    assert merged.index("## Clips") < merged.index("## Media")
    assert merged.count("(Kept from the earlier run.") == 1  # the clips; imports says its own


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level MP4 boxes of ``data`` as (type, whole box)."""
    found, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        found.append((data[offset + 4 : offset + 8], data[offset : offset + size]))
        offset += size
    return found


def test_the_reader_decodes_fragments_in_order_and_reads_their_clock(tmp_path: Path) -> None:
    """Fragmented MP4 (one fragment per frame, so most start mid-GOP, like LL-HLS parts) fed
    after its init segment gives every frame's burned-in clock, in media-time order."""
    from bench.media.reader import Decoder

    width, height = 320, 180
    values = [1_795_000_000_000 + 1000 * i for i in range(20)]
    path = tmp_path / "frag.mp4"
    output: Any = av.open(
        str(path), "w", format="mp4",
        options={"movflags": "empty_moov+default_base_moof+frag_every_frame"},
    )  # fmt: skip
    video = output.add_stream("libx264", rate=10, options={"preset": "ultrafast", "g": "10"})
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    luma, chroma = background(width, height), bytes([128]) * (width * height)
    for index, value in enumerate(values):
        frame = video_frame(luma, chroma, width, height, value)
        frame.pts, frame.time_base = index, Fraction(1, 10)
        for packet in video.encode(frame):
            output.mux(packet)
    for packet in video.encode(None):
        output.mux(packet)
    output.close()

    boxes = _boxes(path.read_bytes())
    init = b"".join(box for kind, box in boxes if kind in (b"ftyp", b"moov"))
    fragments: list[bytes] = []
    for kind, box in boxes:
        if kind == b"moof":
            fragments.append(box)
        elif kind == b"mdat":
            fragments[-1] += box
    assert len(fragments) == len(values)

    decoder = Decoder()
    newest = [decoder.feed(init, fragment) for fragment in fragments]
    assert newest == values
    assert decoder.stamps == values
    assert decoder.times == pytest.approx([i / 10 for i in range(20)])
    assert decoder.edge == pytest.approx(2.0)
    assert decoder.stamp_at(0.95) == values[9]
    assert decoder.stamp_at(-1) is None
    assert decoder.unreadable == 0
