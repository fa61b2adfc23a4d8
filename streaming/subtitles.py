"""Caption cues as HLS subtitle renditions: a WebVTT media playlist per caption language that
follows a video rendition segment by segment, and the WebVTT segment beside each video segment.
Pure.

Each WebVTT segment starts with ``X-TIMESTAMP-MAP=MPEGTS:<the video segment's first decode
time, 90 kHz>,LOCAL:00:00:00.000`` and times its cues from the segment's program date time, so
hls.js, Safari and VLC place a cue on the picture it was written for (docs/captions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streaming import names
from streaming.llhls import MediaPlaylist, Segment, SubtitleMedia
from studio.captions.formats import TimedLine, render_vtt

LANGUAGE_NAMES = {
    "sv": "Svenska", "fi": "Suomi", "nb": "Norsk bokmål", "nn": "Norsk nynorsk",
    "en": "English", "da": "Dansk", "de": "Deutsch", "fr": "Français", "es": "Español",
    "se": "Davvisámegiella",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimedCue:
    """A cue on the program date time clock (ms since 1970)."""

    start_ms: int
    end_ms: int
    text: str


def subtitle_media(languages: Sequence[str]) -> list[SubtitleMedia]:
    """The subtitle renditions of the caption languages, named in their own language."""
    return [
        SubtitleMedia(language, LANGUAGE_NAMES.get(language, language)) for language in languages
    ]


def segment_span(segment: Segment) -> tuple[int, int] | None:
    """The program date times (ms) a complete video segment covers; None without a clock."""
    if segment.program_date_time is None or segment.duration is None:
        return None
    start = int(segment.program_date_time.timestamp() * 1000)
    return start, start + round(segment.duration * 1000)


def _timed(segment: Segment) -> bool:
    return segment.complete and segment.program_date_time is not None and segment.mpegts is not None


def render_subtitle_playlist(video: MediaPlaylist, language: str) -> str:
    """The live (or ended) subtitle playlist of ``language``: a WebVTT segment per complete,
    timed segment of ``video``'s window, with the same sequence numbers, discontinuities and
    program date times."""
    window = [s for s in video.window if s.complete]
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{video.target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{window[0].msn if window else video.media_sequence}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{video.discontinuity_sequence}",
    ]
    for segment in window:
        if segment.discontinuity:  # as the video playlist lists it (first one included)
            lines.append("#EXT-X-DISCONTINUITY")
        assert segment.duration is not None
        if segment.program_date_time is not None:
            stamp = segment.program_date_time.isoformat(timespec="milliseconds")
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{stamp.removesuffix('+00:00')}Z")
        lines.append(f"#EXTINF:{segment.duration:.5f},")
        lines.append(names.cues_name(segment.uri, language))
    if video.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def render_cue_segment(segment: Segment, cues: Sequence[TimedCue]) -> str:
    """The WebVTT segment beside ``segment``: the cues that start within it, timed from its
    start (a cue may run on past it: players keep it up until its end)."""
    span = segment_span(segment)
    header = [f"X-TIMESTAMP-MAP=MPEGTS:{segment.mpegts or 0},LOCAL:00:00:00.000"]
    if span is None or not _timed(segment):
        return render_vtt([], header=header)
    start, end = span
    chosen = [
        TimedLine((cue.start_ms - start) / 1000, (cue.end_ms - start) / 1000, cue.text)
        for cue in cues
        if start <= cue.start_ms < end
    ]
    return render_vtt(chosen, header=header)


def find_segment(video: MediaPlaylist, segment_file: str) -> Segment | None:
    """The complete segment of ``video`` named ``segment_file`` (in its kept history)."""
    for segment in reversed(video.segments):
        if segment.uri == segment_file:
            return segment if segment.complete else None
    return None
