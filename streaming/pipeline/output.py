"""What one ffmpeg run writes, read as it grows, and the live playlists it goes into.

``RunOutput.scan`` (blocking: call it in a worker thread) reads only the bytes appended to a
run's init and segment files since the last scan and reports what is new. FLV timestamps are
whole milliseconds, so a fragment may last up to a millisecond more than its frame-exact
target: each playlist's PART-TARGET allows for that (``PART_SLACK``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streaming import names
from streaming.errors import InvalidMedia
from streaming.fmp4 import Fragment, TrackInfo, parse_init, scan_fragments
from streaming.ladder import LadderPlan
from streaming.llhls import MediaPlaylist, WrittenSegment

PART_SLACK = 0.0011


@dataclass(frozen=True)
class InitFound:
    """A rendition's init segment of a run has been read."""

    rendition: int
    track: TrackInfo


@dataclass(frozen=True)
class SegmentGrew:
    """New fragments of a rendition's segment (or the segment closed)."""

    rendition: int
    written: WrittenSegment


Update = InitFound | SegmentGrew


@dataclass
class _Reading:
    rendition: int
    stream: int  # ffmpeg's output stream: the number in the run's file names
    track: TrackInfo | None = None
    number: int = 1
    data: bytearray = field(default_factory=bytearray)
    fragments: int = 0


def _read_from(path: Path, offset: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read()


HELD_AT_MOST = timedelta(seconds=10)  # a run's first input may have waited this long (a GOP)


def run_anchor(written: datetime, taken_in: datetime | None) -> datetime:
    """The wall clock at a run's decode time 0: when its first input was taken in, if that is
    before its output was written and not long before (a publisher sending faster than real
    time would put its pictures in the past); else when the output was written."""
    if taken_in is not None and written - HELD_AT_MOST <= taken_in <= written:
        return taken_in
    return written


class RunOutput:
    """The files one ffmpeg run writes: ``scan()`` (blocking; call it in a thread) reports what
    is new since the last scan, reading only the bytes appended since then."""

    def __init__(
        self,
        directory: Path,
        run: int,
        renditions: Sequence[int],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        taken_in: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        """``renditions``: the rendition each output stream of the run carries, in order;
        ``taken_in``: when the run's first input was taken in, once known (None: unknown)."""
        self.directory = directory
        self.run = run
        self._readings = [_Reading(index, stream) for stream, index in enumerate(renditions)]
        self._now = now
        self._taken_in = taken_in
        self._anchor: datetime | None = None  # the wall clock at decode time 0 of this run

    @property
    def clock_ms(self) -> int | None:
        """The run's program date time (ms since 1970) at decode time 0, once a fragment was
        read (the run journal keeps it for the replay: ``vod.JournalEntry.clock_ms``)."""
        return None if self._anchor is None else int(self._anchor.timestamp() * 1000)

    def _program_date_time(self, fragments: Sequence[Fragment], timescale: int) -> datetime:
        """When the picture of a segment's first fragment was taken in, by the wall clock: the
        run's first input's moment (``taken_in``) is its decode time 0; without one, its first
        fragment seen is taken to have just been written; the rest follow by their decode
        times (one clock for every rendition of the run)."""
        if self._anchor is None:
            last = fragments[-1]
            seconds = (last.decode_time + last.duration) / timescale
            self._anchor = run_anchor(self._now() - timedelta(seconds=seconds), self._taken_in())
        return self._anchor + timedelta(seconds=fragments[0].decode_time / timescale)

    def scan(self) -> list[Update]:
        """What ffmpeg wrote since the last call."""
        updates: list[Update] = []
        for reading in self._readings:
            if reading.track is None:
                try:
                    path = self.directory / names.init_name(self.run, reading.stream)
                    reading.track = parse_init(path.read_bytes())
                except (FileNotFoundError, InvalidMedia):
                    continue  # not written yet, or written only in part
                updates.append(InitFound(reading.rendition, reading.track))
            while self._scan_segment(reading, updates):
                pass
        return updates

    def _scan_segment(self, reading: _Reading, updates: list[Update]) -> bool:
        """Read the current segment; True when it closed (go on with the next one)."""
        assert reading.track is not None
        name = names.segment_name(self.run, reading.stream, reading.number)
        final = self.directory / name
        growing = self.directory / f"{name}.tmp"
        complete = False
        try:
            new = _read_from(final, len(reading.data))
            complete = True
        except FileNotFoundError:
            try:
                new = _read_from(growing, len(reading.data))
            except FileNotFoundError:
                try:  # renamed between the two looks
                    new = _read_from(final, len(reading.data))
                    complete = True
                except FileNotFoundError:
                    return False
        if not new and not complete:
            return False
        reading.data += new
        fragments = scan_fragments(bytes(reading.data), reading.track)
        if complete or len(fragments) > reading.fragments:
            reading.fragments = len(fragments)
            timescale = reading.track.timescale
            stamp = self._program_date_time(fragments, timescale) if fragments else None
            written = WrittenSegment(name, fragments, timescale, complete, stamp)
            updates.append(SegmentGrew(reading.rendition, written))
        if complete:
            reading.number += 1
            reading.data = bytearray()
            reading.fragments = 0
        return complete


def _render_up(value: float) -> float:
    return math.ceil(value * 100_000 - 1e-6) / 100_000


def playlists_for(
    plan: LadderPlan, window_seconds: float, first_run: int = 1
) -> dict[int, MediaPlaylist]:
    """One live playlist per rendition, with part targets allowing for millisecond timestamps,
    numbered from ``first_run``'s media sequence (``names.first_msn``)."""
    targets = {r.index: r.part_target + PART_SLACK for r in plan.renditions}
    hold_back = math.ceil(3 * max(_render_up(t) for t in targets.values()) * 1000 - 1e-6) / 1000
    return {
        index: MediaPlaylist(
            rendition=index,
            target_duration=plan.target_duration,
            part_target=target,
            part_hold_back=hold_back,
            window_seconds=window_seconds,
            first_msn=names.first_msn(first_run),
        )
        for index, target in targets.items()
    }
