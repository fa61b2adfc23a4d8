"""Real ffmpeg runs the builders' argument lists; ffprobe and the playlist model check output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
import pytest

from streaming import names
from streaming.ffmpeg_args import PipeInput, live_args, remux_args, slate_args
from streaming.fmp4 import TrackInfo, parse_init, scan_fragments
from streaming.ladder import LadderPlan, SourceInfo, plan_ladder
from streaming.llhls import (
    MediaPlaylist,
    WrittenSegment,
    apply_written,
    multivariant_for,
    render_multivariant,
)
from streaming.slate_layout import slate_layout
from streaming.vocab import InputFormat, MediaKind, SlateKind, VideoCodec
from tests.support.hls_checks import check_media_playlist
from tests.support.media_tools import FFPROBE, probe

pytestmark = pytest.mark.slow

SECONDS = 4


def _ffmpeg_builds() -> list[Any]:
    builds = []
    system = shutil.which("ffmpeg")
    if system is not None:
        builds.append(pytest.param(system, id="system-ffmpeg"))
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]

        builds.append(pytest.param(imageio_ffmpeg.get_ffmpeg_exe(), id="imageio-ffmpeg"))
    except (ImportError, RuntimeError):
        pass
    return builds


def publish(ffmpeg: str, args: list[str]) -> str:
    """Pipe a 720p30 test pattern with a sine tone as MPEG-TS into ``args``; return its stdout."""
    pattern = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(SECONDS),
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-g", "30", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "128000",
        "-f", "mpegts", "pipe:1",
    ]  # fmt: skip
    with subprocess.Popen(pattern, stdout=subprocess.PIPE) as source:
        assert source.stdout is not None
        pipeline = subprocess.run(
            args, stdin=source.stdout, capture_output=True, text=True, timeout=60, check=False
        )
        source.stdout.close()
        assert source.wait(timeout=30) == 0
    assert pipeline.returncode == 0, pipeline.stderr
    return pipeline.stdout


def build_playlist(plan: LadderPlan, index: int, out: Path, track: TrackInfo) -> MediaPlaylist:
    """Feed every segment file of one rendition, fragment by fragment, into a playlist."""
    rendition = plan.renditions[index]
    playlist = MediaPlaylist(
        rendition=index,
        target_duration=plan.target_duration,
        part_target=rendition.part_target,
        part_hold_back=plan.part_hold_back,
    )
    files = sorted(out.glob(f"r0001_{index}_*.m4s"))
    assert files
    for path in files:
        assert names.parse_name(path.name).number == files.index(path) + 1
        data = path.read_bytes()
        fragments = scan_fragments(data, track)
        assert sum(f.length for f in fragments) == len(data)
        for count in range(1, len(fragments) + 1):
            growing = WrittenSegment(path.name, fragments[:count], track.timescale, complete=False)
            apply_written(playlist, growing)
        apply_written(
            playlist, WrittenSegment(path.name, fragments, track.timescale, complete=True)
        )
    return playlist


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe not installed (apt-get install ffmpeg)")
@pytest.mark.parametrize("ffmpeg", _ffmpeg_builds())
def test_live_pipeline_writes_an_ll_hls_ladder(ffmpeg: str, tmp_path: Path) -> None:
    """A 720p30 H.264+AAC stream on stdin becomes a copied source, 480p and 360p rungs with
    aligned keyframes, and AAC, in CMAF segments whose fragments make valid LL-HLS parts."""
    out = tmp_path / "hls"
    out.mkdir()
    plan = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264, keyframe_interval=1.0))
    assert [r.name for r in plan.renditions] == ["source", "480p", "360p", "audio"]
    progress = publish(
        ffmpeg, live_args(plan, PipeInput(InputFormat.MPEGTS), str(out), 1, ffmpeg=ffmpeg)
    )
    assert "progress=end" in progress
    assert not list(out.glob("*.tmp"))

    tracks = {
        r.index: parse_init((out / names.init_name(1, r.index)).read_bytes())
        for r in plan.renditions
    }
    sizes = {0: (1280, 720), 1: (854, 480), 2: (640, 360)}
    segment_starts: dict[int, list[float]] = {}
    for rendition in plan.renditions:
        track = tracks[rendition.index]
        playlist = build_playlist(plan, rendition.index, out, track)
        text = playlist.render()
        check_media_playlist(text)
        parsed = m3u8.loads(text)
        durations = [s.duration for s in parsed.segments]
        assert sum(durations) == pytest.approx(SECONDS, abs=0.2)
        assert len(durations) >= SECONDS - 1
        assert parsed.preload_hint.hint_type == "PART"
        # Parts are listed for the last three target durations (1 s each here), not before.
        assert [bool(s.parts) for s in parsed.segments[-3:]] == [True] * 3
        for segment in parsed.segments:
            assert len(segment.parts) <= 6
            assert not segment.parts or segment.parts[0].independent == "YES"
        playlist.end()
        check_media_playlist(playlist.render())

        # The concatenated init + segments decode as the rendition they claim to be.
        joined = tmp_path / f"{rendition.name}.mp4"
        files = sorted(out.glob(f"r0001_{rendition.index}_*.m4s"))
        joined.write_bytes(
            b"".join(p.read_bytes() for p in [out / names.init_name(1, rendition.index), *files])
        )
        info = probe(joined)
        [stream] = info["streams"]
        assert float(info["format"]["duration"]) == pytest.approx(SECONDS, abs=0.25)
        if rendition.kind is MediaKind.VIDEO:
            assert stream["codec_name"] == "h264"
            assert (stream["width"], stream["height"]) == sizes[rendition.index]
            assert (track.width, track.height) == sizes[rendition.index]
            segment_starts[rendition.index] = [
                scan_fragments(p.read_bytes(), track)[0].decode_time / track.timescale
                for p in files
            ]
        else:
            assert stream["codec_name"] == "aac"
            assert (stream["sample_rate"], stream["channels"]) == ("48000", 2)

    # One part on its own (after the init segment) decodes: six frames of the second segment.
    track = tracks[1]
    second = (out / names.segment_name(1, 1, 2)).read_bytes()
    first_part = scan_fragments(second, track)[0]
    part_file = tmp_path / "part.mp4"
    part_file.write_bytes((out / names.init_name(1, 1)).read_bytes() + second[: first_part.length])
    [part_stream] = probe(part_file, "-count_frames")["streams"]
    assert part_stream["nb_read_frames"] == "6"

    # Keyframes are aligned: every video rendition cuts its segments at the same instants.
    counts = {len(starts) for starts in segment_starts.values()}
    assert len(counts) == 1
    for later in zip(*(segment_starts[i][1:] for i in sorted(segment_starts)), strict=True):
        relative = [
            value - segment_starts[i][0]
            for value, i in zip(later, sorted(segment_starts), strict=True)
        ]
        assert max(relative) - min(relative) <= 1 / 30 + 1e-3

    variants, audio = multivariant_for(plan, tracks)
    master = m3u8.loads(render_multivariant(variants, audio))
    assert [p.stream_info.resolution for p in master.playlists] == [
        (1280, 720),
        (854, 480),
        (640, 360),
    ]
    assert all(p.stream_info.codecs.endswith(",mp4a.40.2") for p in master.playlists)
    assert master.playlists[0].stream_info.codecs.startswith("avc1.")


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe not installed (apt-get install ffmpeg)")
@pytest.mark.parametrize("ffmpeg", _ffmpeg_builds())
def test_recording_remuxes_to_mp4_and_slate_renders(ffmpeg: str, tmp_path: Path) -> None:
    """The VOD playlists of a recording remux to one MP4; a slate with a hostile title encodes."""
    out = tmp_path / "hls"
    out.mkdir()
    plan = plan_ladder(
        SourceInfo(1280, 720, 30.0, VideoCodec.H264, keyframe_interval=1.0),
    )
    publish(ffmpeg, live_args(plan, PipeInput(InputFormat.MPEGTS), str(out), 1, ffmpeg=ffmpeg))
    for index in (0, 3):
        track = parse_init((out / names.init_name(1, index)).read_bytes())
        playlist = build_playlist(plan, index, out, track)
        playlist.end()
        (out / names.playlist_name(plan.renditions[index].name)).write_text(playlist.render_vod())
    mp4 = tmp_path / "replay.mp4"
    done = subprocess.run(
        remux_args(str(out / "source.m3u8"), str(out / "audio.m3u8"), str(mp4), ffmpeg=ffmpeg),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    info = probe(mp4)
    assert [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
    assert float(info["format"]["duration"]) == pytest.approx(SECONDS, abs=0.25)

    text_file = tmp_path / "slate.txt"
    hostile = "'; rm -rf / # :text=evil %{pts}"
    text_file.write_text(
        slate_layout(SlateKind.BE_RIGHT_BACK, hostile, width=1280, height=720).text
    )
    slate = tmp_path / "slate.ts"
    done = subprocess.run(
        slate_args(
            str(text_file),
            width=1280,
            height=720,
            fps=30,
            output=str(slate),
            duration=1,
            realtime=False,
            ffmpeg=ffmpeg,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    streams = probe(slate)["streams"]
    assert [(s["codec_name"], s.get("width")) for s in streams] == [("h264", 1280), ("aac", None)]
