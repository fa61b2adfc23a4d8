"""The rendition ladder and the ffmpeg argument builders, checked as exact lists."""

from __future__ import annotations

import pytest

from streaming.errors import InvalidArgument
from streaming.ffmpeg_args import (
    PipeInput,
    UrlInput,
    live_args,
    redact_url,
    remux_args,
    restream_args,
    slate_args,
)
from streaming.ladder import (
    LadderSettings,
    Rung,
    SourceInfo,
    audio_part_target,
    plan_ladder,
    video_part_target,
)
from streaming.vocab import AudioCodec, InputFormat, MediaKind, VideoCodec, VideoMode

HOSTILE_TITLES = [
    "'; rm -rf / #",
    ":text=evil",
    "%{pts}",
    "Opening\n[in]drawtext=text='x'[out];",
    "a\\b'c\"d,e;f[g]h=i:j",
]

HD = SourceInfo(1920, 1080, 30.0, VideoCodec.H264, keyframe_interval=1.0)
P720 = SourceInfo(1280, 720, 30.0, VideoCodec.H264)


def test_ladder_for_1080p_h264_passes_the_source_through_and_adds_three_rungs() -> None:
    """A 1080p H.264 source is copied and gets 720p, 480p and 360p below it, then audio."""
    plan = plan_ladder(HD)
    summary = [(r.index, r.name, r.kind, r.mode, r.width, r.height) for r in plan.renditions]
    assert summary == [
        (0, "source", MediaKind.VIDEO, VideoMode.PASSTHROUGH, 1920, 1080),
        (1, "720p", MediaKind.VIDEO, VideoMode.TRANSCODE, 1280, 720),
        (2, "480p", MediaKind.VIDEO, VideoMode.TRANSCODE, 854, 480),
        (3, "360p", MediaKind.VIDEO, VideoMode.TRANSCODE, 640, 360),
        (4, "audio", MediaKind.AUDIO, None, 0, 0),
    ]
    assert plan.passthrough is True
    assert plan.target_duration == 1
    assert [r.bitrate for r in plan.renditions] == [
        6_000_000,
        2_800_000,
        1_400_000,
        800_000,
        128_000,
    ]
    assert plan.audio is plan.renditions[4]
    assert plan.video == plan.renditions[:4]


def test_only_rungs_smaller_than_the_source_are_added() -> None:
    """A 720p source gets no 720p rung; a 360p source gets no rung at all."""
    assert [r.name for r in plan_ladder(P720).renditions] == ["source", "480p", "360p", "audio"]
    small = SourceInfo(640, 360, 25.0, VideoCodec.H264, has_audio=False)
    assert [r.name for r in plan_ladder(small).renditions] == ["source"]


def test_non_h264_or_long_gop_sources_are_transcoded() -> None:
    """VP8 from WHIP, or H.264 with keyframes further apart than allowed, is re-encoded."""
    vp8 = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.VP8))
    long_gop = plan_ladder(SourceInfo(1281, 721, 30.0, VideoCodec.H264, keyframe_interval=8.0))
    assert vp8.renditions[0].mode is VideoMode.TRANSCODE
    assert vp8.renditions[0].bitrate == 2_765_000
    assert vp8.passthrough is False
    assert vp8.target_duration == 1
    assert (long_gop.renditions[0].width, long_gop.renditions[0].height) == (1280, 720)


def test_part_targets_are_whole_frames_rounded_up() -> None:
    """Video parts are whole frames, audio parts whole 1024-sample AAC frames."""
    assert video_part_target(0.2, 30.0) == pytest.approx(0.2)
    assert video_part_target(0.2, 29.97) == pytest.approx(6 / 29.97)
    assert video_part_target(0.25, 30.0) == pytest.approx(8 / 30)
    assert audio_part_target(0.2, 48_000) == pytest.approx(10 * 1024 / 48_000)
    plan = plan_ladder(P720)
    assert plan.renditions[0].part_target == pytest.approx(0.2)
    assert plan.renditions[-1].part_target == pytest.approx(0.213333, abs=1e-6)
    assert plan.part_hold_back == 0.641


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (LadderSettings(part_seconds=0.05), "part_seconds: must be between 0.1 and 1.0 seconds"),
        (
            LadderSettings(segment_seconds=0.3),
            "segment_seconds: must be at least two parts long and at most 10 seconds",
        ),
        (
            LadderSettings(max_passthrough_gop=0.5),
            "max_passthrough_gop: must be between segment_seconds and 10 seconds",
        ),
        (LadderSettings(preset="placebo"), "preset: unknown x264 preset 'placebo'"),
        (
            LadderSettings(rungs=(Rung("tall", 720, 1_000_000),)),
            "rungs: rung name 'tall' must look like '720p'",
        ),
        (
            LadderSettings(rungs=(Rung("721p", 721, 1_000_000),)),
            "rungs: rung 721p height must be even, 144 to 4320",
        ),
        (
            LadderSettings(rungs=(Rung("720p", 720, 1_000_000), Rung("720p", 720, 900_000))),
            "rungs: rung name '720p' appears twice",
        ),
        (
            LadderSettings(rungs=(Rung("720p", 720, 1_000_000, "extreme"),)),
            "rungs: rung 720p profile must be baseline, main or high",
        ),
    ],
)
def test_bad_ladder_settings_are_refused(settings: LadderSettings, message: str) -> None:
    """Each invalid knob names itself and the allowed range."""
    with pytest.raises(InvalidArgument) as caught:
        plan_ladder(P720, settings)
    assert str(caught.value) == message


def test_bad_sources_are_refused() -> None:
    """A size or frame rate out of range cannot be planned."""
    with pytest.raises(InvalidArgument) as caught:
        plan_ladder(SourceInfo(0, 0, 30.0, VideoCodec.H264))
    assert str(caught.value) == "source: size 0x0 is out of range"
    with pytest.raises(InvalidArgument) as caught:
        plan_ladder(SourceInfo(1280, 720, 0.0, VideoCodec.H264))
    assert str(caught.value) == "source: frame rate 0.0 is out of range"


def _x264(v: int, w: int, h: int, profile: str, bitrate: int, gop: int, keys: str) -> list[str]:
    return [
        f"-c:v:{v}", "libx264",
        f"-filter:v:{v}", f"scale={w}:{h},setsar=1",
        f"-pix_fmt:v:{v}", "yuv420p",
        f"-preset:v:{v}", "veryfast",
        f"-tune:v:{v}", "zerolatency",
        f"-profile:v:{v}", profile,
        f"-b:v:{v}", str(bitrate),
        f"-maxrate:v:{v}", str(bitrate * 11 // 10),
        f"-bufsize:v:{v}", str(bitrate),
        f"-g:v:{v}", str(gop),
        f"-sc_threshold:v:{v}", "0",
        f"-force_key_frames:v:{v}", keys,
    ]  # fmt: skip


def _dash_tail(streams: int, run: str, out: str) -> list[str]:
    sets = " ".join(f"id={i},streams={i}" for i in range(streams))
    return [
        "-f", "dash",
        "-seg_duration", "1",
        "-frag_type", "duration",
        "-frag_duration", "0.2",
        "-streaming", "1",
        "-window_size", "0",
        "-extra_window_size", "0",
        "-remove_at_exit", "0",
        "-use_template", "1",
        "-use_timeline", "1",
        "-adaptation_sets", sets,
        "-init_seg_name", f"r{run}_$RepresentationID$_init.mp4",
        "-media_seg_name", f"r{run}_$RepresentationID$_$Number%06d$.m4s",
        "-format_options", "movflags=+cmaf",
        f"{out}/r{run}.mpd",
    ]  # fmt: skip


def test_live_args_for_a_passed_through_720p_source() -> None:
    """Source copied with an avc1 tag, two rungs keyed on the source's keyframes, AAC, CMAF."""
    args = live_args(plan_ladder(P720), PipeInput(InputFormat.MPEGTS), "/srv/hls/s1", 3)
    assert args == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-nostats", "-progress", "pipe:1",
        "-analyzeduration", "1000000", "-f", "mpegts", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:v:0", "-map", "0:v:0", "-map", "0:a:0",
        "-c:v:0", "copy", "-tag:v:0", "avc1",
        *_x264(1, 854, 480, "main", 1_400_000, 120, "source"),
        *_x264(2, 640, 360, "main", 800_000, 120, "source"),
        "-c:a:0", "aac", "-b:a:0", "128000", "-ac:a:0", "2", "-ar:a:0", "48000",
        *_dash_tail(4, "0003", "/srv/hls/s1"),
    ]  # fmt: skip


def test_live_args_for_a_transcoded_source_force_a_keyframe_every_segment() -> None:
    """With nothing passed through, every rendition keys every segment_seconds (g = fps)."""
    plan = plan_ladder(SourceInfo(854, 480, 30.0, VideoCodec.VP8, has_audio=False))
    args = live_args(plan, UrlInput("rtmp://127.0.0.1:1935/live/key"), "/srv/hls/s2/", 12)
    keys = "expr:gte(t,n_forced*1)"
    assert args == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-nostats", "-progress", "pipe:1",
        "-analyzeduration", "1000000", "-i", "rtmp://127.0.0.1:1935/live/key",
        "-map", "0:v:0", "-map", "0:v:0",
        *_x264(0, 854, 480, "high", 1_230_000, 30, keys),
        *_x264(1, 640, 360, "main", 800_000, 30, keys),
        *_dash_tail(2, "0012", "/srv/hls/s2"),
    ]  # fmt: skip


def test_live_args_take_the_binary_and_the_probe_time() -> None:
    """The ffmpeg path and analyzeduration are the caller's."""
    args = live_args(
        plan_ladder(P720),
        PipeInput(InputFormat.FLV),
        "/d",
        1,
        ffmpeg="/opt/ffmpeg",
        analyze_us=500_000,
    )
    assert args[0] == "/opt/ffmpeg"
    assert args[8:14] == ["-analyzeduration", "500000", "-f", "flv", "-i", "pipe:0"]


@pytest.mark.parametrize(
    "out_dir",
    ["relative/dir", "/srv/../etc", "/srv/hls:evil", "/srv/h ls", "/srv/hls/./x", "-y", ""],
)
def test_live_args_refuse_unsafe_output_directories(out_dir: str) -> None:
    """Anything but a plain absolute path is refused before ffmpeg sees it."""
    with pytest.raises(InvalidArgument) as caught:
        live_args(plan_ladder(P720), PipeInput(InputFormat.MPEGTS), out_dir, 1)
    assert str(caught.value) == f"out_dir: {out_dir!r} is not a plain absolute path"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "rtmp:///nohost", "rtmp://host/live/a b", "-i", "concat:a|b"]
)
def test_url_inputs_must_be_network_streams(url: str) -> None:
    """Only rtmp(s), srt and http(s) URLs with a host are read."""
    with pytest.raises(InvalidArgument) as caught:
        live_args(plan_ladder(P720), UrlInput(url), "/d", 1)
    assert caught.value.field == "url"


def test_run_numbers_outside_the_naming_range_are_refused() -> None:
    """Run 0 has no name: runs count from 1."""
    with pytest.raises(ValueError, match=r"^run 0 is outside 1\.\.999999$"):
        live_args(plan_ladder(P720), PipeInput(InputFormat.MPEGTS), "/d", 0)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_slate_args_never_contain_the_title(title: str) -> None:
    """Whatever the title, the argument list is the same: it only names the text file."""
    args = slate_args("/run/torget/s1/slate.txt", width=1280, height=720, fps=30)
    assert all(title not in arg for arg in args)
    assert args == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-re", "-f", "lavfi", "-i", "color=c=0x14213d:s=1280x720:r=30",
        "-re", "-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000",
        "-map", "0:v:0", "-map", "1:a:0",
        "-vf",
        "drawtext=textfile=/run/torget/s1/slate.txt:expansion=none:fontcolor=white:"
        "fontsize=45:line_spacing=22:x=(w-text_w)/2:y=(h-text_h)/2",
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-b:v", "500000", "-maxrate", "500000", "-bufsize", "1000000",
        "-g", "30", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*1)",
        "-c:a", "aac", "-b:a", "128000", "-ar", "48000", "-ac", "2",
        "-f", "mpegts", "pipe:1",
    ]  # fmt: skip


def test_slate_args_to_a_file_with_a_font_and_a_length() -> None:
    """A finite slate file, not paced, with an explicit font."""
    args = slate_args(
        "/t/slate.txt",
        width=640,
        height=360,
        fps=25,
        output="/t/slate.ts",
        duration=2,
        realtime=False,
        fontfile="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        fontsize=20,
    )
    assert "-re" not in args
    assert args[args.index("-vf") + 1] == (
        "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:textfile=/t/slate.txt:"
        "expansion=none:fontcolor=white:fontsize=20:line_spacing=10:x=(w-text_w)/2:y=(h-text_h)/2"
    )
    assert args[-5:] == ["-t", "2", "-f", "mpegts", "/t/slate.ts"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text_file": "/t/a:b.txt"}, "text_file: '/t/a:b.txt' is not a plain absolute path"),
        ({"text_file": "/t/it's.txt"}, 'text_file: "/t/it\'s.txt" is not a plain absolute path'),
        ({"fontfile": "/f/x,y.ttf"}, "fontfile: '/f/x,y.ttf' is not a plain absolute path"),
        ({"output": "rtmp://x/y"}, "output: 'rtmp://x/y' is not a plain absolute path"),
        ({"width": 1281}, "size: 1281x720 must be even and in range"),
        ({"fps": 0}, "fps: must be between 1 and 120"),
        ({"background": "red:text=x"}, "background: must look like 0x14213d"),
        ({"duration": 0}, "duration: must be positive and at most a day"),
        ({"fontsize": 721}, "fontsize: must be between 4 and the height"),
    ],
)
def test_slate_args_refuse_unsafe_values(kwargs: dict[str, object], message: str) -> None:
    """Paths with filter syntax, odd sizes and free-form colours never reach the filter graph."""
    base: dict[str, object] = {"text_file": "/t/slate.txt", "width": 1280, "height": 720, "fps": 30}
    base.update(kwargs)
    with pytest.raises(InvalidArgument) as caught:
        slate_args(**base)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_remux_args_copy_video_and_audio_into_a_faststart_mp4() -> None:
    """The recording's two VOD playlists become one MP4 by stream copy."""
    assert remux_args("/rec/source.m3u8", "/rec/audio.m3u8", "/rec/replay.mp4") == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", "/rec/source.m3u8", "-i", "/rec/audio.m3u8",
        "-map", "0:v:0", "-map", "1:a:0",
        "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "/rec/replay.mp4",
    ]  # fmt: skip


def test_remux_args_trim_each_input() -> None:
    """Start and end apply to both inputs so picture and sound stay together."""
    args = remux_args("/r/v.m3u8", "/r/a.m3u8", "/r/o.mp4", start=12.5, end=3600)
    assert args[6:16] == [
        "-ss", "12.5", "-to", "3600", "-i", "/r/v.m3u8",
        "-ss", "12.5", "-to", "3600",
    ]  # fmt: skip
    silent = remux_args("/r/v.m3u8", None, "/r/o.mp4", start=0)
    assert silent[6:12] == ["-ss", "0", "-i", "/r/v.m3u8", "-map", "0:v:0"]
    assert "1:a:0" not in silent


def test_remux_args_refuse_bad_ranges_and_paths() -> None:
    """An end before the start, or a path with a protocol, is refused."""
    with pytest.raises(InvalidArgument) as caught:
        remux_args("/r/v.m3u8", None, "/r/o.mp4", start=10, end=5)
    assert str(caught.value) == "end: must be after start"
    with pytest.raises(InvalidArgument) as caught:
        remux_args("/r/v.m3u8", None, "/r/o.mp4", start=-1)
    assert str(caught.value) == "start: must not be negative"
    with pytest.raises(InvalidArgument) as caught:
        remux_args("concat:/a|/b", None, "/r/o.mp4")
    assert str(caught.value) == "video_playlist: 'concat:/a|/b' is not a plain absolute path"


def test_restream_copies_aac_and_encodes_opus() -> None:
    """FLV carries AAC: AAC is copied, Opus is encoded, video is always copied."""
    url = "rtmps://live-api-s.facebook.com:443/rtmp/FB-123-abc"
    assert restream_args(PipeInput(InputFormat.MPEGTS), url, audio=AudioCodec.AAC) == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-nostats", "-progress", "pipe:1",
        "-analyzeduration", "1000000", "-f", "mpegts", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0",
        "-c:v", "copy", "-c:a", "copy",
        "-f", "flv", "-flvflags", "no_duration_filesize", url,
    ]  # fmt: skip
    opus = restream_args(PipeInput(InputFormat.MPEGTS), url, audio=AudioCodec.OPUS)
    assert opus[20:28] == ["-c:a", "aac", "-b:a", "128000", "-ar", "48000", "-ac", "2"]
    mute = restream_args(PipeInput(InputFormat.FLV), "rtmp://a/live/k", audio=None)
    assert "0:a:0" not in mute
    assert "-c:a" not in mute


@pytest.mark.parametrize(
    "url",
    ["http://example.com/live", "rtmp://", "rtmp://host/live/key with space", "rtmp://h/\x00"],
)
def test_restream_destinations_must_be_rtmp_urls(url: str) -> None:
    """Only rtmp:// and rtmps:// destinations with a host are pushed to."""
    with pytest.raises(InvalidArgument) as caught:
        restream_args(PipeInput(InputFormat.MPEGTS), url, audio=None)
    assert caught.value.field == "url"


def test_redact_url_hides_the_stream_key() -> None:
    """Logs see the host and the path, never the key, a password or a query."""
    assert redact_url("rtmp://a.rtmp.youtube.com/live2/abcd-efgh") == (
        "rtmp://a.rtmp.youtube.com/live2/***"
    )
    assert redact_url("rtmps://user:pw@host:443/app/key?token=1") == "rtmps://host:443/app/***?***"


def test_target_duration_follows_the_measured_keyframe_interval() -> None:
    """A passed-through source's target duration is its segment length, not the longest GOP."""
    durations = {
        k: plan_ladder(
            SourceInfo(1280, 720, 30.0, VideoCodec.H264, keyframe_interval=k)
        ).target_duration
        for k in (None, 0.5, 0.8, 1.0, 1.001, 1.4, 2.0)
    }
    assert durations == {None: 2, 0.5: 2, 0.8: 2, 1.0: 1, 1.001: 1, 1.4: 2, 2.0: 2}
    transcoded = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264, keyframe_interval=8.0))
    assert transcoded.target_duration == 1


def test_a_jittery_source_gets_longer_parts_with_room_for_late_frames() -> None:
    """A WebRTC-like 30 fps source whose frames may come two frames late gets 0.4 s fragments
    and a video PART-TARGET 2/30 s longer, so late frames fit and every full part stays at
    least 85 % of the target."""
    jittery = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264, frame_jitter=2 / 30))
    assert jittery.settings.part_seconds == pytest.approx(0.4)
    video = jittery.renditions[0]
    assert video.part_target == pytest.approx(0.4 + 2 / 30)
    assert 0.85 * video.part_target <= 0.4
    assert "-frag_duration" in (args := live_args(jittery, PipeInput(InputFormat.FLV), "/o", 1))
    assert args[args.index("-frag_duration") + 1] == "0.4"
    steady = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264))
    assert steady.settings.part_seconds == 0.2
