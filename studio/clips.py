"""Clips of a session for social media: their vocabulary (aspects, states), the record kept of
each, and the pure rules of what may be clipped (``clip_span``). No I/O.

A clip is asked for either as the last N seconds (while live or on the replay) or as in and out
points on the replay as it plays; it is cut from the recording by the media plane
(``streaming.clipper``), one MP4 per aspect, optionally with one caption language burned in
(``burn_in_lines``: the cues shown within the clip, on the recording's timeline).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from studio.captions.formats import HasTimes, TimedLine, lines_from
from studio.errors import Conflict, InvalidInput
from studio.states import SessionState

#: The longest clip, in seconds (social media clips are short; cutting is bounded too).
MAX_CLIP_SECONDS = 300.0


class ClipAspect(enum.StrEnum):
    """The picture shape of a clip: the broadcast's 16:9, or a centred crop for phones."""

    LANDSCAPE = "16:9"
    PORTRAIT = "9:16"
    SQUARE = "1:1"

    @property
    def ratio(self) -> tuple[int, int]:
        """Width and height of the shape (16, 9)."""
        width, height = self.value.split(":")
        return int(width), int(height)


class ClipState(enum.StrEnum):
    """Where a clip is: being cut, ready to download, or failed (with the reason)."""

    CUTTING = "cutting"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ClipRecord:
    """One clip of a session in one aspect: the span asked for and, once cut, what it holds."""

    id: str
    session_id: str
    aspect: ClipAspect
    state: ClipState
    message: str
    in_seconds: float
    out_seconds: float
    duration: float | None
    width: int | None
    height: int | None
    size_bytes: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    #: The caption language burned into the picture, if any.
    captions: str | None = None


@dataclass(frozen=True, slots=True)
class ClipSpan:
    """Where a clip begins and ends, in seconds on the recording's timeline."""

    start: float
    end: float

    @property
    def length(self) -> float:
        """Seconds between the in and out points."""
        return self.end - self.start


def check_clippable(state: SessionState) -> None:
    """Refuse (Conflict) to clip a session with nothing recorded to cut from."""
    if state is SessionState.ENDED:
        raise Conflict("the replay is still being built; clip it once it is ready")
    if state not in (SessionState.LIVE, SessionState.REPLAY):
        raise Conflict(f"a session that is {state.value} has no recording to clip")


def _seconds(field: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(field, "must not be negative")
    return value


def clip_span(
    *,
    recorded: float,
    offset: float = 0.0,
    last_seconds: float | None = None,
    in_seconds: float | None = None,
    out_seconds: float | None = None,
    live: bool = False,
    limit: float = MAX_CLIP_SECONDS,
) -> ClipSpan:
    """The span of a clip on the recording's timeline, or ``InvalidInput`` saying what is wrong.

    ``recorded`` is the recording's length so far; ``offset`` is where the part that may be
    clipped begins on it (the replay as it plays, after its trim; while live, the picture's
    last restart): in and out points count from there.
    """
    has_points = in_seconds is not None or out_seconds is not None
    if (last_seconds is None) == (not has_points):
        raise InvalidInput("", "give either last_seconds, or in_seconds and out_seconds")
    if last_seconds is not None:
        if not math.isfinite(last_seconds) or not 1 <= last_seconds <= limit:
            raise InvalidInput("last_seconds", f"must be between 1 and {limit:g}")
        if last_seconds > recorded - offset + 0.05:
            available = recorded - offset
            raise InvalidInput("last_seconds", f"only {available:.2f} s are recorded so far")
        return ClipSpan(max(offset, recorded - last_seconds), recorded)
    if live:
        raise InvalidInput(
            "in_seconds", "while the session is live, clip the last seconds (last_seconds)"
        )
    if in_seconds is None or out_seconds is None:
        missing = "in_seconds" if in_seconds is None else "out_seconds"
        raise InvalidInput(missing, "is required with the other point")
    start = _seconds("in_seconds", in_seconds)
    end = _seconds("out_seconds", out_seconds)
    played = recorded - offset
    if end <= start:
        raise InvalidInput("out_seconds", "must be after in_seconds")
    if end - start > limit:
        raise InvalidInput(
            "out_seconds", f"a clip may last at most {limit:g} s (this one: {end - start:.2f} s)"
        )
    if start >= played:
        raise InvalidInput("in_seconds", f"must be before the end of the replay ({played:.2f} s)")
    if end > played + 0.05:
        raise InvalidInput("out_seconds", f"must be at most the replay's length ({played:.2f} s)")
    return ClipSpan(offset + start, offset + min(end, played))


def check_aspects(aspects: list[ClipAspect]) -> list[ClipAspect]:
    """The aspects asked for, each once and in order; at least one."""
    if not aspects:
        choices = ", ".join(a.value for a in ClipAspect)
        raise InvalidInput("aspects", f"choose at least one of {choices}")
    return list(dict.fromkeys(aspects))


def burn_in_lines(cues: Sequence[HasTimes], zero_ms: int, span: ClipSpan) -> list[TimedLine]:
    """The cues shown within ``span``, timed on the recording's timeline (``zero_ms``: the
    program date time of its start, when the session went live), as the clip's subtitle file
    holds them: a cue cut by the in or out point is kept whole (the picture shows its part)."""
    return [
        line
        for line in lines_from(cues, zero_ms)
        if line.end > span.start and line.start < span.end
    ]
