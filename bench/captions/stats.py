"""What the caption benchmark's readings say (pure): each line's time to the screen beside the
viewer's distance from live when it showed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.media.playlist import Summary as Spread
from bench.media.playlist import summarize
from bench.viewer import stats as viewer_stats
from bench.viewer.stats import Sample

AROUND_MS = 1000  # the viewer's distance from live is read over this long before a line shows


@dataclass(frozen=True)
class Line:
    """One caption line: when it was sent (Enter), and when the page first showed it."""

    text: str
    sent: int  # wall clock, ms
    shown: int | None  # wall clock, ms; None: never among the active cues


@dataclass(frozen=True)
class Lateness:
    """A mode's lines: sent to shown, the viewer's own delay then, and the difference."""

    to_screen: Spread | None  # s from Enter to the screen
    delay: Spread | None  # s the viewer's picture was behind live as each line showed
    over_delay: Spread | None  # s the line came after the picture it belongs to
    missed: int  # lines never shown


def lateness(lines: Sequence[Line], samples: Sequence[Sample]) -> Lateness:
    """Each shown line's time to the screen, the viewer's median distance from live in the
    second before it showed, and how much later than that the line came."""
    to_screen: list[float] = []
    delays: list[float] = []
    over: list[float] = []
    for line in lines:
        if line.shown is None:
            continue
        took = (line.shown - line.sent) / 1000
        to_screen.append(took)
        around = viewer_stats.distances(
            viewer_stats.window(samples, line.shown - AROUND_MS, line.shown + 1)
        )
        delay = viewer_stats.spread(around)
        if delay is not None:
            delays.append(delay.median)
            over.append(took - delay.median)
    return Lateness(
        to_screen=summarize(to_screen),
        delay=summarize(delays),
        over_delay=summarize(over),
        missed=sum(1 for line in lines if line.shown is None),
    )
