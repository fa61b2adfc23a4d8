"""Ladder overload: when the node cannot encode a session's ladder in real time (pure).

``LoadWatch`` is fed ffmpeg's ``-progress`` blocks with the wall clock they came at. Its speed
is how much media ffmpeg wrote per wall second over the last ``window`` seconds (``out_time``
deltas over clock deltas: ffmpeg's own ``speed=`` is averaged since the run began, so it
notices a late overload only after minutes). Below ``min_speed`` for a whole window, it names
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
        self._seen: deque[tuple[float, float]] = deque()  # (clock, media seconds written)
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

    def _measure(self) -> float | None:
        if len(self._seen) < 2:
            return None
        (t0, m0), (t1, m1) = self._seen[0], self._seen[-1]
        if t1 - t0 < self.settings.window * 0.9:
            return None
        return max(0.0, (m1 - m0) / (t1 - t0))

    def progress(self, now: float, block: Mapping[str, str]) -> int | None:
        """Take one progress block that came at ``now``; the rendition to drop now, if any."""
        written = out_seconds(block)
        if written is None:
            return None
        if self._seen and written < self._seen[-1][1]:
            self._seen.clear()  # a new run: its clock starts over
            self._speed = None
        self._seen.append((now, written))
        while len(self._seen) > 2 and self._seen[1][0] <= now - self.settings.window:
            self._seen.popleft()
        speed = self._measure()
        if speed is not None:
            self._speed = speed
        if self._quiet_until is not None and now < self._quiet_until:
            return None
        if speed is None or speed >= self.settings.min_speed:
            return None
        left = [index for index in self._order if index not in self.dropped]
        if not left:
            return None
        self.dropped.append(left[0])
        self._seen.clear()
        self._quiet_until = now + self.settings.settle
        return left[0]
