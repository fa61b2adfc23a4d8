"""A studio channel's playlists: one track (video or audio) stitched from many sources. Pure.

The channel has one stable address (``/hls/c/{studio}/``) whatever is on air. Each track is a
live sliding window of segments taken, in order, from the replays that playout plays and from
the live session's playlist; the segment URIs are the sessions' own (``/hls/{session}/...``),
so nothing is copied or re-encoded. Wherever the source (or its ffmpeg run) changes, an
``EXT-X-DISCONTINUITY`` lets players carry on without a reload. Playout is paced by the wall
clock: a replay's segments are listed as they would have aired (``PlayoutQueue``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from streaming.errors import InvalidArgument
from streaming.vocab import ReloadDecision
from streaming.vod import Trim, VodRendition, select

_EPSILON = 1e-6
CHANNEL_PREFIX = "/hls"


def _dec(value: float) -> str:
    text = f"{value:.5f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def source_uri(session_id: str, name: str) -> str:
    """The absolute path of a session's media resource, as the channel lists it."""
    return f"{CHANNEL_PREFIX}/{session_id}/{name}"


@dataclass(frozen=True, slots=True)
class ChannelPart:
    """One LL-HLS part of a live segment."""

    uri: str
    duration: float
    independent: bool


@dataclass(frozen=True, slots=True)
class ChannelSegment:
    """One segment of a source: its URI, init segment, duration and, live, its parts."""

    uri: str
    map_uri: str
    duration: float
    source: str  # the session it comes from
    run: int  # the ffmpeg run within that session (a new run is a discontinuity too)
    parts: tuple[ChannelPart, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelEdge:
    """The live source's open segment: the parts it has so far and the next part's URI."""

    source: str
    run: int
    map_uri: str
    parts: tuple[ChannelPart, ...]
    preload_hint: str | None


@dataclass(slots=True)
class _Listed:
    segment: ChannelSegment
    discontinuity: bool


class ChannelTrack:
    """One track of a channel: a live window of segments from whichever source is on air."""

    def __init__(
        self,
        *,
        target_duration: int,
        part_target: float,
        part_hold_back: float,
        window_seconds: float = 30.0,
    ) -> None:
        if target_duration < 1:
            raise InvalidArgument("target_duration", "must be at least 1 second")
        if not 0 < part_target <= target_duration:
            raise InvalidArgument("part_target", "must be positive and at most the target duration")
        self.target_duration = target_duration
        self.part_target = part_target
        self.part_hold_back = part_hold_back
        self.window_seconds = max(window_seconds, 3.0 * target_duration)
        self.media_sequence = 0
        self.discontinuity_sequence = 0
        self.edge: ChannelEdge | None = None
        self.ends_at: float | None = None  # wall-clock second the listed media ends at
        self._listed: deque[_Listed] = deque()
        self._last: tuple[str, int] | None = None  # (source, run) of the last segment

    @property
    def segments(self) -> tuple[ChannelSegment, ...]:
        """The listed segments, oldest first."""
        return tuple(item.segment for item in self._listed)

    @property
    def next_msn(self) -> int:
        """The media sequence number the next appended segment gets."""
        return self.media_sequence + len(self._listed)

    @property
    def last_source(self) -> str | None:
        """The session the newest listed segment came from."""
        return None if self._last is None else self._last[0]

    def append(self, segment: ChannelSegment, *, ends_at: float | None = None) -> int:
        """List ``segment`` after the others (a discontinuity before it when its source or run
        differs from the last one's); return its media sequence number."""
        if segment.duration <= 0:
            raise InvalidArgument("duration", f"{segment.uri} has no duration")
        key = (segment.source, segment.run)
        self._listed.append(_Listed(segment, self._last is not None and key != self._last))
        self._last = key
        if math.floor(segment.duration + 0.5) > self.target_duration:
            self.target_duration = math.floor(segment.duration + 0.5)
        if ends_at is not None:
            self.ends_at = ends_at
        elif self.ends_at is not None:
            self.ends_at += segment.duration
        if self.edge is not None and self.edge.source == segment.source:
            self.edge = None
        self._trim()
        return self.next_msn - 1

    def _trim(self) -> None:
        total = sum(item.segment.duration for item in self._listed)
        while len(self._listed) > 1 and total - self._listed[0].segment.duration >= (
            self.window_seconds
        ):
            dropped = self._listed.popleft()
            total -= dropped.segment.duration
            self.media_sequence += 1
            if self._listed[0].discontinuity:
                # the tag before the new first segment leaves the playlist: count it
                self._listed[0].discontinuity = False
                self.discontinuity_sequence += 1

    def set_edge(self, edge: ChannelEdge | None) -> None:
        """The live source's open segment (None: no open segment to announce)."""
        self.edge = edge

    # --- blocking reload ---------------------------------------------------------------------

    def _has(self, msn: int, part: int | None) -> bool:
        if msn < self.next_msn:
            return True
        if msn > self.next_msn or part is None:
            return False
        return self.edge is not None and part < len(self.edge.parts)

    def decide(self, msn: int, part: int | None) -> ReloadDecision:
        """Whether a blocking reload for (msn, part) can be answered now, must wait, or is a
        400 (too far beyond the edge)."""
        if msn > self.next_msn + 1:
            return ReloadDecision.BAD_REQUEST
        return ReloadDecision.READY if self._has(msn, part) else ReloadDecision.WAIT

    # --- rendering ---------------------------------------------------------------------------

    def render(self) -> str:
        """The track's live media playlist."""
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:6",
            f"#EXT-X-TARGETDURATION:{self.target_duration}",
            f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={_dec(self.part_hold_back)}",
            f"#EXT-X-PART-INF:PART-TARGET={_dec(self.part_target)}",
            f"#EXT-X-MEDIA-SEQUENCE:{self.media_sequence}",
            f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}",
        ]
        current_map: str | None = None
        end = sum(item.segment.duration for item in self._listed)
        position = 0.0
        parts_from = end - 3.0 * self.target_duration
        for item in self._listed:
            segment = item.segment
            if item.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            if segment.map_uri != current_map:
                lines.append(f'#EXT-X-MAP:URI="{segment.map_uri}"')
                current_map = segment.map_uri
            if position + _EPSILON >= parts_from:
                lines += _part_lines(segment.parts)
            lines.append(f"#EXTINF:{_dec(segment.duration)},")
            lines.append(segment.uri)
            position += segment.duration
        edge = self.edge
        if edge is not None:
            if self._last is not None and (edge.source, edge.run) != self._last and edge.parts:
                lines.append("#EXT-X-DISCONTINUITY")
            if edge.parts and edge.map_uri != current_map:
                lines.append(f'#EXT-X-MAP:URI="{edge.map_uri}"')
            lines += _part_lines(edge.parts)
            if edge.preload_hint is not None:
                lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{edge.preload_hint}"')
        return "\n".join(lines) + "\n"


def _part_lines(parts: Sequence[ChannelPart]) -> list[str]:
    lines = []
    for part in parts:
        attrs = f'DURATION={_dec(part.duration)},URI="{part.uri}"'
        if part.independent:
            attrs += ",INDEPENDENT=YES"
        lines.append(f"#EXT-X-PART:{attrs}")
    return lines


def replay_segments(session_id: str, rendition: VodRendition, trim: Trim) -> list[ChannelSegment]:
    """A replay's segments (inside its trim) as the channel lists them."""
    return [
        ChannelSegment(
            uri=source_uri(session_id, segment.uri),
            map_uri=source_uri(session_id, run.init),
            duration=segment.duration,
            source=session_id,
            run=run.run,
        )
        for run, segments in select(rendition, trim)
        for segment in segments
    ]


@dataclass(slots=True)
class PlayoutQueue:
    """What playout lists next on one track: the rest of the replay it plays, and which of the
    replays (in programme order, from the first again after the last) comes after it."""

    pending: deque[ChannelSegment] = field(default_factory=deque)
    playing: str | None = None

    def next_replay(self, replays: Sequence[str]) -> str | None:
        """The replay to play once this one is over: the one after it, or the first."""
        if not replays:
            return None
        if self.playing in replays:
            return replays[(replays.index(self.playing) + 1) % len(replays)]
        return replays[0]

    def load(self, session_id: str, segments: Iterable[ChannelSegment]) -> None:
        """Play ``session_id`` next, from its first segment."""
        self.playing = session_id
        self.pending = deque(segments)


def playout_due(track: ChannelTrack, now: float, *, lead: float) -> bool:
    """Whether playout should list another segment on ``track`` at wall-clock ``now``: while
    the listed media ends less than ``lead`` seconds ahead of real time."""
    return track.ends_at is None or track.ends_at < now + lead


def playout_start(track: ChannelTrack, now: float) -> None:
    """Start (or resume after a gap) playout on ``track``: list enough at once for a player to
    start (three target durations behind real time)."""
    if track.ends_at is None or track.ends_at < now - track.target_duration:
        track.ends_at = now - 3.0 * track.target_duration
