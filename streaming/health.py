"""Ingest health: what operators see of a publish while it runs.

``IngestMeter`` (pure) measures bit rates, frame rate, keyframes (the interval is the mean over
the window by the publisher's clock: a browser sends one when asked) and the picture size of
the latest video configuration (a browser changes it as it goes) over a rolling window;
``HealthTap`` feeds it (a ``plane.MediaTap``); ``HealthBoard`` is the node's ``plane.TapFactory``
and table of live measures. See ``docs/architecture.md`` ("Restream and ingest health").
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from streaming.errors import InvalidMedia
from streaming.flv import FlvTag, TagType, avc_config_size
from streaming.ladder import SourceInfo
from streaming.vocab import IngestOrigin
from studio.models import Session


@dataclass(frozen=True)
class Measures:
    """A publish as measured over the meter's window (None: not enough seen yet)."""

    bitrate: int | None
    video_bitrate: int | None
    audio_bitrate: int | None
    fps: float | None
    seconds_since_keyframe: float | None
    keyframe_interval: float | None
    frames: int
    bytes: int
    size: tuple[int, int] | None = None


class IngestMeter:
    """Rolling measures of one publish (see the module docstring). Times are seconds on any
    monotonic clock; the caller passes them, so tests drive it by hand."""

    def __init__(self, window: float = 5.0, *, min_span: float = 0.5) -> None:
        self.window = window
        self.min_span = min_span
        self.frames = 0
        self.bytes = 0
        self._seen: deque[tuple[float, int, bool, bool]] = deque()  # (at, size, video, frame)
        self._first: float | None = None
        self._keyframe_at: float | None = None
        self._keyframes: deque[tuple[float, int]] = deque()  # (arrived at, timestamp ms)
        self._interval: float | None = None
        self._size: tuple[int, int] | None = None

    def add(self, tag: FlvTag, now: float) -> None:
        """Count ``tag``, which arrived at ``now``."""
        if self._first is None:
            self._first = now
        size = len(tag.payload)
        frame = tag.is_frame
        self.bytes += size
        self._seen.append((now, size, tag.kind is TagType.VIDEO, frame))
        if frame:
            self.frames += 1
            if tag.is_keyframe:
                keyframes = self._keyframes
                if keyframes and tag.timestamp <= keyframes[-1][1]:
                    keyframes.clear()  # the publisher's clock went back: start over
                keyframes.append((now, tag.timestamp))
                self._keyframe_at = now
        elif tag.is_video_config:
            with contextlib.suppress(InvalidMedia):
                self._size = avc_config_size(tag)
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._seen and self._seen[0][0] < now - self.window:
            self._seen.popleft()
        keyframes = self._keyframes
        while len(keyframes) > 2 and keyframes[1][0] < now - self.window:
            keyframes.popleft()  # the window's keyframes, and the one before them
        if len(keyframes) >= 2:
            span = keyframes[-1][1] - keyframes[0][1]
            self._interval = round(span / (len(keyframes) - 1) / 1000, 3)

    def measure(self, now: float) -> Measures:
        """The measures at ``now``."""
        self._trim(now)
        since = None if self._keyframe_at is None else round(max(0.0, now - self._keyframe_at), 3)
        span = 0.0 if self._first is None else min(self.window, now - self._first)
        if span < self.min_span:
            return Measures(
                None, None, None, None, since, self._interval, self.frames, self.bytes, self._size
            )
        video = sum(size for _, size, is_video, _ in self._seen if is_video)
        audio = sum(size for _, size, is_video, _ in self._seen if not is_video)
        frames = sum(1 for *_, frame in self._seen if frame)
        return Measures(
            bitrate=round((video + audio) * 8 / span),
            video_bitrate=round(video * 8 / span),
            audio_bitrate=round(audio * 8 / span),
            fps=round(frames / span, 2),
            seconds_since_keyframe=since,
            keyframe_interval=self._interval,
            frames=self.frames,
            bytes=self.bytes,
            size=self._size,
        )


@dataclass
class IngestHealth:
    """One connected publish on this node."""

    session_id: str
    origin: IngestOrigin
    peer: str | None
    connected_since: datetime
    source: SourceInfo
    meter: IngestMeter


class HealthTap:
    """Measures a publish; never blocks, never drops."""

    def __init__(
        self, board: HealthBoard, health: IngestHealth, clock: Callable[[], float]
    ) -> None:
        self.board = board
        self.health = health
        self._clock = clock

    def tag(self, tag: FlvTag) -> None:
        """Count one tag."""
        self.health.meter.add(tag, self._clock())

    async def close(self) -> None:
        """The publish ended: it is no longer listed."""
        self.board.closed(self.health)


Peer = Callable[[str], tuple[IngestOrigin, str | None]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class HealthBoard:
    """The node's ingest health per session (the tap factory for ``MediaPlane.add_tap``)."""

    def __init__(
        self,
        peer: Peer | None = None,
        *,
        window: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._peer = peer
        self.window = window
        self.clock = clock
        self.wall = wall
        self._live: dict[str, IngestHealth] = {}

    def __call__(self, session: Session, source: SourceInfo, first: Sequence[FlvTag]) -> HealthTap:
        """A publish's source is known: start measuring it."""
        origin, peer = (IngestOrigin.RTMP, None) if self._peer is None else self._peer(session.id)
        health = IngestHealth(
            session_id=session.id,
            origin=origin,
            peer=peer,
            connected_since=self.wall(),
            source=source,
            meter=IngestMeter(self.window),
        )
        for tag in first:  # the configurations seen while probing: the picture size
            if tag.is_video_config:
                health.meter.add(tag, self.clock())
        self._live[session.id] = health
        return HealthTap(self, health, self.clock)

    def closed(self, health: IngestHealth) -> None:
        """A publish ended."""
        if self._live.get(health.session_id) is health:
            del self._live[health.session_id]

    def get(self, session_id: str) -> IngestHealth | None:
        """The session's connected publish on this node, if any."""
        return self._live.get(session_id)

    def sessions(self) -> list[IngestHealth]:
        """Every connected publish on this node."""
        return list(self._live.values())
