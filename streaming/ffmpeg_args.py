"""Pure builders of ffmpeg argument lists: the live pipeline, slates, remux, recording, restream,
clips.

Every builder returns a ``list[str]`` (never a shell string) and checks what it puts in: paths
and URLs must match strict patterns, user text never enters an argument. How the dash muxer's
fragments become LL-HLS parts, and the ffmpeg facts relied on: ``docs/architecture.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from streaming import names
from streaming.errors import InvalidArgument
from streaming.ladder import LadderPlan, Rendition
from streaming.vocab import AudioCodec, InputFormat, MediaKind, VideoMode

_SAFE_PATH = re.compile(r"/(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+")
_SAFE_DIR = re.compile(r"/(?:[A-Za-z0-9_.-]+/?)*")
_COLOR = re.compile(r"0x[0-9a-fA-F]{6}")
_INPUT_SCHEMES = frozenset({"rtmp", "rtmps", "srt", "http", "https"})
_PUSH_SCHEMES = frozenset({"rtmp", "rtmps"})
_BASE = ("-hide_banner", "-nostdin", "-loglevel", "warning")

# The frame rate x264's keyframe interval assumes for an irregular (WebRTC) source, whose
# probed rate says little: its keyframes are forced at the source's anyway.
IRREGULAR_MAX_FPS = 60.0


@dataclass(frozen=True)
class PipeInput:
    """A live stream written to ffmpeg's stdin in ``format``."""

    format: InputFormat


@dataclass(frozen=True)
class UrlInput:
    """A live stream ffmpeg pulls from ``url`` (rtmp, rtmps, srt, http, https)."""

    url: str


IngestInput = PipeInput | UrlInput


_LANGUAGE_3 = re.compile(r"[a-z]{3}")


def safe_path(field: str, path: str) -> str:
    """Return ``path`` if it is absolute, plain ASCII (letters, digits, ``_.-/``), no ``..``."""
    if not _SAFE_PATH.fullmatch(path) or any(p in ("..", ".") for p in path.split("/")):
        raise InvalidArgument(field, f"{path!r} is not a plain absolute path")
    return path


def _safe_dir(field: str, path: str) -> str:
    if not _SAFE_DIR.fullmatch(path) or any(p in ("..", ".") for p in path.split("/")):
        raise InvalidArgument(field, f"{path!r} is not a plain absolute path")
    return path.rstrip("/") or "/"


def _safe_url(field: str, url: str, schemes: frozenset[str]) -> str:
    if len(url) > 2048 or not url.isascii() or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidArgument(field, "must be a short ASCII URL without spaces")
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        allowed = ", ".join(sorted(schemes))
        raise InvalidArgument(field, f"must be a URL with a host and scheme {allowed}")
    return url


def redact_url(url: str) -> str:
    """The URL with its last path segment (the stream key) and any query hidden, for logs."""
    parts = urlsplit(url)
    head, _, key = parts.path.rpartition("/")
    path = f"{head}/***" if key else parts.path
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, path, "***" if parts.query else "", ""))


def _input_args(source: IngestInput, analyze_us: int) -> list[str]:
    args = ["-analyzeduration", str(analyze_us)]
    if isinstance(source, PipeInput):
        return [*args, "-f", str(source.format), "-i", "pipe:0"]
    return [*args, "-i", _safe_url("url", source.url, _INPUT_SCHEMES)]


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def live_args(
    plan: LadderPlan,
    source: IngestInput,
    out_dir: str,
    run: int,
    *,
    ffmpeg: str = "ffmpeg",
    analyze_us: int = 1_000_000,
    dropped: Collection[int] = (),
    voices: Sequence[int] = (),
) -> list[str]:
    """The session pipeline: source passed through or transcoded, the ladder, AAC, CMAF parts.

    Output stream *i* is ``carried(plan, dropped)[i]`` (every rendition unless some were
    dropped for overload); ffmpeg writes ``names.init_name(run, i)`` and
    ``names.segment_name(run, i, n)`` into ``out_dir``. Progress (``key=value`` blocks) goes to
    stdout for the health parser; warnings and errors to stderr. ``voices`` are the pipes (file
    descriptors ffmpeg inherits) of the plan's interpretations, in order, raw ``VOICE_FORMAT``
    PCM: each is mixed over the original sound, which ducks while the interpreter speaks and
    is all there is while they are silent or away (``interpretation_filters``).
    """
    directory = _safe_dir("out_dir", out_dir)
    settings = plan.settings
    outputs = carried(plan, dropped)
    video = [r for r in outputs if r.kind is MediaKind.VIDEO]
    if len(voices) != len(plan.interpretations):
        raise InvalidArgument(
            "voices", f"one pipe per interpretation: {len(plan.interpretations)} expected"
        )
    args = [ffmpeg, *_BASE, "-nostats", "-progress", "pipe:1"]
    args += _input_args(source, analyze_us)
    for fd in voices:
        if fd < 3:
            raise InvalidArgument("voices", "a voice pipe is a file descriptor from 3 on")
        args += ["-f", VOICE_FORMAT, "-ar", str(VOICE_RATE), "-ac", str(VOICE_CHANNELS)]
        args += ["-i", f"pipe:{fd}"]
    for _ in video:
        args += ["-map", "0:v:0"]
    if plan.audio is not None:
        args += ["-map", "0:a:0"]
    if voices:
        args += ["-filter_complex", interpretation_filters(len(voices))]
        for n in range(len(voices)):
            args += ["-map", f"[voice{n}]"]
    for v, rendition in enumerate(video):
        if rendition.mode is VideoMode.PASSTHROUGH:
            args += [f"-c:v:{v}", "copy", f"-tag:v:{v}", "avc1"]
            continue
        if plan.passthrough:
            keyframes = "source"
            # An irregular source's frame rate is a guess: keep x264's own keyframes out.
            fps = max(rendition.fps, IRREGULAR_MAX_FPS) if plan.frame_jitter else rendition.fps
            gop = round(fps * settings.max_passthrough_gop * 2)
        else:
            keyframes = f"expr:gte(t,n_forced*{_fmt(settings.segment_seconds)})"
            gop = round(rendition.fps * settings.segment_seconds)
        args += [
            f"-c:v:{v}",
            "libx264",
            f"-filter:v:{v}",
            f"scale={rendition.width}:{rendition.height},setsar=1",
            f"-pix_fmt:v:{v}",
            "yuv420p",
            f"-preset:v:{v}",
            settings.preset,
            # Low latency: no lookahead, no B-frames, sliced threads (no frame-thread delay),
            # so a rung's parts are written as soon as the source's (docs/architecture.md).
            f"-tune:v:{v}",
            "zerolatency",
            f"-bf:v:{v}",
            "0",
            f"-rc-lookahead:v:{v}",
            "0",
            f"-profile:v:{v}",
            rendition.profile or "main",
            f"-b:v:{v}",
            str(rendition.bitrate),
            f"-maxrate:v:{v}",
            str(rendition.bitrate * 11 // 10),
            f"-bufsize:v:{v}",
            str(rendition.bitrate),
            f"-g:v:{v}",
            str(gop),
            f"-sc_threshold:v:{v}",
            "0",
            f"-force_key_frames:v:{v}",
            keyframes,
        ]
        if plan.frame_jitter:
            # Frames as they come: a constant-rate output would drop and duplicate frames of
            # an irregular source, and with them the keyframes forced at the source's.
            args += [f"-fps_mode:v:{v}", "passthrough"]
    if plan.audio is not None:
        args += [
            "-c:a:0",
            "aac",
            "-b:a:0",
            str(plan.audio.bitrate),
            "-ac:a:0",
            "2",
            "-ar:a:0",
            str(settings.audio_sample_rate),
            # Timestamps in whole milliseconds (FLV) jitter around the samples' own clock:
            # without this the muxer drops an AAC frame now and then ("Packet duration ... is
            # out of range"). Gaps over 0.1 s are filled with silence, keeping audio in sync.
            "-filter:a:0",
            "aresample=async=1",
        ]
        for n in range(1, len(voices) + 1):
            args += [f"-c:a:{n}", "aac", f"-b:a:{n}", str(plan.audio.bitrate)]
            args += [f"-ac:a:{n}", "2", f"-ar:a:{n}", str(settings.audio_sample_rate)]
    adaptation_sets = " ".join(f"id={i},streams={i}" for i in range(len(outputs)))
    args += [
        "-f",
        "dash",
        "-seg_duration",
        _fmt(settings.segment_seconds),
        "-frag_type",
        "duration",
        "-frag_duration",
        _fmt(settings.part_seconds),
        "-streaming",
        "1",
        "-window_size",
        "0",
        "-extra_window_size",
        "0",
        "-remove_at_exit",
        "0",
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-adaptation_sets",
        adaptation_sets,
        "-init_seg_name",
        names.init_template(run),
        "-media_seg_name",
        names.media_template(run),
        "-format_options",
        "movflags=+cmaf",
        f"{directory}/{names.manifest_name(run)}",
    ]
    return args


VOICE_FORMAT = "s16le"  # an interpreter's voice as the pipeline reads it: raw PCM,
VOICE_RATE = 48_000  # 48 kHz,
VOICE_CHANNELS = 2  # stereo (192 000 bytes a second)


def interpretation_filters(count: int) -> str:
    """The filter graph mixing ``count`` voices (inputs 1..count) over the original sound
    (input 0's audio) into ``[voice0]``...: the original ducks under a speaking voice (a
    sidechain compressor keyed by it) and comes back in full when the voice is silent."""
    chains = []
    for n in range(count):
        chains += [
            f"[0:a:0]aresample=async=1[original{n}]",
            f"[{n + 1}:a:0]asplit=2[spoken{n}][key{n}]",
            f"[original{n}][key{n}]sidechaincompress="
            f"threshold=0.02:ratio=8:attack=20:release=600[ducked{n}]",
            f"[ducked{n}][spoken{n}]amix=inputs=2:duration=first:normalize=0[voice{n}]",
        ]
    return ";".join(chains)


def carried(plan: LadderPlan, dropped: Collection[int] = ()) -> list[Rendition]:
    """The renditions a run writes, in output order: the plan's, less the ``dropped`` rungs
    (``overload.LoadWatch``; the source is never dropped)."""
    if 0 in dropped:
        raise InvalidArgument("dropped", "the source rendition cannot be dropped")
    return [r for r in plan.renditions if r.index not in dropped]


def slate_args(
    text_file: str,
    *,
    width: int,
    height: int,
    fps: int,
    output: str = "pipe:1",
    duration: float | None = None,
    realtime: bool = True,
    fontfile: str | None = None,
    fontsize: int | None = None,
    background: str = "0x14213d",
    fontcolor: str = "0xffffff",
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """A still slate (solid colour, centred text from ``text_file``, silence) as H.264 + AAC
    MPEG-TS, with a keyframe every second so the live pipeline can pass it through; its
    ``background`` and ``fontcolor`` are the event's branding (``0xrrggbb``).

    ``output`` is ``pipe:1`` (feed a session pipeline) or a plain absolute file path;
    ``fontsize`` is the one ``slate_layout`` chose (default: a sixteenth of the height).
    """
    safe_path("text_file", text_file)
    if output != "pipe:1":
        safe_path("output", output)
    if fontfile is not None:
        safe_path("fontfile", fontfile)
    if not (16 <= width <= 7680 and 16 <= height <= 4320 and width % 2 == 0 and height % 2 == 0):
        raise InvalidArgument("size", f"{width}x{height} must be even and in range")
    if not 1 <= fps <= 120:
        raise InvalidArgument("fps", "must be between 1 and 120")
    if not _COLOR.fullmatch(background):
        raise InvalidArgument("background", "must look like 0x14213d")
    if not _COLOR.fullmatch(fontcolor):
        raise InvalidArgument("fontcolor", "must look like 0xffffff")
    if duration is not None and not 0 < duration <= 86_400:
        raise InvalidArgument("duration", "must be positive and at most a day")
    if fontsize is not None and not 4 <= fontsize <= height:
        raise InvalidArgument("fontsize", "must be between 4 and the height")
    font = f"fontfile={fontfile}:" if fontfile else ""
    fontsize = fontsize or max(12, height // 16)
    drawtext = (
        f"drawtext={font}textfile={text_file}:expansion=none:fontcolor={fontcolor}:"
        f"fontsize={fontsize}:line_spacing={fontsize // 2}:"
        "x=(w-text_w)/2:y=(h-text_h)/2"
    )
    pace = ["-re"] if realtime else []
    args = [
        ffmpeg,
        *_BASE,
        *pace,
        "-f",
        "lavfi",
        "-i",
        f"color=c={background}:s={width}x{height}:r={fps}",
        *pace,
        "-f",
        "lavfi",
        "-i",
        "anullsrc=channel_layout=stereo:sample_rate=48000",
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-vf",
        drawtext,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        "500000",
        "-maxrate",
        "500000",
        "-bufsize",
        "1000000",
        "-g",
        str(fps),
        "-sc_threshold",
        "0",
        "-force_key_frames",
        "expr:gte(t,n_forced*1)",
        "-c:a",
        "aac",
        "-b:a",
        "128000",
        "-ar",
        "48000",
        "-ac",
        "2",
    ]
    if duration is not None:
        args += ["-t", _fmt(duration)]
    args += ["-f", "mpegts", output]
    return args


def remux_args(
    video_playlist: str,
    audio_playlist: str | None,
    output: str,
    *,
    start: float | None = None,
    end: float | None = None,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The MP4 download of a recording: the VOD playlists remuxed with ``-c copy``.

    ``start``/``end`` (seconds) trim the recording; with stream copy the cut falls on the
    keyframe at or before ``start``.
    """
    inputs = [safe_path("video_playlist", video_playlist)]
    if audio_playlist is not None:
        inputs.append(safe_path("audio_playlist", audio_playlist))
    safe_path("output", output)
    if start is not None and start < 0:
        raise InvalidArgument("start", "must not be negative")
    if end is not None and end <= (start or 0):
        raise InvalidArgument("end", "must be after start")
    trim: list[str] = []
    if start is not None:
        trim += ["-ss", _fmt(start)]
    if end is not None:
        trim += ["-to", _fmt(end)]
    args = [ffmpeg, *_BASE[:2], "-loglevel", "error", "-y"]
    for path in inputs:
        args += [*trim, "-i", path]
    args += ["-map", "0:v:0"]
    if audio_playlist is not None:
        args += ["-map", "1:a:0"]
    args += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", output]
    return args


def run_mp4_args(
    video: str,
    audio: str | None,
    output: str,
    *,
    interpretations: Sequence[str] = (),
    ffmpeg: str = "ffmpeg",
    container: str = "mp4",
) -> list[str]:
    """One run of a recording as an MP4: its source video (init + segments, concatenated into
    one fragmented MP4 file) and its audio the same way, then the interpretations' audio (with
    the original sound only), stream-copied side by side."""
    inputs = [safe_path("video", video)]
    if audio is not None:
        inputs.append(safe_path("audio", audio))
        inputs += [safe_path("interpretations", path) for path in interpretations]
    safe_path("output", output)
    args = [ffmpeg, *_BASE[:2], "-loglevel", "error", "-y"]
    for path in inputs:
        args += ["-i", path]
    args += ["-map", "0:v:0"]
    for index in range(1, len(inputs)):
        args += ["-map", f"{index}:a:0"]
    return [*args, "-c", "copy", "-f", container, output]


def concat_list(paths: Sequence[str]) -> str:
    """The concat demuxer's list file naming ``paths`` (plain absolute paths only) in order."""
    if not paths:
        raise InvalidArgument("paths", "at least one file is required")
    lines = ["ffconcat version 1.0"]
    lines += [f"file '{safe_path('paths', path)}'" for path in paths]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CaptionTrack:
    """A WebVTT file to carry in the MP4 download as a subtitle stream, with its language
    (ISO 639-2, three letters: ``swe``)."""

    path: str
    language: str


def recording_args(
    list_file: str,
    output: str,
    *,
    start: float | None = None,
    end: float | None = None,
    captions: Sequence[CaptionTrack] = (),
    interpretations: Sequence[str] = (),
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The MP4 download: the runs' MP4s (``concat_list``) joined with ``-c copy``, faststart,
    and a ``mov_text`` subtitle stream per caption track, tagged with its language. The runs'
    audio streams after the first (the original sound, the default) are the interpretations,
    tagged with ``interpretations`` (ISO 639-2, in order) and not played by default.

    ``start``/``end`` (seconds of the joined timeline) trim it. Stream copy starts at the
    keyframe at or before ``start``; the mp4 muxer writes an edit list so that players begin
    exactly at ``start`` (measured: ``-ss 2.5 -to 7.3`` gives a 4.800 s video stream). The
    caption files are not cut: they are timed from ``start`` already.
    """
    safe_path("list_file", list_file)
    safe_path("output", output)
    if start is not None and (start < 0 or start != start):
        raise InvalidArgument("start", "must not be negative")
    if end is not None and (end != end or end <= (start or 0)):
        raise InvalidArgument("end", "must be after start")
    args = [ffmpeg, *_BASE[:2], "-loglevel", "error", "-y"]
    if start is not None and start > 0:
        args += ["-ss", _fmt(start)]
    if end is not None:
        args += ["-to", _fmt(end)]
    args += ["-f", "concat", "-safe", "0", "-i", list_file]
    for track in captions:
        if not _LANGUAGE_3.fullmatch(track.language):
            raise InvalidArgument("language", f"{track.language!r} is not an ISO 639-2 code")
        args += ["-i", safe_path("captions", track.path)]
    args += ["-map", "0"]
    for index in range(len(captions)):
        args += ["-map", f"{index + 1}:s:0"]
    args += ["-c", "copy"]
    if captions:
        args += ["-c:s", "mov_text"]
    for index, track in enumerate(captions):
        args += [f"-metadata:s:s:{index}", f"language={track.language}"]
    for index, language in enumerate(interpretations, start=1):
        if not _LANGUAGE_3.fullmatch(language):
            raise InvalidArgument("language", f"{language!r} is not an ISO 639-2 code")
        args += [f"-metadata:s:a:{index}", f"language={language}", f"-disposition:a:{index}", "0"]
    return [*args, "-movflags", "+faststart", "-f", "mp4", output]


def restream_args(
    source: IngestInput,
    url: str,
    *,
    audio: AudioCodec | None,
    ffmpeg: str = "ffmpeg",
    analyze_us: int = 1_000_000,
    tc_url: str | None = None,
) -> list[str]:
    """Push the source rendition to an RTMP destination: video copied, AAC copied or encoded.

    FLV carries AAC, so AAC audio is copied and any other codec (Opus from WHIP) is encoded.
    The URL holds the destination's stream key: log it only through ``redact_url``. ``tc_url``:
    the ``tcUrl`` to announce when the URL's host was replaced by the address it resolved to.
    """
    target = _safe_url("url", url, _PUSH_SCHEMES)
    args = [ffmpeg, *_BASE, "-nostats", "-progress", "pipe:1"]
    args += _input_args(source, analyze_us)
    args += ["-map", "0:v:0"]
    if audio is not None:
        args += ["-map", "0:a:0"]
    args += ["-c:v", "copy"]
    if audio is AudioCodec.AAC:
        args += ["-c:a", "copy"]
    elif audio is not None:
        args += ["-c:a", "aac", "-b:a", "128000", "-ar", "48000", "-ac", "2"]
    args += ["-f", "flv", "-flvflags", "no_duration_filesize"]
    if tc_url is not None:
        args += ["-rtmp_tcurl", _safe_url("tc_url", tc_url, _PUSH_SCHEMES)]
    return [*args, target]


@dataclass(frozen=True)
class Crop:
    """A centred rectangle of the picture to keep (``crop`` filter): size and top-left corner."""

    width: int
    height: int
    x: int
    y: int


def clip_piece_args(
    video: str, audio: str | None, output: str, *, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """Segments of a live recording (joined video and audio fMP4 files) side by side in one
    MPEG-TS file, stream-copied: it keeps their timestamps, so they stay in step."""
    return run_mp4_args(video, audio, output, ffmpeg=ffmpeg, container="mpegts")


def clip_args(
    source: str,
    output: str,
    *,
    start: float,
    duration: float,
    concat: bool = False,
    copy: bool = False,
    crop: Crop | None = None,
    subtitles: str | None = None,
    subtitles_at: float = 0.0,
    preset: str = "veryfast",
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """A clip as an MP4 (faststart): ``duration`` s from ``start`` s of ``source`` (a media
    file, or with ``concat`` a concat list of the recording's run MP4s), video and audio.

    ``copy``: stream copy (only right when ``start`` falls on a keyframe, where a copy begins;
    no crop or subtitles then). Otherwise H.264 + AAC, cut to the frame, with the ``crop`` and
    ``subtitles`` (a WebVTT or SRT file whose times are on a timeline where the clip begins at
    ``subtitles_at`` s) burned in.
    """
    safe_path("source", source)
    safe_path("output", output)
    if subtitles is not None:
        safe_path("subtitles", subtitles)
    if not (math.isfinite(start) and start >= 0):
        raise InvalidArgument("start", "must not be negative")
    if not (math.isfinite(duration) and duration > 0):
        raise InvalidArgument("duration", "must be positive")
    if copy and (crop is not None or subtitles is not None):
        raise InvalidArgument("copy", "a stream copy can neither crop nor burn in subtitles")
    if crop is not None and (
        crop.width < 2 or crop.height < 2 or crop.width % 2 or crop.height % 2
    ):
        raise InvalidArgument("crop", f"{crop.width}x{crop.height} must be even and at least 2x2")
    args = [ffmpeg, *_BASE[:2], "-loglevel", "error", "-y", "-ss", _fmt(start)]
    if concat:
        args += ["-f", "concat", "-safe", "0"]
    args += ["-i", source, "-t", _fmt(duration), "-map", "0:v:0", "-map", "0:a:0?"]
    if copy:
        return [*args, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", output]
    filters = []
    if crop is not None:
        filters.append(f"crop={crop.width}:{crop.height}:{crop.x}:{crop.y}")
    if subtitles is not None:
        # The subtitles filter reads the frames' times: shift them onto the captions' timeline
        # for the filter, then back so the clip starts at zero.
        filters += [
            f"setpts=PTS+{_fmt(subtitles_at)}/TB",
            f"subtitles=filename={subtitles}",
            "setpts=PTS-STARTPTS",
        ]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-c:v", "libx264", "-preset", preset, "-crf", "21", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-b:a", "128000"]
    return [*args, "-movflags", "+faststart", "-f", "mp4", output]
