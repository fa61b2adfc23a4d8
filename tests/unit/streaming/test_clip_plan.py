"""How a clip is cut: crops of each aspect, keyframes, copy or re-encode, the live piece and
where the replay as it plays lies on the recording."""

from __future__ import annotations

import pytest

from streaming.clip_plan import (
    CutPlan,
    crop_for,
    cut_plan,
    keyframe_at_or_before,
    last_run_start,
    live_piece,
    on_keyframe,
    played_range,
    snap_to_keyframe,
)
from streaming.ffmpeg_args import Crop
from streaming.vocab import MediaKind
from streaming.vod import Recording, Trim, VodRendition, VodRun, VodSegment
from studio.clips import ClipAspect, ClipSpan


def run(number: int, rendition: int, durations: list[float]) -> VodRun:
    """A run of one rendition with segments of ``durations``."""
    segments = tuple(
        VodSegment(f"r{number:04d}_{rendition}_{i + 1:06d}.m4s", d, 1000)
        for i, d in enumerate(durations)
    )
    return VodRun(number, f"r{number:04d}_{rendition}_init.mp4", segments)


def recording(width: int = 1280, height: int = 720) -> Recording:
    """Two runs: 3 x 2 s then 4 x 1 s of video (13 s), and audio cut the same way."""
    video = VodRendition(
        "source", MediaKind.VIDEO, "avc1.64001f", width, height,
        (run(1, 0, [2.0, 2.0, 2.0]), run(3, 0, [1.0, 1.0, 1.0, 1.0])),
    )  # fmt: skip
    audio = VodRendition(
        "audio", MediaKind.AUDIO, "mp4a.40.2", runs=(run(1, 1, [2, 2, 2]), run(3, 1, [1] * 4))
    )
    return Recording((video, audio))


@pytest.mark.parametrize(
    ("aspect", "size", "crop"),
    [
        (ClipAspect.LANDSCAPE, (1280, 720), None),
        (ClipAspect.LANDSCAPE, (1920, 1080), None),
        (ClipAspect.PORTRAIT, (1280, 720), Crop(404, 720, 438, 0)),
        (ClipAspect.SQUARE, (1280, 720), Crop(720, 720, 280, 0)),
        (ClipAspect.LANDSCAPE, (640, 480), Crop(640, 360, 0, 60)),
        (ClipAspect.SQUARE, (720, 1280), Crop(720, 720, 0, 280)),
        (ClipAspect.PORTRAIT, (720, 1280), None),
        (ClipAspect.LANDSCAPE, (854, 480), None),
    ],
)
def test_a_crop_is_the_largest_centred_rectangle_of_the_aspect(
    aspect: ClipAspect, size: tuple[int, int], crop: Crop | None
) -> None:
    """Even sizes, centred; none when the picture already has the shape (within rounding)."""
    assert crop_for(aspect, *size) == crop


def test_keyframes_are_where_segments_begin_across_runs() -> None:
    """Segment starts on the recording's timeline are the keyframes a copy can begin on."""
    source = recording().video[0]
    assert keyframe_at_or_before(source, 0.0) == 0.0
    assert keyframe_at_or_before(source, 3.9) == 2.0
    assert keyframe_at_or_before(source, 6.5) == 6.0
    assert keyframe_at_or_before(source, 8.95) == 8.0
    assert keyframe_at_or_before(source, 8.99) == 9.0  # within a frame of 9
    assert on_keyframe(source, 4.0)
    assert on_keyframe(source, 7.01)
    assert not on_keyframe(source, 4.5)


def test_only_the_broadcasts_shape_on_a_keyframe_is_a_stream_copy() -> None:
    """16:9 from a keyframe is copied; off a keyframe re-encoded; crops always re-encoded."""
    rec = recording()
    assert cut_plan(rec, ClipSpan(4.0, 9.0), ClipAspect.LANDSCAPE) == CutPlan(True, None, 1280, 720)
    assert cut_plan(rec, ClipSpan(4.5, 9.0), ClipAspect.LANDSCAPE) == CutPlan(
        False, None, 1280, 720
    )
    assert cut_plan(rec, ClipSpan(4.0, 9.0), ClipAspect.SQUARE) == CutPlan(
        False, Crop(720, 720, 280, 0), 720, 720
    )


def test_a_last_seconds_clip_begins_on_the_keyframe_before_but_not_before_the_floor() -> None:
    """The last 3.5 s of 13 s begin at the keyframe at 9; never before the floor given."""
    rec = recording()
    assert snap_to_keyframe(rec, ClipSpan(9.5, 13.0), 0.0) == ClipSpan(9.0, 13.0)
    assert snap_to_keyframe(rec, ClipSpan(9.5, 13.0), 9.2) == ClipSpan(9.2, 13.0)


def test_a_live_clip_takes_the_last_runs_segments_it_overlaps() -> None:
    """In the last run (from 6 s), 7.5..9.5 needs its segments 2 to 4, beginning at 7 s."""
    rec = recording()
    assert last_run_start(rec) == 6.0
    piece = live_piece(rec, ClipSpan(7.5, 9.5))
    last_video, last_audio = rec.video[0].runs[-1], rec.renditions[1].runs[-1]
    assert piece.video == (last_video, last_video.segments[1:4])
    assert piece.audio == (last_audio, last_audio.segments[1:4])
    assert piece.starts_at == 7.0


def test_a_live_piece_without_sound_has_no_audio() -> None:
    """A recording without an audio rendition gives a piece of video only."""
    silent = Recording((recording().video[0],))
    assert live_piece(silent, ClipSpan(6.0, 8.0)).audio is None


@pytest.mark.parametrize(
    ("trim", "played"),
    [
        (Trim(), (0.0, 10.0)),
        (Trim(start=3.0), (2.0, 10.0)),
        (Trim(start=4.0, end=7.5), (4.0, 8.0)),
        (Trim(end=1.0), (0.0, 2.0)),
    ],
)
def test_the_replay_as_it_plays_is_the_whole_segments_inside_the_trim(
    trim: Trim, played: tuple[float, float]
) -> None:
    """Where the trimmed replay begins and ends on the recording (whole segments)."""
    rec = Recording(
        (VodRendition("source", MediaKind.VIDEO, "avc1", 1280, 720, (run(1, 0, [2.0] * 5),)),)
    )
    assert played_range(rec, trim) == played
