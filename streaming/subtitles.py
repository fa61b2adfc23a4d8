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
from datetime import UTC, datetime

from streaming import names
from streaming.llhls import MediaPlaylist, Segment, SubtitleMedia, program_date_time_line
from streaming.vod import WHOLE, Trim, VodRendition, VodSegment, decimal, select, target_duration
from studio.captions.formats import HasTimes, TimedLine, render_vtt

LANGUAGE_NAMES = {
    "sv": "Svenska", "fi": "Suomi", "nb": "Norsk bokmål", "nn": "Norsk nynorsk",
    "en": "English", "da": "Dansk", "de": "Deutsch", "fr": "Français", "es": "Español",
    "se": "Davvisámegiella",
}  # fmt: skip
ISO_639_2 = {
    "sv": "swe", "fi": "fin", "nb": "nob", "nn": "nno", "en": "eng", "da": "dan", "de": "deu",
    "fr": "fra", "es": "spa", "se": "sme", "no": "nor", "is": "isl", "et": "est", "lv": "lav",
    "lt": "lit", "pl": "pol", "ru": "rus", "uk": "ukr", "ar": "ara", "so": "som", "fa": "fas",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimedCue:
    """A cue on the program date time clock (ms since 1970)."""

    start_ms: int
    end_ms: int
    text: str


def iso_639_2(language: str) -> str:
    """The three-letter code an MP4 tags a caption language with (``sv`` -> ``swe``); ``und``
    (undetermined) for a tag it has no code for."""
    base = language.split("-")[0].lower()
    if base in ISO_639_2:
        return ISO_639_2[base]
    return base if len(base) == 3 and base.isascii() and base.isalpha() else "und"


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
            lines.append(program_date_time_line(segment.program_date_time))
        lines.append(f"#EXTINF:{segment.duration:.5f},")
        lines.append(names.cues_name(segment.uri, language))
    if video.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def render_cue_segment(segment: Segment, cues: Sequence[TimedCue]) -> str:
    """The WebVTT segment beside ``segment``: the cues that start within it, timed from its
    start (a cue may run on past it: players keep it up until its end)."""
    return _cue_segment(segment.mpegts, segment_span(segment) if _timed(segment) else None, cues)


def _cue_segment(mpegts: int | None, span: tuple[int, int] | None, cues: Sequence[TimedCue]) -> str:
    """A WebVTT segment mapped to the video segment starting at ``mpegts`` (90 kHz) that spans
    ``span`` (program date times, ms): the cues starting within it, timed from its start."""
    header = [f"X-TIMESTAMP-MAP=MPEGTS:{mpegts or 0},LOCAL:00:00:00.000"]
    if span is None:
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


# --- replays --------------------------------------------------------------------------------


def vod_segment_span(segment: VodSegment) -> tuple[int, int] | None:
    """The program date times (ms) a recorded segment covers; None when its run's clock was
    not noted (a recording made before runs noted it)."""
    if segment.program_date_ms is None:
        return None
    return segment.program_date_ms, segment.program_date_ms + round(segment.duration * 1000)


def render_vod_subtitle_playlist(video: VodRendition, language: str, trim: Trim = WHOLE) -> str:
    """The replay's subtitle playlist of ``language``: a WebVTT segment beside each segment of
    ``video`` the (trimmed) replay plays, with the same durations and discontinuities as its
    VOD media playlist (``vod.render_media``); ``PlaylistConflict`` when the trim holds none."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{target_duration(video)}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
    ]
    for index, (_, segments) in enumerate(select(video, trim, required=True)):
        if index > 0:
            lines.append("#EXT-X-DISCONTINUITY")
        for segment in segments:
            if segment.program_date_ms is not None:
                stamp = datetime.fromtimestamp(segment.program_date_ms / 1000, UTC)
                lines.append(program_date_time_line(stamp))
            lines.append(f"#EXTINF:{decimal(segment.duration)},")
            lines.append(names.cues_name(segment.uri, language))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def find_vod_segment(
    video: VodRendition, segment_file: str, trim: Trim = WHOLE
) -> VodSegment | None:
    """The segment of ``video`` named ``segment_file``, if the (trimmed) replay plays it."""
    for _, segments in select(video, trim):
        for segment in segments:
            if segment.uri == segment_file:
                return segment
    return None


def render_vod_cue_segment(segment: VodSegment, cues: Sequence[TimedCue]) -> str:
    """The WebVTT segment beside a recorded segment: mapped to its picture as the live one is
    (``render_cue_segment``), with the cues that start within it."""
    return _cue_segment(segment.mpegts, vod_segment_span(segment), cues)


def recording_position(video: VodRendition, at_ms: int) -> float | None:
    """Where the picture taken in at ``at_ms`` (program date time) plays in the recording of
    ``video``, in seconds from its start: within the segment that covers it, else at the start
    of the next one (before the recording or in a gap between runs); None after the recording
    or when no segment has a clock."""
    position = 0.0
    for run in video.runs:
        for segment in run.segments:
            span = vod_segment_span(segment)
            if span is not None and at_ms < span[1]:
                return position + max(0, at_ms - span[0]) / 1000
            position += segment.duration
    return None


def recording_lines(
    cues: Sequence[HasTimes], video: VodRendition, zero_ms: int, trim: Trim = WHOLE
) -> list[TimedLine]:
    """Cues timed for the MP4 download of the recording of ``video``, cut by ``trim``: each
    where its picture plays (``recording_position``, the segments' clocks), or, for a recording
    whose runs noted no clock, from ``zero_ms`` (when the session went live, as the ``.vtt``
    download). Those outside the (trimmed) recording are left out and none runs past its ends
    (the MP4 would last longer than its picture)."""
    length = (video.duration if trim.end is None else trim.end) - trim.start
    clocked = any(s.program_date_ms is not None for run in video.runs for s in run.segments)
    lines: list[TimedLine] = []
    for cue in cues:
        if clocked:
            start = recording_position(video, cue.start_ms)
            end = recording_position(video, cue.end_ms)
            if start is None:
                continue
        else:
            start = (cue.start_ms - zero_ms) / 1000
            end = (cue.end_ms - zero_ms) / 1000
        shown_from = max(0.0, start - trim.start)
        shown_until = length if end is None else min(end - trim.start, length)
        if shown_until > shown_from:
            lines.append(TimedLine(shown_from, shown_until, cue.text))
    return lines
