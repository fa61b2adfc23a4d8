"""The rules of clips: what span may be clipped, from which sessions, in which aspects."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from studio.captions.formats import TimedLine
from studio.clips import (
    ClipAspect,
    ClipSpan,
    burn_in_lines,
    check_aspects,
    check_clippable,
    clip_span,
)
from studio.errors import Conflict, InvalidInput
from studio.states import SessionState


def refusal(**kwargs: object) -> str:
    """The message of the InvalidInput that ``clip_span(**kwargs)`` raises."""
    with pytest.raises(InvalidInput) as refused:
        clip_span(**kwargs)  # type: ignore[arg-type]
    return refused.value.message


def test_the_last_seconds_end_at_what_is_recorded() -> None:
    """The last 60 s of 100 s recorded are 40..100 on the recording."""
    assert clip_span(recorded=100.0, last_seconds=60) == ClipSpan(40.0, 100.0)


def test_in_and_out_count_from_where_the_replay_begins() -> None:
    """On a trimmed replay (it plays from 12 s of the recording), 5..20 is 17..32."""
    span = clip_span(recorded=100.0, offset=12.0, in_seconds=5.0, out_seconds=20.0)
    assert span == ClipSpan(17.0, 32.0)
    assert span.length == 15.0


def test_an_out_point_a_rounding_past_the_end_is_the_end() -> None:
    """An out point up to 0.05 s past the replay's end is its end."""
    assert clip_span(recorded=30.0, in_seconds=10.0, out_seconds=30.04) == ClipSpan(10.0, 30.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recorded": 30.0}, "give either last_seconds, or in_seconds and out_seconds"),
        (
            {"recorded": 30.0, "last_seconds": 5, "in_seconds": 1.0},
            "give either last_seconds, or in_seconds and out_seconds",
        ),
        ({"recorded": 30.0, "last_seconds": 0.5}, "last_seconds: must be between 1 and 300"),
        ({"recorded": 900.0, "last_seconds": 301}, "last_seconds: must be between 1 and 300"),
        ({"recorded": 30.0, "last_seconds": 45}, "last_seconds: only 30.00 s are recorded so far"),
        (
            {"recorded": 30.0, "offset": 20.0, "last_seconds": 15},
            "last_seconds: only 10.00 s are recorded so far",
        ),
        (
            {"recorded": 30.0, "in_seconds": 1.0, "out_seconds": 5.0, "live": True},
            "in_seconds: while the session is live, clip the last seconds (last_seconds)",
        ),
        ({"recorded": 30.0, "in_seconds": 1.0}, "out_seconds: is required with the other point"),
        ({"recorded": 30.0, "out_seconds": 1.0}, "in_seconds: is required with the other point"),
        (
            {"recorded": 30.0, "in_seconds": -1.0, "out_seconds": 5.0},
            "in_seconds: must not be negative",
        ),
        (
            {"recorded": 30.0, "in_seconds": 5.0, "out_seconds": 5.0},
            "out_seconds: must be after in_seconds",
        ),
        (
            {"recorded": 30.0, "in_seconds": 8.0, "out_seconds": 5.0},
            "out_seconds: must be after in_seconds",
        ),
        (
            {"recorded": 30.0, "in_seconds": 30.0, "out_seconds": 35.0},
            "in_seconds: must be before the end of the replay (30.00 s)",
        ),
        (
            {"recorded": 30.0, "in_seconds": 10.0, "out_seconds": 31.0},
            "out_seconds: must be at most the replay's length (30.00 s)",
        ),
        (
            {"recorded": 900.0, "in_seconds": 10.0, "out_seconds": 400.0},
            "out_seconds: a clip may last at most 300 s (this one: 390.00 s)",
        ),
        (
            {"recorded": 90.0, "in_seconds": 10.0, "out_seconds": 80.0, "limit": 60.0},
            "out_seconds: a clip may last at most 60 s (this one: 70.00 s)",
        ),
        (
            {"recorded": 30.0, "in_seconds": float("nan"), "out_seconds": 5.0},
            "in_seconds: must not be negative",
        ),
    ],
)
def test_a_span_that_cannot_be_clipped_is_refused_saying_why(
    kwargs: dict[str, object], message: str
) -> None:
    """Every bad span is refused with a sentence naming the field and the problem."""
    assert refusal(**kwargs) == message


@pytest.mark.parametrize("state", [SessionState.LIVE, SessionState.REPLAY])
def test_live_and_replay_sessions_can_be_clipped(state: SessionState) -> None:
    """A live session and a published replay have a recording to clip."""
    check_clippable(state)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (SessionState.SCHEDULED, "a session that is scheduled has no recording to clip"),
        (SessionState.READY, "a session that is ready has no recording to clip"),
        (SessionState.CANCELLED, "a session that is cancelled has no recording to clip"),
        (SessionState.ENDED, "the replay is still being built; clip it once it is ready"),
    ],
)
def test_other_sessions_are_refused(state: SessionState, message: str) -> None:
    """A session with nothing (yet) to clip is a conflict that says why."""
    with pytest.raises(Conflict) as refused:
        check_clippable(state)
    assert refused.value.message == message


def test_aspects_are_kept_once_each_in_order_and_one_is_needed() -> None:
    """Repeated aspects collapse; none at all is refused naming the choices."""
    square, wide = ClipAspect.SQUARE, ClipAspect.LANDSCAPE
    assert check_aspects([square, wide, square]) == [square, wide]
    with pytest.raises(InvalidInput) as refused:
        check_aspects([])
    assert refused.value.message == "aspects: choose at least one of 16:9, 9:16, 1:1"


def test_an_aspect_knows_its_ratio() -> None:
    """Each aspect gives its width and height."""
    assert [a.ratio for a in ClipAspect] == [(16, 9), (9, 16), (1, 1)]


@dataclass(frozen=True)
class _Cue:
    start_ms: int
    end_ms: int
    text: str


ZERO_MS = 1_779_260_400_000  # when the session went live: the recording's zero


def _cue(start: float, end: float, text: str) -> _Cue:
    return _Cue(ZERO_MS + round(start * 1000), ZERO_MS + round(end * 1000), text)


def test_a_burn_in_holds_the_cues_shown_within_the_clip() -> None:
    """Of cues at 1..3, 9..11, 12..14 and 30..31 s, a clip of 10..20 s shows the second (cut
    by its in point, kept whole) and the third, timed on the recording's timeline."""
    cues = [_cue(1, 3, "a"), _cue(9, 11, "b"), _cue(12, 14, "c"), _cue(30, 31, "d")]
    assert burn_in_lines(cues, ZERO_MS, ClipSpan(10.0, 20.0)) == [
        TimedLine(9.0, 11.0, "b"),
        TimedLine(12.0, 14.0, "c"),
    ]


def test_a_cue_touching_the_span_only_at_an_edge_is_left_out() -> None:
    """A cue ending at the in point or starting at the out point is not shown in the clip."""
    cues = [_cue(5, 10, "before"), _cue(20, 22, "after")]
    assert burn_in_lines(cues, ZERO_MS, ClipSpan(10.0, 20.0)) == []


def test_a_cue_from_before_the_recording_starts_at_its_zero() -> None:
    """A cue begun before the session went live starts at 0 on the recording."""
    cues = [_cue(-2, 1.5, "early")]
    assert burn_in_lines(cues, ZERO_MS, ClipSpan(0.0, 4.0)) == [TimedLine(0.0, 1.5, "early")]
