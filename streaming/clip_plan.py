"""How a clip is cut from a recording. Pure.

A clip of the replay is cut from the recording's run MP4s (their concat list); a clip while
live is cut from the last run's segments, joined into one piece (``LivePiece``). ``crop_for``
gives the centred crop of an aspect, ``cut_plan`` whether the cut can be a stream copy: only
for the broadcast's own shape when the in point falls on a keyframe (a segment's start),
otherwise the clip is re-encoded, cut to the frame (docs/operations.md, "Clips").
"""

from __future__ import annotations

from dataclasses import dataclass

from streaming.ffmpeg_args import Crop
from streaming.vod import Recording, Trim, VodRendition, VodRun, VodSegment
from studio.clips import ClipAspect, ClipSpan

#: How close to a segment's start an in point counts as on its keyframe (a frame at 50 fps).
KEYFRAME_TOLERANCE = 0.02
_EPSILON = 1e-6
#: How far the picture may be from an aspect and still count as having it (rounding).
ASPECT_TOLERANCE = 0.01


def _even(value: float, least: int = 2) -> int:
    return max(least, int(value) // 2 * 2)


def crop_for(aspect: ClipAspect, width: int, height: int) -> Crop | None:
    """The largest centred rectangle of ``aspect`` in a ``width`` x ``height`` picture (even
    sizes), or None when the picture already has that shape."""
    across, down = aspect.ratio
    if abs(width * down - height * across) <= ASPECT_TOLERANCE * height * across:
        return None
    if width * down > height * across:  # wider than the aspect: keep the full height
        kept_width, kept_height = _even(height * across / down), _even(height)
    else:
        kept_width, kept_height = _even(width), _even(width * down / across)
    x, y = _even((width - kept_width) / 2, 0), _even((height - kept_height) / 2, 0)
    return Crop(kept_width, kept_height, x, y)


def segment_starts(rendition: VodRendition) -> list[tuple[VodRun, VodSegment, float]]:
    """Every segment of ``rendition`` with the run it belongs to and where it starts on the
    recording's timeline."""
    placed = []
    position = 0.0
    for run in rendition.runs:
        for segment in run.segments:
            placed.append((run, segment, position))
            position += segment.duration
    return placed


def keyframe_at_or_before(rendition: VodRendition, at: float) -> float:
    """The start of the segment holding ``at`` (each segment begins on a keyframe)."""
    best = 0.0
    for _run, _segment, start in segment_starts(rendition):
        if start > at + KEYFRAME_TOLERANCE:
            break
        best = start
    return best


def on_keyframe(rendition: VodRendition, at: float) -> bool:
    """Whether ``at`` falls on a segment's start (a keyframe), within a frame."""
    return abs(keyframe_at_or_before(rendition, at) - at) <= KEYFRAME_TOLERANCE


@dataclass(frozen=True)
class CutPlan:
    """How to cut one clip: stream copy or re-encode with a crop; its picture size."""

    copy: bool
    crop: Crop | None
    width: int
    height: int


def cut_plan(recording: Recording, span: ClipSpan, aspect: ClipAspect) -> CutPlan:
    """Stream copy when the recording already has the aspect and the in point is on a keyframe;
    otherwise a re-encode (cropped to the aspect when the picture has another shape)."""
    source = recording.video[0]
    crop = crop_for(aspect, source.width, source.height)
    copy = crop is None and on_keyframe(source, span.start)
    if crop is None:
        return CutPlan(copy, None, source.width, source.height)
    return CutPlan(False, crop, crop.width, crop.height)


@dataclass(frozen=True)
class LivePiece:
    """The segments of the last run a live clip needs, and where they begin on the timeline."""

    video: tuple[VodRun, tuple[VodSegment, ...]]
    audio: tuple[VodRun, tuple[VodSegment, ...]] | None
    starts_at: float


def _covering(
    rendition: VodRendition, run_number: int, span: ClipSpan
) -> tuple[VodRun, tuple[VodSegment, ...], float]:
    """The run's segments overlapping ``span``, and where the first begins."""
    run = next(r for r in rendition.runs if r.run == run_number)
    kept: list[VodSegment] = []
    first = 0.0
    for owner, segment, start in segment_starts(rendition):
        if owner.run != run_number or start + segment.duration <= span.start or start >= span.end:
            continue
        if not kept:
            first = start
        kept.append(segment)
    return run, tuple(kept), first


def last_run_start(recording: Recording) -> float:
    """Where the recording's last run begins on its timeline (a live clip stays inside it)."""
    source = recording.video[0]
    return source.duration - source.runs[-1].duration


def live_piece(recording: Recording, span: ClipSpan) -> LivePiece:
    """The segments of the recording's last run that a live clip of ``span`` needs."""
    source = recording.video[0]
    number = source.runs[-1].run
    run, segments, starts_at = _covering(source, number, span)
    audio = recording.audio
    audio_part = None
    if audio is not None and any(r.run == number for r in audio.runs):
        audio_run, audio_segments, _ = _covering(audio, number, span)
        if audio_segments:
            audio_part = (audio_run, audio_segments)
    return LivePiece((run, segments), audio_part, starts_at)


def played_range(recording: Recording, trim: Trim) -> tuple[float, float]:
    """Where the replay as it plays (its VOD playlists: whole segments inside the trim) begins
    and ends on the recording's timeline."""
    kept = [
        (start, start + segment.duration)
        for _run, segment, start in segment_starts(recording.video[0])
        if start + segment.duration > trim.start + _EPSILON
        and (trim.end is None or start < trim.end - _EPSILON)
    ]
    if not kept:
        return 0.0, recording.duration
    return kept[0][0], kept[-1][1]


def snap_to_keyframe(recording: Recording, span: ClipSpan, floor: float) -> ClipSpan:
    """``span`` begun on the keyframe at or before its start (not before ``floor``), so that
    the clip of the broadcast's shape can be a stream copy."""
    start = max(floor, keyframe_at_or_before(recording.video[0], span.start))
    return ClipSpan(start, span.end)
