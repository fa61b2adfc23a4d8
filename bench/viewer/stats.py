"""What the viewer benchmark's samples say (pure): distance from live, freezes, catch-up.

A sample is what the page's probe (``probe.js``) read every 100 ms: the wall clock ``at``
(ms), the clock burned into the picture on show (``stamp``, ms, or None when unreadable), the
picture's height and the playback rate. Distance from live = ``at - stamp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.media.playlist import Summary as Spread
from bench.media.playlist import summarize

FREEZE = 0.25  # a picture on show this long (s) or longer is a freeze (30 fps: 0.033 s)
NEAR = 0.3  # "back at the target": within this many seconds of it


@dataclass(frozen=True)
class Sample:
    """One probe reading."""

    at: int
    stamp: int | None
    height: int
    rate: float


def spread(values: Sequence[float]) -> Spread | None:
    """p10, median and p90 (with count, min and max) of ``values``; None for none."""
    return summarize(values)


def window(samples: Sequence[Sample], start: int, end: int) -> list[Sample]:
    """The samples taken from ``start`` up to ``end`` (ms)."""
    return [s for s in samples if start <= s.at < end]


def distances(samples: Sequence[Sample]) -> list[float]:
    """Seconds behind live of every readable sample."""
    return [(s.at - s.stamp) / 1000 for s in samples if s.stamp is not None]


def by_height(samples: Sequence[Sample]) -> dict[int, Spread]:
    """Distance from live per picture height (rendition), tallest first."""
    heights = sorted({s.height for s in samples if s.stamp is not None}, reverse=True)
    found = {h: spread(distances([s for s in samples if s.height == h])) for h in heights}
    return {h: d for h, d in found.items() if d is not None}


def first_picture(samples: Sequence[Sample], since: int) -> float | None:
    """Seconds from ``since`` (ms) to the first readable picture after it."""
    for sample in samples:
        if sample.at >= since and sample.stamp is not None:
            return (sample.at - since) / 1000
    return None


def freezes(samples: Sequence[Sample]) -> tuple[int, float]:
    """How many times, and for how long in all (s), one picture stayed on show ``FREEZE`` s or
    longer: the time from the sample that first showed it to the one that showed the next."""
    count, total = 0, 0.0
    shown_at: int | None = None
    shown: int | None = None
    for sample in samples:
        if sample.stamp is None:
            continue
        if sample.stamp != shown:
            if shown_at is not None and (sample.at - shown_at) / 1000 >= FREEZE:
                count += 1
                total += (sample.at - shown_at) / 1000
            shown, shown_at = sample.stamp, sample.at
    return count, round(total, 3)


def recovery(samples: Sequence[Sample], released: int, target: float) -> float | None:
    """Seconds from ``released`` (ms: the network is back after a stall) until the distance is
    within ``NEAR`` of ``target`` and stays there for the rest of the samples (None: never)."""
    after = [s for s in samples if s.at >= released and s.stamp is not None]
    back: int | None = None
    for sample in after:
        assert sample.stamp is not None
        near = (sample.at - sample.stamp) / 1000 <= target + NEAR
        if near and back is None:
            back = sample.at
        elif not near:
            back = None
    return None if back is None else (back - released) / 1000


def fastest(samples: Sequence[Sample]) -> float:
    """The highest playback rate seen (1.0: the player never sped up)."""
    return max((s.rate for s in samples), default=1.0)
