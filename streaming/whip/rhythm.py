"""When to ask a WebRTC publisher for a keyframe so that segments are cut on time. Pure.

A browser sends a keyframe only when asked (RTCP PLI). ffmpeg's dash muxer cuts a segment at
the first keyframe at least ``segment_seconds`` (by the media's clock) after the keyframe that
began the segment, so a keyframe a moment too early is no cut at all and the segment runs to
the next one: asking every ``segment_seconds`` by the wall clock makes segments of one or two
intervals, and a late answer then makes one longer than TARGETDURATION. Asking once
``segment_seconds`` (and a small margin) have passed since the segment's first keyframe
*arrived* makes the answer's capture time, which is at least that much later by the media's
clock, start the next segment: segments of ``segment_seconds`` plus the round trip. A request
not answered within ``retry`` seconds is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class KeyframeRhythm:
    """Follows a publisher's keyframes (media time and arrival) and says when to ask next."""

    segment_seconds: float
    margin: float = 0.02
    retry: float = 0.3
    _segment_ts: float | None = None  # media time of the keyframe that began the segment
    _segment_at: float | None = None  # when that keyframe arrived
    _asked_at: float | None = None  # the last request, while no keyframe answered it

    def keyframe(self, media_time: float, now: float, *, new_run: bool = False) -> bool:
        """A keyframe of ``media_time`` (seconds, the publisher's clock) arrived at ``now``;
        whether it begins a segment (always when ``new_run``: new parameter sets start a new
        ffmpeg run there)."""
        self._asked_at = None
        start = self._segment_ts
        if start is not None and media_time < start:
            start = None  # the publisher's clock went back (a new track): start over
        if new_run or start is None or media_time - start >= self.segment_seconds:
            self._segment_ts, self._segment_at = media_time, now
            return True
        return False

    def asked(self, now: float) -> None:
        """A request went out at ``now`` (for the rhythm or for a viewer)."""
        self._asked_at = now

    def due_at(self) -> float:
        """When the next request should go out (in the past: now)."""
        if self._asked_at is not None:
            return self._asked_at + self.retry
        if self._segment_at is None:
            return float("-inf")
        return self._segment_at + self.segment_seconds + self.margin
