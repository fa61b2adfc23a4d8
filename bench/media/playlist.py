"""A small HLS playlist reader for the benchmark's clients (pure: text in, dataclasses out).

It understands what a player needs to follow a live LL-HLS media playlist: target duration,
media sequence, ``EXT-X-MAP``, segments, parts (``EXT-X-PART``), the preload hint, server
control (``PART-HOLD-BACK``, ``CAN-BLOCK-RELOAD``) and ``EXT-X-ENDLIST``; and the variants of
a multivariant playlist. Anything else is ignored, as players do.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')

#: hls.js ``liveSyncDurationCount``: a classic HLS player starts this many targets behind live.
HLS_JS_SYNC_COUNT = 3


def attributes(text: str) -> dict[str, str]:
    """An attribute list (``A=1,B="x,y"``) as a dict, quotes removed."""
    return {key: value.strip('"') for key, value in _ATTRIBUTE.findall(text)}


@dataclass(frozen=True)
class Part:
    """One ``EXT-X-PART``."""

    uri: str
    duration: float
    independent: bool


@dataclass(frozen=True)
class Segment:
    """A media segment; ``uri`` is None for the open segment at the live edge (parts only)."""

    msn: int
    uri: str | None
    duration: float
    parts: tuple[Part, ...]
    map_uri: str | None
    discontinuity: bool


@dataclass(frozen=True)
class MediaPlaylist:
    """A parsed media playlist."""

    target_duration: float
    media_sequence: int
    part_target: float | None
    part_hold_back: float | None
    can_block_reload: bool
    segments: tuple[Segment, ...]
    preload_hint: str | None
    ended: bool

    @property
    def complete(self) -> tuple[Segment, ...]:
        """The segments a classic (non-LL) HLS player can fetch: those with a URI."""
        return tuple(s for s in self.segments if s.uri is not None)

    @property
    def live_edge(self) -> tuple[int, int] | None:
        """(MSN, part index) of the last part listed; None when no part is listed."""
        for segment in reversed(self.segments):
            if segment.parts:
                return segment.msn, len(segment.parts) - 1
        return None

    def next_part(self) -> tuple[int, int]:
        """The ``_HLS_msn`` / ``_HLS_part`` an LL-HLS client asks for next (the part after
        the last one listed)."""
        if not self.segments:
            return self.media_sequence, 0
        last = self.segments[-1]
        if last.uri is None:
            return last.msn, len(last.parts)
        return last.msn + 1, 0

    def hold_back(self, low_latency: bool) -> float:
        """How far behind the live edge hls.js plays: ``PART-HOLD-BACK`` in low-latency mode,
        else ``liveSyncDurationCount`` (3) target durations."""
        if low_latency and self.part_hold_back is not None:
            return self.part_hold_back
        return HLS_JS_SYNC_COUNT * self.target_duration


def parse_media(text: str) -> MediaPlaylist:
    """Parse a media playlist; raise ValueError when it is not one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not a playlist: no #EXTM3U")
    target: float | None = None
    sequence = 0
    part_target: float | None = None
    hold_back: float | None = None
    blocking = False
    hint: str | None = None
    ended = False
    segments: list[Segment] = []
    parts: list[Part] = []
    map_uri: str | None = None
    discontinuity = False
    duration: float | None = None
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-TARGETDURATION":
            target = float(value)
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            sequence = int(value)
        elif tag == "#EXT-X-PART-INF":
            part_target = float(attributes(value)["PART-TARGET"])
        elif tag == "#EXT-X-SERVER-CONTROL":
            attrs = attributes(value)
            blocking = attrs.get("CAN-BLOCK-RELOAD") == "YES"
            if "PART-HOLD-BACK" in attrs:
                hold_back = float(attrs["PART-HOLD-BACK"])
        elif tag == "#EXT-X-MAP":
            map_uri = attributes(value)["URI"]
        elif tag == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif tag == "#EXT-X-PART":
            attrs = attributes(value)
            parts.append(
                Part(attrs["URI"], float(attrs["DURATION"]), attrs.get("INDEPENDENT") == "YES")
            )
        elif tag == "#EXTINF":
            duration = float(value.split(",", 1)[0])
        elif tag == "#EXT-X-PRELOAD-HINT":
            attrs = attributes(value)
            if attrs.get("TYPE") == "PART":
                hint = attrs.get("URI")
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif not line.startswith("#"):
            if duration is None:
                raise ValueError(f"segment {line!r} has no #EXTINF")
            msn = sequence + len(segments)
            segments.append(Segment(msn, line, duration, tuple(parts), map_uri, discontinuity))
            parts, duration, discontinuity = [], None, False
    if parts:
        open_duration = sum(p.duration for p in parts)
        msn = sequence + len(segments)
        segments.append(Segment(msn, None, open_duration, tuple(parts), map_uri, discontinuity))
    if target is None:
        raise ValueError("not a media playlist: no #EXT-X-TARGETDURATION")
    return MediaPlaylist(
        target, sequence, part_target, hold_back, blocking, tuple(segments), hint, ended
    )


@dataclass(frozen=True)
class Variant:
    """One ``EXT-X-STREAM-INF`` of a multivariant playlist."""

    uri: str
    bandwidth: int
    resolution: tuple[int, int] | None


def parse_variants(text: str) -> list[Variant]:
    """The variants of a multivariant playlist, in order."""
    variants: list[Variant] = []
    pending: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = attributes(line.partition(":")[2])
        elif pending is not None and line and not line.startswith("#"):
            size = pending.get("RESOLUTION", "")
            resolution = None
            if "x" in size:
                width, height = size.split("x", 1)
                resolution = (int(width), int(height))
            variants.append(Variant(line, int(pending.get("BANDWIDTH", "0")), resolution))
            pending = None
    return variants


@dataclass(frozen=True)
class Summary:
    """Median and spread of some measurements."""

    count: int
    median: float
    p10: float
    p90: float
    low: float
    high: float


def summarize(values: Sequence[float]) -> Summary | None:
    """Median, 10th and 90th percentile, min and max; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        only = ordered[0]
        return Summary(1, only, only, only, only, only)
    deciles = statistics.quantiles(ordered, n=10, method="inclusive")
    return Summary(
        len(ordered), statistics.median(ordered), deciles[0], deciles[-1], ordered[0], ordered[-1]
    )
