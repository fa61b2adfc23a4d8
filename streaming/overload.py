"""Ladder overload: when the node cannot encode a session's ladder in real time (pure).

``LoadWatch`` is fed ffmpeg's ``-progress`` blocks with the wall clock they came at and how
long, in all, the pipeline has waited for ffmpeg to take its input. Its speed is how much
media ffmpeg wrote per wall second over the last ``window`` seconds (``out_time`` deltas over
clock deltas: ffmpeg's own ``speed=`` is averaged since the run began, so it notices a late
overload only after minutes). A slow speed alone may be a slow publisher: ffmpeg is the one
behind only when its input backs up, so the pipeline must also have waited on ffmpeg's stdin
for at least ``min_blocked`` of the window. Both for a whole window, and it names
one transcoded rendition to drop, the costliest (most pixels) first, then waits ``settle``
seconds (the next run starts, the window refills) before it may drop another. The source
rendition and the audio are never dropped: their viewers keep their latency. A dropped
rendition stays dropped while the session's pipeline lasts (it holds one ``LoadWatch``). See
``docs/architecture.md`` ("Ladder overload").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from streaming.ladder import Rendition
from streaming.vocab import MediaKind, VideoMode


@dataclass(frozen=True)
class OverloadSettings:
    """How slow, for how long, before a rendition goes."""

    window: float = 4.0
    min_speed: float = 0.9
    min_blocked: float = 0.2  # share of the window spent waiting for ffmpeg to read its input
    settle: float = 8.0


def out_seconds(block: Mapping[str, str]) -> float | None:
    """The media time ffmpeg has written, from a progress block (``out_time_us``), or None."""
    text = block.get("out_time_us", block.get("out_time_ms", ""))
    try:
        value = int(text)
    except ValueError:
        return None
    return value / 1_000_000 if value >= 0 else None


def drop_order(renditions: Sequence[Rendition]) -> list[int]:
    """The renditions that may be dropped, the costliest to encode first (never the source,
    never a passed-through rendition, never audio)."""
    rungs = [
        r
        for r in renditions
        if r.kind is MediaKind.VIDEO and r.mode is VideoMode.TRANSCODE and r.index != 0
    ]
    return [r.index for r in sorted(rungs, key=lambda r: (-r.width * r.height, r.index))]


class LoadWatch:
    """Decides which rendition to drop when ffmpeg falls behind (see the module docstring).
    Times are seconds on any monotonic clock; the caller passes them."""

    def __init__(
        self, renditions: Sequence[Rendition], settings: OverloadSettings | None = None
    ) -> None:
        self.settings = settings or OverloadSettings()
        self._order = drop_order(renditions)
        self.dropped: list[int] = []
        # (clock, media seconds written, seconds waited on ffmpeg's input so far)
        self._seen: deque[tuple[float, float, float]] = deque()
        self._quiet_until: float | None = None
        self._speed: float | None = None

    def restart(self, now: float) -> None:
        """A new ffmpeg run began (its ``out_time`` starts over): forget the old samples."""
        self._seen.clear()
        self._speed = None
        self._quiet_until = now + self.settings.settle

    def speed(self) -> float | None:
        """Media seconds written per wall second over the last whole window (None: none yet
        since the watch began or a run started)."""
        return self._speed

    def _measure(self) -> tuple[float, float] | None:
        """(speed, share of the time spent waiting on ffmpeg) over the window, if whole."""
        if len(self._seen) < 2:
            return None
        (t0, m0, b0), (t1, m1, b1) = self._seen[0], self._seen[-1]
        if t1 - t0 < self.settings.window * 0.9:
            return None
        return max(0.0, (m1 - m0) / (t1 - t0)), max(0.0, (b1 - b0) / (t1 - t0))

    def progress(self, now: float, block: Mapping[str, str], blocked: float) -> int | None:
        """Take one progress block that came at ``now`` (``blocked``: seconds the pipeline has
        waited for ffmpeg to take its input, in all); the rendition to drop now, if any."""
        written = out_seconds(block)
        if written is None:
            return None
        if self._seen and written < self._seen[-1][1]:
            self._seen.clear()  # a new run: its clock starts over
            self._speed = None
        self._seen.append((now, written, blocked))
        while len(self._seen) > 2 and self._seen[1][0] <= now - self.settings.window:
            self._seen.popleft()
        measured = self._measure()
        if measured is None:
            return None
        speed, waited = measured
        self._speed = speed
        if self._quiet_until is not None and now < self._quiet_until:
            return None
        if speed >= self.settings.min_speed or waited < self.settings.min_blocked:
            return None
        left = [index for index in self._order if index not in self.dropped]
        if not left:
            return None
        self.dropped.append(left[0])
        self._seen.clear()
        self._quiet_until = now + self.settings.settle
        return left[0]
