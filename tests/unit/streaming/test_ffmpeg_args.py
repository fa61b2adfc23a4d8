"""The ffmpeg argument builders (live pipeline, slate, remux, restream, the recording's MP4,
clips), checked as exact lists."""

from __future__ import annotations

from typing import Any

import pytest

from streaming.errors import InvalidArgument
from streaming.ffmpeg_args import (
    CaptionTrack,
    Crop,
    PipeInput,
    UrlInput,
    carried,
    clip_args,
    clip_piece_args,
    concat_list,
    interpretation_filters,
    live_args,
    recording_args,
    redact_url,
    remux_args,
    restream_args,
    run_mp4_args,
    slate_args,
)
from streaming.ladder import (
    LadderSettings,
    SourceInfo,
    plan_ladder,
)
from streaming.vocab import AudioCodec, InputFormat, VideoCodec
from tests.support.restream import YOUTUBE

HOSTILE_TITLES = [
    "'; rm -rf / #",
    ":text=evil",
    "%{pts}",
    "Opening\n[in]drawtext=text='x'[out];",
    "a\\b'c\"d,e;f[g]h=i:j",
]

P720 = SourceInfo(1280, 720, 30.0, VideoCodec.H264)


def _x264(v: int, w: int, h: int, profile: str, bitrate: int, gop: int, keys: str) -> list[str]:
    return [
        f"-c:v:{v}", "libx264",
        f"-filter:v:{v}", f"scale={w}:{h},setsar=1",
        f"-pix_fmt:v:{v}", "yuv420p",
        f"-preset:v:{v}", "veryfast",
        f"-tune:v:{v}", "zerolatency",
        f"-bf:v:{v}", "0",
        f"-rc-lookahead:v:{v}", "0",
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
        "-filter:a:0", "aresample=async=1",
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


def test_every_rung_is_encoded_without_lookahead_or_b_frames() -> None:
    """Each transcoded rendition has tune zerolatency, no B-frames and no rc-lookahead, so
    its parts are cut in step with the passed-through source's."""
    args = live_args(
        plan_ladder(SourceInfo(1920, 1080, 30.0, VideoCodec.H264)),
        PipeInput(InputFormat.FLV),
        "/d",
        1,
    )
    for v in (1, 2, 3):
        for option, value in (("-tune", "zerolatency"), ("-bf", "0"), ("-rc-lookahead", "0")):
            assert args[args.index(f"{option}:v:{v}") + 1] == value
    assert "-tune:v:0" not in args  # the source is copied


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
        "drawtext=textfile=/run/torget/s1/slate.txt:expansion=none:fontcolor=0xffffff:"
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
        "expansion=none:fontcolor=0xffffff:fontsize=20:line_spacing=10:x=(w-text_w)/2:y=(h-text_h)/2"
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


def test_run_mp4_args_copy_the_runs_video_and_audio() -> None:
    """One run's joined video and audio become one MP4 by stream copy."""
    assert run_mp4_args("/m/s/v.mp4", "/m/s/a.mp4", "/m/s/r0001.mp4.part", ffmpeg="ff") == [
        "ff", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", "/m/s/v.mp4", "-i", "/m/s/a.mp4", "-map", "0:v:0", "-map", "1:a:0",
        "-c", "copy", "-f", "mp4", "/m/s/r0001.mp4.part",
    ]  # fmt: skip
    silent = run_mp4_args("/m/v.mp4", None, "/m/o.mp4")
    assert "-map" in silent
    assert "1:a:0" not in silent
    assert silent.count("-i") == 1
    with pytest.raises(InvalidArgument):
        run_mp4_args("/m/v.mp4", None, "relative.mp4")


def test_recording_args_join_the_runs_and_cut_with_ss_and_to() -> None:
    """The runs are joined by the concat demuxer with stream copy; a trim seeks the input with
    -ss/-to (the mp4 muxer's edit list makes the cut frame-accurate); faststart for the web."""
    assert recording_args("/m/s/mp4/runs.txt", "/m/s/recording.mp4.part", ffmpeg="ff") == [
        "ff", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "concat", "-safe", "0", "-i", "/m/s/mp4/runs.txt", "-map", "0", "-c", "copy",
        "-movflags", "+faststart", "-f", "mp4", "/m/s/recording.mp4.part",
    ]  # fmt: skip
    trimmed = recording_args("/l.txt", "/o.mp4", start=12.25, end=3600)
    assert trimmed[6:10] == ["-ss", "12.25", "-to", "3600"]
    assert trimmed.index("-to") < trimmed.index("-i")
    only_end = recording_args("/l.txt", "/o.mp4", end=5.5)
    assert "-ss" not in only_end
    assert only_end[6:8] == ["-to", "5.5"]
    with pytest.raises(InvalidArgument):
        recording_args("/l.txt", "/o.mp4", start=5, end=4)
    with pytest.raises(InvalidArgument):
        recording_args("/l.txt", "/o.mp4", start=-1)
    with pytest.raises(InvalidArgument):
        recording_args("concat:/a|/b", "/o.mp4")


def test_concat_list_names_plain_paths_only() -> None:
    """The concat list quotes plain absolute paths; anything else (quotes, relative) is refused."""
    assert concat_list(["/m/s/mp4/r0001.mp4", "/m/s/mp4/r0003.mp4"]) == (
        "ffconcat version 1.0\nfile '/m/s/mp4/r0001.mp4'\nfile '/m/s/mp4/r0003.mp4'\n"
    )
    for bad in (["/m/it's.mp4"], ["r0001.mp4"], ["/m/../etc/passwd"], []):
        with pytest.raises(InvalidArgument):
            concat_list(bad)


def test_the_push_is_ffmpeg_copying_flv_from_its_stdin() -> None:
    """Each destination runs ffmpeg with FLV on stdin, streams copied, FLV out to the URL."""
    assert restream_args(PipeInput(InputFormat.FLV), YOUTUBE, audio=AudioCodec.AAC) == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats",
        "-progress", "pipe:1", "-analyzeduration", "1000000", "-f", "flv", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy", "-c:a", "copy",
        "-f", "flv", "-flvflags", "no_duration_filesize", YOUTUBE,
    ]  # fmt: skip


def test_an_irregular_sources_rungs_take_its_frames_as_they_come() -> None:
    """The rungs of a WebRTC-like source encode its frames as they come (no constant-rate
    conversion that would drop a frame whose keyframe is forced) and leave keyframes to the
    source: x264's own interval assumes 60 fps, whatever rate was probed; a steady source's
    rungs are left as they were."""
    probed = SourceInfo(1280, 720, 14.1, VideoCodec.H264, frame_jitter=2 / 30)
    args = live_args(plan_ladder(probed), PipeInput(InputFormat.FLV), "/o", 1)
    for v in (1, 2):
        assert args[args.index(f"-fps_mode:v:{v}") + 1] == "passthrough"
        assert args[args.index(f"-g:v:{v}") + 1] == "240"
        assert args[args.index(f"-force_key_frames:v:{v}") + 1] == "source"
    steady = live_args(plan_ladder(P720), PipeInput(InputFormat.FLV), "/o", 1)
    assert not any(arg.startswith("-fps_mode") for arg in steady)


def test_a_dropped_rung_leaves_the_run_and_the_rest_close_up() -> None:
    """With 480p dropped the run writes source, 360p and audio as output streams 0, 1, 2."""
    plan = plan_ladder(P720)
    args = live_args(plan, PipeInput(InputFormat.FLV), "/d", 1, dropped={1})
    assert args.count("-map") == 3
    assert args[args.index("-filter:v:1") + 1] == "scale=640:360,setsar=1"
    assert "-filter:v:2" not in args
    assert (
        args[args.index("-adaptation_sets") + 1] == "id=0,streams=0 id=1,streams=1 id=2,streams=2"
    )
    assert [r.name for r in carried(plan, {1})] == ["source", "360p", "audio"]


def test_the_source_rendition_cannot_be_dropped() -> None:
    """Dropping rendition 0 is refused: its viewers keep their stream."""
    with pytest.raises(InvalidArgument, match="source rendition cannot be dropped"):
        carried(plan_ladder(P720), {0})


CLIP_HEAD = ["ff", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
CLIP_ENCODE = [
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
    "-c:a", "aac", "-b:a", "128000", "-movflags", "+faststart", "-f", "mp4",
]  # fmt: skip


def test_a_clip_on_a_keyframe_of_the_replay_is_a_stream_copy_of_the_runs() -> None:
    """A copy: seek in the runs' concat list, the duration, both streams copied, faststart."""
    args = clip_args(
        "/m/s/mp4/runs.txt", "/m/s/clips/c.mp4.part", start=12.0, duration=60.0,
        concat=True, copy=True, ffmpeg="ff",
    )  # fmt: skip
    assert args == [
        *CLIP_HEAD, "-ss", "12", "-f", "concat", "-safe", "0", "-i", "/m/s/mp4/runs.txt",
        "-t", "60", "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        "-movflags", "+faststart", "-f", "mp4", "/m/s/clips/c.mp4.part",
    ]  # fmt: skip


def test_a_cropped_clip_is_re_encoded_to_the_frame() -> None:
    """A crop: the crop filter, H.264 and AAC; a live piece is read as a plain file."""
    args = clip_args(
        "/m/s/clips/w/piece.ts", "/m/s/clips/c.mp4.part", start=0.5, duration=3.25,
        crop=Crop(404, 720, 438, 0), ffmpeg="ff",
    )  # fmt: skip
    assert args == [
        *CLIP_HEAD, "-ss", "0.5", "-i", "/m/s/clips/w/piece.ts", "-t", "3.25",
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", "crop=404:720:438:0",
        *CLIP_ENCODE, "/m/s/clips/c.mp4.part",
    ]  # fmt: skip


def test_captions_are_burned_in_on_their_own_timeline() -> None:
    """Subtitles: frames shifted to the captions' timeline for the filter, then back to zero."""
    args = clip_args(
        "/m/s/mp4/runs.txt", "/m/s/clips/c.mp4.part", start=30.0, duration=10.0, concat=True,
        crop=Crop(720, 720, 280, 0), subtitles="/m/s/captions/sv.vtt", subtitles_at=30.0,
        preset="ultrafast", ffmpeg="ff",
    )  # fmt: skip
    vf = args[args.index("-vf") + 1]
    assert vf == (
        "crop=720:720:280:0,setpts=PTS+30/TB,subtitles=filename=/m/s/captions/sv.vtt,"
        "setpts=PTS-STARTPTS"
    )
    assert args[args.index("-preset") + 1] == "ultrafast"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": -1.0}, "start: must not be negative"),
        ({"start": float("nan")}, "start: must not be negative"),
        ({"duration": 0.0}, "duration: must be positive"),
        (
            {"copy": True, "crop": Crop(720, 720, 280, 0)},
            "copy: a stream copy can neither crop nor burn in subtitles",
        ),
        (
            {"copy": True, "subtitles": "/m/s/c.vtt"},
            "copy: a stream copy can neither crop nor burn in subtitles",
        ),
        ({"crop": Crop(405, 720, 0, 0)}, "crop: 405x720 must be even and at least 2x2"),
        (
            {"subtitles": "/m/s/c.vtt:force_style=x"},
            "subtitles: '/m/s/c.vtt:force_style=x' is not a plain absolute path",
        ),
        ({"source": "relative.ts"}, "source: 'relative.ts' is not a plain absolute path"),
    ],
)
def test_a_clip_that_cannot_be_cut_safely_is_refused(kwargs: dict[str, Any], message: str) -> None:
    """Bad times, a copy asked to crop, odd crops and unsafe paths never reach ffmpeg."""
    values: dict[str, Any] = {
        "source": "/m/s/p.ts",
        "output": "/m/s/c.mp4",
        "start": 0.0,
        "duration": 5.0,
    }
    values.update(kwargs)
    source, output = values.pop("source"), values.pop("output")
    with pytest.raises(InvalidArgument) as refused:
        clip_args(source, output, **values)
    assert refused.value.message == message


def test_a_live_piece_copies_video_and_audio_into_mpeg_ts() -> None:
    """The live segments joined side by side, stream-copied, in MPEG-TS (timestamps kept)."""
    assert clip_piece_args("/w/v.mp4", "/w/a.mp4", "/w/piece.ts", ffmpeg="ff") == [
        *CLIP_HEAD, "-i", "/w/v.mp4", "-i", "/w/a.mp4", "-map", "0:v:0", "-map", "1:a:0",
        "-c", "copy", "-f", "mpegts", "/w/piece.ts",
    ]  # fmt: skip
    assert clip_piece_args("/w/v.mp4", None, "/w/piece.ts", ffmpeg="ff")[-9:] == [
        "-i", "/w/v.mp4", "-map", "0:v:0", "-c", "copy", "-f", "mpegts", "/w/piece.ts",
    ]  # fmt: skip


def test_a_branded_slate_draws_the_events_colours_and_name() -> None:
    """The event's background and text colours reach the slate (``slate_layout`` adds its name)."""
    args = slate_args(
        "/run/torget/s1/slate.txt", width=1280, height=720, fps=30,
        background="0xfafafa", fontcolor="0x0b57a4",
    )  # fmt: skip
    assert "color=c=0xfafafa:s=1280x720:r=30" in args
    assert "fontcolor=0x0b57a4:" in args[args.index("-vf") + 1]
    with pytest.raises(InvalidArgument, match="fontcolor: must look like 0xffffff"):
        slate_args("/run/s.txt", width=1280, height=720, fps=30, fontcolor="red:x=1")


def test_recording_args_carry_each_caption_track_as_mov_text_with_its_language() -> None:
    """Each caption file is an input mapped as a subtitle stream, encoded as mov_text (the
    video and audio still copied) and tagged with its ISO 639-2 language; the trim seeks only
    the runs (the caption files are timed from the trim's start already)."""
    tracks = [CaptionTrack("/m/s/mp4/captions.swe.0.vtt", "swe"),
              CaptionTrack("/m/s/mp4/captions.eng.1.vtt", "eng")]  # fmt: skip
    assert recording_args("/m/l.txt", "/m/o.mp4", start=2.5, captions=tracks, ffmpeg="ff") == [
        "ff", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", "2.5",
        "-f", "concat", "-safe", "0", "-i", "/m/l.txt",
        "-i", "/m/s/mp4/captions.swe.0.vtt", "-i", "/m/s/mp4/captions.eng.1.vtt",
        "-map", "0", "-map", "1:s:0", "-map", "2:s:0", "-c", "copy", "-c:s", "mov_text",
        "-metadata:s:s:0", "language=swe", "-metadata:s:s:1", "language=eng",
        "-movflags", "+faststart", "-f", "mp4", "/m/o.mp4",
    ]  # fmt: skip
    with pytest.raises(InvalidArgument):
        recording_args("/m/l.txt", "/m/o.mp4", captions=[CaptionTrack("/m/c.vtt", "sv")])
    with pytest.raises(InvalidArgument):
        recording_args("/m/l.txt", "/m/o.mp4", captions=[CaptionTrack("c.vtt", "swe")])


def test_each_interpretation_is_a_voice_pipe_mixed_over_the_original_sound() -> None:
    """An interpretation adds a raw PCM input on its pipe and an AAC output after the original
    sound, mixed from the original (ducked by the voice) and the voice."""
    ladder = LadderSettings(rungs=(), interpretation_languages=("en", "fi"))
    plan = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264), ladder)
    args = live_args(plan, PipeInput(InputFormat.FLV), "/srv/media/s", 3, voices=[7, 9])
    text = " ".join(args)
    assert "-f s16le -ar 48000 -ac 2 -i pipe:7 -f s16le -ar 48000 -ac 2 -i pipe:9" in text
    maps = [args[i + 1] for i, a in enumerate(args) if a == "-map"]
    assert maps == ["0:v:0", "0:a:0", "[voice0]", "[voice1]"]
    graph = args[args.index("-filter_complex") + 1]
    assert graph == interpretation_filters(2)
    assert "[1:a:0]asplit=2[spoken0][key0]" in graph
    assert "[2:a:0]asplit=2[spoken1][key1]" in graph
    assert "[original1][key1]sidechaincompress=" in graph
    assert graph.endswith("[ducked1][spoken1]amix=inputs=2:duration=first:normalize=0[voice1]")
    assert args[args.index("-c:a:2") + 1] == "aac"
    sets = args[args.index("-adaptation_sets") + 1]
    assert sets == "id=0,streams=0 id=1,streams=1 id=2,streams=2 id=3,streams=3"


def test_interpretations_need_one_voice_pipe_each_past_the_standard_streams() -> None:
    """A plan with an interpretation and no pipe, or a pipe numbered like stdin, is refused."""
    ladder = LadderSettings(rungs=(), interpretation_languages=("en",))
    plan = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264), ladder)
    with pytest.raises(InvalidArgument, match="one pipe per interpretation: 1 expected"):
        live_args(plan, PipeInput(InputFormat.FLV), "/srv/media/s", 3)
    with pytest.raises(InvalidArgument, match="a file descriptor from 3 on"):
        live_args(plan, PipeInput(InputFormat.FLV), "/srv/media/s", 3, voices=[0])


def test_the_mp4_carries_the_interpretations_after_the_original_sound() -> None:
    """A run's interpretation audio follows its original sound; the download tags each with
    its language and leaves the original the default."""
    args = run_mp4_args(
        "/m/v.mp4", "/m/a.mp4", "/m/o.mp4", interpretations=["/m/en.mp4", "/m/fi.mp4"]
    )
    maps = [args[i + 1] for i, a in enumerate(args) if a == "-map"]
    assert maps == ["0:v:0", "1:a:0", "2:a:0", "3:a:0"]
    assert args[args.index("/m/a.mp4") + 2 : args.index("/m/fi.mp4") + 1] == [
        "/m/en.mp4", "-i", "/m/fi.mp4",
    ]  # fmt: skip
    joined = recording_args("/l.txt", "/o.mp4", interpretations=["eng", "fin"])
    assert joined[joined.index("-metadata:s:a:1") :][:8] == [
        "-metadata:s:a:1", "language=eng", "-disposition:a:1", "0",
        "-metadata:s:a:2", "language=fin", "-disposition:a:2", "0",
    ]  # fmt: skip
    with pytest.raises(InvalidArgument, match="'english' is not an ISO 639-2 code"):
        recording_args("/l.txt", "/o.mp4", interpretations=["english"])
