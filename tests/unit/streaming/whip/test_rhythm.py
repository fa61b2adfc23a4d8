"""When the WHIP ingest asks a browser for keyframes: at the segment rhythm, by arrival."""

from __future__ import annotations

import itertools
import math

import pytest

from streaming.whip.rhythm import KeyframeRhythm


def test_the_first_request_goes_out_at_once_and_is_repeated_until_answered() -> None:
    """Before any keyframe: ask now, then again every ``retry`` s while none comes."""
    rhythm = KeyframeRhythm(1.0)
    assert rhythm.due_at() == -math.inf
    rhythm.asked(5.0)
    assert rhythm.due_at() == pytest.approx(5.3)
    assert rhythm.keyframe(0.0, 5.1)
    assert rhythm.due_at() == pytest.approx(6.12)


def test_segments_follow_the_keyframes_arrival_so_every_answer_cuts_one() -> None:
    """Asked when a segment's time is up since its first keyframe arrived, the browser's
    answer (captured after the request) is a segment's length later by its own clock, so
    every answer begins a segment: a simulated browser with 30-80 ms of latency and frames
    every 33 ms gets segments of 1.03-1.15 s, never the two-interval ones a wall-clock
    request every second makes."""
    rhythm = KeyframeRhythm(1.0)
    latency = [0.03, 0.08, 0.05, 0.07, 0.04]
    now, media = 0.0, 0.0
    rhythm.keyframe(media, now + latency[0])
    starts = [media]
    for n in range(1, 60):
        asked = rhythm.due_at()
        rhythm.asked(asked)
        # The next frame captured after the request reaches the browser is a keyframe.
        captured = math.ceil((asked + 0.01) / (1 / 30)) / 30
        assert rhythm.keyframe(captured, captured + latency[n % 5])
        starts.append(captured)
    lengths = [b - a for a, b in itertools.pairwise(starts)]
    assert min(lengths) >= 1.0
    assert max(lengths) <= 1.15


def test_keyframes_a_viewer_asked_for_do_not_move_the_segment() -> None:
    """A keyframe in mid-segment (a WebRTC viewer joined) begins no segment: the next request
    stays due when the segment's time is up; a request in flight holds the next one back by
    ``retry``; a clock that goes back starts over, and so does a keyframe with new parameter
    sets (the pipeline starts a new run at it)."""
    rhythm = KeyframeRhythm(1.0, margin=0.0)
    assert rhythm.keyframe(10.0, 100.0)
    rhythm.asked(100.4)
    assert rhythm.due_at() == pytest.approx(100.7)
    assert not rhythm.keyframe(10.45, 100.5)
    assert rhythm.due_at() == pytest.approx(101.0)
    assert rhythm.keyframe(11.02, 101.1)
    assert rhythm.due_at() == pytest.approx(102.1)
    assert rhythm.keyframe(0.5, 101.3)  # a new track's clock
    assert rhythm.due_at() == pytest.approx(102.3)
    assert rhythm.keyframe(0.9, 101.7, new_run=True)  # new parameter sets: a new ffmpeg run
    assert rhythm.due_at() == pytest.approx(102.7)
