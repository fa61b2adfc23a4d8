"""The rendition ladder: which renditions one live session gets, decided from the source alone.

Pure: ``plan_ladder(source, settings)`` returns a ``LadderPlan`` (renditions, target duration,
part targets, PART-HOLD-BACK). The rules are in ``docs/architecture.md`` ("Ladder").
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field

from streaming.errors import InvalidArgument
from streaming.vocab import MediaKind, VideoCodec, VideoMode

AAC_FRAME_SAMPLES = 1024
_RUNG_NAME = re.compile(r"^[1-9][0-9]{2,3}p$")
_PROFILES = frozenset({"baseline", "main", "high"})


@dataclass(frozen=True)
class Rung:
    """One lower rendition of the ladder: a height and its video bit rate (bits per second)."""

    name: str
    height: int
    video_bitrate: int
    profile: str = "main"


DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung("720p", 720, 2_800_000, "high"),
    Rung("480p", 480, 1_400_000),
    Rung("360p", 360, 800_000),
)


@dataclass(frozen=True)
class SourceInfo:
    """What the ingest delivers, as probed or reported by the publisher."""

    width: int
    height: int
    fps: float
    video_codec: VideoCodec
    has_audio: bool = True
    video_bitrate: int | None = None
    keyframe_interval: float | None = None
    # How late a frame may come, in seconds: a WebRTC source's frames come when the sender's
    # encoder makes them, at a rate it changes as it goes (``jittery_part_seconds``).
    frame_jitter: float = 0.0


@dataclass(frozen=True)
class LadderSettings:
    """Operator-tunable knobs of the ladder and of the segmenting."""

    rungs: tuple[Rung, ...] = DEFAULT_LADDER
    segment_seconds: float = 1.0
    part_seconds: float = 0.2
    max_passthrough_gop: float = 2.0
    audio_bitrate: int = 128_000
    audio_sample_rate: int = 48_000
    transcode_bits_per_pixel: float = 0.1
    source_bitrate_fallback: int = 6_000_000
    preset: str = "veryfast"
    # One audio rendition per language an interpreter may speak (``interpretation_rendition``).
    interpretation_languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendition:
    """One output stream of the session's ffmpeg (its index is the DASH representation id)."""

    index: int
    name: str
    kind: MediaKind
    mode: VideoMode | None
    width: int
    height: int
    fps: float
    bitrate: int
    profile: str | None
    part_target: float
    language: str | None = None  # an interpretation's language (audio renditions)


@dataclass(frozen=True)
class LadderPlan:
    """The renditions of one session and the playlist timing they imply."""

    renditions: tuple[Rendition, ...]
    settings: LadderSettings
    passthrough: bool
    target_duration: int
    part_hold_back: float
    # How late the source's frames may come (``SourceInfo.frame_jitter``): 0 for a steady one.
    frame_jitter: float = 0.0
    video: tuple[Rendition, ...] = field(init=False)
    audio: Rendition | None = field(init=False)  # the original sound
    interpretations: tuple[Rendition, ...] = field(init=False)  # the interpreters' languages

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "video", tuple(r for r in self.renditions if r.kind is MediaKind.VIDEO)
        )
        audio = [r for r in self.renditions if r.kind is MediaKind.AUDIO]
        original = [r for r in audio if r.language is None]
        object.__setattr__(self, "audio", original[0] if original else None)
        object.__setattr__(self, "interpretations", tuple(r for r in audio if r.language))


def video_part_target(part_seconds: float, fps: float) -> float:
    """The longest fragment ffmpeg cuts for ``part_seconds`` at ``fps``: whole frames."""
    frames = math.ceil(part_seconds * fps - 1e-9)
    return frames / fps


def audio_part_target(part_seconds: float, sample_rate: int) -> float:
    """The longest AAC fragment ffmpeg cuts for ``part_seconds``: whole 1024-sample frames."""
    frames = math.ceil(part_seconds * sample_rate / AAC_FRAME_SAMPLES - 1e-9)
    return frames * AAC_FRAME_SAMPLES / sample_rate


def even_width(source_width: int, source_height: int, height: int) -> int:
    """The even width that keeps the source's aspect ratio at ``height``."""
    return max(2, round(source_width * height / source_height / 2) * 2)


def _check_settings(settings: LadderSettings) -> None:
    if not 0.1 <= settings.part_seconds <= 1.0:
        raise InvalidArgument("part_seconds", "must be between 0.1 and 1.0 seconds")
    if not settings.part_seconds * 2 <= settings.segment_seconds <= 10:
        raise InvalidArgument(
            "segment_seconds", "must be at least two parts long and at most 10 seconds"
        )
    if not settings.segment_seconds <= settings.max_passthrough_gop <= 10:
        raise InvalidArgument(
            "max_passthrough_gop", "must be between segment_seconds and 10 seconds"
        )
    if settings.audio_sample_rate not in (44_100, 48_000):
        raise InvalidArgument("audio_sample_rate", "must be 44100 or 48000")
    if not 32_000 <= settings.audio_bitrate <= 320_000:
        raise InvalidArgument("audio_bitrate", "must be between 32000 and 320000")
    if settings.preset not in ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium"):
        raise InvalidArgument("preset", f"unknown x264 preset {settings.preset!r}")
    names: set[str] = set()
    for rung in settings.rungs:
        if not _RUNG_NAME.match(rung.name):
            raise InvalidArgument("rungs", f"rung name {rung.name!r} must look like '720p'")
        if rung.name in names:
            raise InvalidArgument("rungs", f"rung name {rung.name!r} appears twice")
        names.add(rung.name)
        if rung.height < 144 or rung.height > 4320 or rung.height % 2:
            raise InvalidArgument("rungs", f"rung {rung.name} height must be even, 144 to 4320")
        if not 100_000 <= rung.video_bitrate <= 50_000_000:
            raise InvalidArgument("rungs", f"rung {rung.name} bit rate must be 100000 to 50000000")
        if rung.profile not in _PROFILES:
            raise InvalidArgument(
                "rungs", f"rung {rung.name} profile must be baseline, main or high"
            )


def _check_source(source: SourceInfo) -> None:
    if not (16 <= source.width <= 7680 and 16 <= source.height <= 4320):
        raise InvalidArgument("source", f"size {source.width}x{source.height} is out of range")
    if not 1 <= source.fps <= 240:
        raise InvalidArgument("source", f"frame rate {source.fps} is out of range")


def longest_segment(source: SourceInfo, settings: LadderSettings, passthrough: bool) -> float:
    """How long a segment can last: ffmpeg cuts at the first keyframe at or past
    ``segment_seconds``, so a passed-through source with a measured keyframe interval ``k``
    makes segments of ``segment_seconds`` rounded up to whole ``k``; an unmeasured one, or one
    whose first GOP was shorter than a segment, may take up to ``max_passthrough_gop``;
    transcoded renditions get keyframes on the dot."""
    if not passthrough:
        return settings.segment_seconds
    k = source.keyframe_interval
    if k is None or k < 0.9 * settings.segment_seconds:
        # Unknown, or shorter than a segment (a scene cut, a keyframe on request): the next
        # GOPs may be longer, up to what passthrough allows.
        return settings.max_passthrough_gop
    return min(math.ceil(settings.segment_seconds / k - 1e-6) * k, settings.max_passthrough_gop)


def jittery_part_seconds(settings: LadderSettings, jitter: float) -> float:
    """The fragment length ``D`` for a source whose frames may come ``jitter`` s late.

    ffmpeg closes a fragment at the first frame at or past ``D`` from its start, so a fragment
    lasts ``D`` plus however late that frame is, whatever the frame rate (a browser changes
    its own as it goes). Every part but a segment's last must last at least 85 % of
    PART-TARGET (draft-pantos-hls-rfc8216bis, EXT-X-PART): with PART-TARGET just under
    ``D / 0.85`` (``jittery_part_target``), a frame may come ``0.15 / 0.85 * D`` late, so
    ``D >= jitter * 0.85 / 0.15``; never shorter than ``part_seconds``, never longer than half
    a segment; a multiple of 50 ms.
    """
    wanted = math.ceil(jitter * 0.85 / 0.15 * 20 - 1e-9) / 20
    return min(max(settings.part_seconds, wanted), settings.segment_seconds / 2)


def jittery_part_target(part_seconds: float) -> float:
    """PART-TARGET for fragments of at least ``part_seconds`` cut at irregular frames: as
    long as the 85 % rule allows, less 2 ms for millisecond timestamps, whole milliseconds."""
    return math.floor(part_seconds / 0.85 * 1000 - 2 + 1e-6) / 1000


INTERPRETATION_PREFIX = "audio-"


def interpretation_rendition(language: str) -> str:
    """The name of the audio rendition of an interpretation (``audio-en``)."""
    return f"{INTERPRETATION_PREFIX}{language}"


def interpretation_language(rendition: str) -> str | None:
    """The language of an interpretation's audio rendition (``audio-en``: ``en``), else None."""
    if rendition.startswith(INTERPRETATION_PREFIX):
        return rendition.removeprefix(INTERPRETATION_PREFIX)
    return None


def _audio_rendition(index: int, settings: LadderSettings, language: str | None) -> Rendition:
    return Rendition(
        index=index,
        name="audio" if language is None else interpretation_rendition(language),
        kind=MediaKind.AUDIO,
        mode=None,
        width=0,
        height=0,
        fps=0.0,
        bitrate=settings.audio_bitrate,
        profile=None,
        part_target=audio_part_target(settings.part_seconds, settings.audio_sample_rate),
        language=language,
    )


def plan_ladder(source: SourceInfo, settings: LadderSettings | None = None) -> LadderPlan:
    """Decide the renditions for ``source``: source first, smaller rungs, then audio."""
    settings = settings or LadderSettings()
    _check_settings(settings)
    _check_source(source)
    gop_ok = (
        source.keyframe_interval is None or source.keyframe_interval <= settings.max_passthrough_gop
    )
    passthrough = source.video_codec is VideoCodec.H264 and gop_ok
    if source.frame_jitter > 0:
        part_seconds = jittery_part_seconds(settings, source.frame_jitter)
        settings = dataclasses.replace(settings, part_seconds=part_seconds)
        video_target = jittery_part_target(part_seconds)
    else:
        video_target = video_part_target(settings.part_seconds, source.fps)
    renditions: list[Rendition] = []
    if passthrough:
        renditions.append(
            Rendition(
                index=0,
                name="source",
                kind=MediaKind.VIDEO,
                mode=VideoMode.PASSTHROUGH,
                width=source.width,
                height=source.height,
                fps=source.fps,
                bitrate=source.video_bitrate or settings.source_bitrate_fallback,
                profile=None,
                part_target=video_target,
            )
        )
    else:
        width, height = source.width - source.width % 2, source.height - source.height % 2
        bitrate = round(width * height * source.fps * settings.transcode_bits_per_pixel, -3)
        renditions.append(
            Rendition(
                index=0,
                name="source",
                kind=MediaKind.VIDEO,
                mode=VideoMode.TRANSCODE,
                width=width,
                height=height,
                fps=source.fps,
                bitrate=int(bitrate),
                profile="high",
                part_target=video_target,
            )
        )
    lower = sorted((r for r in settings.rungs if r.height < source.height), key=lambda r: -r.height)
    for rung in lower:
        renditions.append(
            Rendition(
                index=len(renditions),
                name=rung.name,
                kind=MediaKind.VIDEO,
                mode=VideoMode.TRANSCODE,
                width=even_width(source.width, source.height, rung.height),
                height=rung.height,
                fps=source.fps,
                bitrate=rung.video_bitrate,
                profile=rung.profile,
                part_target=video_target,
            )
        )
    if source.has_audio:
        # The interpreters' sound is mixed over the original's: none without it.
        for language in (None, *settings.interpretation_languages):
            renditions.append(_audio_rendition(len(renditions), settings, language))
    # A segment's duration rounded to the nearest second must not exceed the target (RFC 8216
    # 4.4.3.1); 10 % of margin covers a measured keyframe interval that wobbles a little.
    target_duration = max(1, math.floor(longest_segment(source, settings, passthrough) * 1.1 + 0.5))
    # Three times the largest PART-TARGET as rendered (rounded up to 5 decimals), rounded up.
    largest_part = max(math.ceil(r.part_target * 100_000 - 1e-6) / 100_000 for r in renditions)
    part_hold_back = math.ceil(3 * largest_part * 1000 - 1e-6) / 1000
    return LadderPlan(
        renditions=tuple(renditions),
        settings=settings,
        passthrough=passthrough,
        target_duration=target_duration,
        part_hold_back=part_hold_back,
        frame_jitter=source.frame_jitter,
    )
