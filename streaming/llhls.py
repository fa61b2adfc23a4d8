"""The LL-HLS playlist model (HLS 2nd edition, draft-pantos-hls-rfc8216bis), pure.

One ``MediaPlaylist`` per rendition holds what ffmpeg wrote (``apply_written``), decides
blocking reloads (``decide``), maps part URIs to byte ranges (``locate``) and renders the text;
also the multivariant playlist and Cache-Control. What it renders and why:
``docs/architecture.md`` ("Playlists").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streaming import names
from streaming.errors import BadDirective, InvalidArgument, InvalidMedia, PlaylistConflict
from streaming.fmp4 import Fragment, TrackInfo
from streaming.ladder import LadderPlan
from streaming.vocab import MediaKind, ReloadDecision, ResourceKind

_EPSILON = 1e-6
_IMMUTABLE = "public, max-age=31536000, immutable"


def program_date_time_line(stamp: datetime) -> str:
    """The ``EXT-X-PROGRAM-DATE-TIME`` line of a segment starting at ``stamp`` (UTC, in ms)."""
    text = stamp.astimezone(UTC).isoformat(timespec="milliseconds")
    return f"#EXT-X-PROGRAM-DATE-TIME:{text.removesuffix('+00:00')}Z"


def _dec(value: float) -> str:
    """A decimal-floating-point with up to five decimals (``0.2``, ``1.0``, ``0.21333``)."""
    text = f"{value:.5f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _dec_up(value: float) -> str:
    """Like ``_dec`` but rounded up, for upper bounds such as PART-TARGET."""
    return _dec(math.ceil(value * 100_000 - _EPSILON) / 100_000)


def _quoted(field_name: str, value: str) -> str:
    if any(ch in value for ch in '"\r\n') or not value.isprintable():
        raise InvalidArgument(
            field_name, "must not contain quotes, line breaks or control characters"
        )
    return f'"{value}"'


@dataclass(frozen=True)
class PartLocation:
    """Where a part's bytes are: ``length`` bytes at ``offset`` of ``segment_file``."""

    segment_file: str
    offset: int
    length: int


@dataclass(frozen=True)
class Part:
    """One partial segment."""

    uri: str
    duration: float
    independent: bool
    location: PartLocation


@dataclass
class Segment:
    """One media segment; open (``duration is None``) while ffmpeg is still writing it.

    ``mpegts`` is the decode time of its first fragment on the 90 kHz clock (a WebVTT
    segment's ``X-TIMESTAMP-MAP`` maps the picture's time to it).

    ``fragments``, ``length`` and ``covered`` count every fragment taken from its file (bytes,
    seconds); ``listing`` turns False when one of them was longer than PART-TARGET: that one
    and the rest of the segment are offered only as the whole segment (``add_part``).
    """

    msn: int
    uri: str
    run: int
    number: int
    map_uri: str
    discontinuity: bool
    start: float
    parts: list[Part] = field(default_factory=list)
    duration: float | None = None
    program_date_time: datetime | None = None
    mpegts: int | None = None
    fragments: int = 0
    length: int = 0
    covered: float = 0.0
    listing: bool = True

    @property
    def complete(self) -> bool:
        """Whether ffmpeg has closed the segment."""
        return self.duration is not None


@dataclass(frozen=True)
class RenditionReport:
    """EXT-X-RENDITION-REPORT values for another rendition of the same presentation."""

    uri: str
    last_msn: int
    last_part: int | None


@dataclass(frozen=True)
class Directive:
    """A parsed blocking-reload request: ``_HLS_msn`` and optional ``_HLS_part``."""

    msn: int
    part: int | None


def parse_directives(query: Mapping[str, str]) -> Directive | None:
    """Read ``_HLS_msn`` / ``_HLS_part`` from a query; None when the request does not block."""
    msn_text = query.get("_HLS_msn")
    part_text = query.get("_HLS_part")
    if msn_text is None:
        if part_text is not None:
            raise BadDirective("_HLS_part requires _HLS_msn")
        return None

    def number(name: str, text: str) -> int:
        if not (text.isascii() and text.isdigit()) or len(text) > 12:
            raise BadDirective(f"{name} must be a non-negative decimal integer")
        return int(text)

    msn = number("_HLS_msn", msn_text)
    part = None if part_text is None else number("_HLS_part", part_text)
    return Directive(msn, part)


class MediaPlaylist:
    """The live (and later VOD) media playlist of one rendition."""

    def __init__(
        self,
        *,
        rendition: int,
        target_duration: int,
        part_target: float,
        part_hold_back: float,
        window_seconds: float = 12.0,
        first_msn: int = 0,
    ) -> None:
        if target_duration < 1:
            raise InvalidArgument("target_duration", "must be at least 1 second")
        if not 0 < part_target <= target_duration:
            raise InvalidArgument("part_target", "must be positive and at most the target duration")
        if part_hold_back < 2 * part_target:
            raise InvalidArgument("part_hold_back", "must be at least twice the part target")
        self.rendition = rendition
        # The output stream carrying this rendition in a run's file names, where it is not the
        # rendition's own index (a run with a rendition dropped for overload).
        self.streams: dict[int, int] = {}
        self.target_duration = target_duration
        self.part_target = part_target
        self.part_hold_back = part_hold_back
        self.window_seconds = max(window_seconds, 3.0 * target_duration)
        self.ended = False
        # The media sequence number of the first segment (``first_msn``): a pipeline started
        # after another's (this node's or another node's) numbers on from beyond its numbers.
        self.first_msn = first_msn
        self._history: list[Segment] = []
        self._window_start = 0
        self._discontinuity_sequence = 0
        self._completed: dict[str, int] = {}
        self._parts: dict[str, PartLocation] = {}
        self.unlisted = 0  # fragments longer than PART-TARGET, offered only in their segment

    # --- state -------------------------------------------------------------------------------

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Every segment since the start, the open one last."""
        return tuple(self._history)

    @property
    def window(self) -> tuple[Segment, ...]:
        """The segments the live playlist lists, the open one last."""
        return tuple(self._history[self._window_start :])

    @property
    def media_sequence(self) -> int:
        """The media sequence number of the first listed segment."""
        return self.first_msn + self._window_start

    @property
    def discontinuity_sequence(self) -> int:
        """The EXT-X-DISCONTINUITY-SEQUENCE value of the live playlist."""
        return self._discontinuity_sequence

    @property
    def blocking_timeout(self) -> float:
        """Seconds a blocked reload may wait before the server answers 503 (§6.2.5.2)."""
        return 3.0 * self.target_duration

    @property
    def open_segment(self) -> Segment | None:
        """The segment ffmpeg is still writing, if any."""
        if self._history and not self._history[-1].complete:
            return self._history[-1]
        return None

    def is_complete(self, segment_file: str) -> bool:
        """Whether ``segment_file`` is a closed segment of this playlist."""
        return segment_file in self._completed

    @property
    def end_time(self) -> float:
        """Seconds of media from the first segment to the end of the last part or segment."""
        if not self._history:
            return 0.0
        last = self._history[-1]
        if last.complete:
            return last.start + (last.duration or 0.0)
        return last.start + last.covered

    def _last_complete_msn(self) -> int:
        open_segment = self.open_segment
        return self.first_msn + len(self._history) - (2 if open_segment else 1)

    def _last_part(self) -> tuple[int, int] | None:
        for segment in reversed(self._history):
            if segment.parts:
                return segment.msn, len(segment.parts) - 1
            if segment.complete:
                return None
        return None

    @property
    def preload_hint(self) -> str | None:
        """The URI of the next part while live, the one name a request may wait for."""
        if self.ended or not self._history:
            return None
        last = self._history[-1]
        if last.complete or not last.listing:
            return names.part_name(last.run, self.rendition, last.number + 1, 0)
        return names.part_name(last.run, self.rendition, last.number, len(last.parts))

    def withdrawn(self, run: int, number: int, part: int) -> bool:
        """Whether part ``part`` of segment ``number`` in ``run``, which a playlist may have
        announced as its preload hint, will never land: its segment closed or stopped listing
        parts before it, or its run or the playlist ended first."""
        if not self._history:
            return self.ended
        last = self._history[-1]
        for segment in reversed(self._history):
            if (segment.run, segment.number) == (run, number):
                finished = segment.complete or not segment.listing or run < last.run
                return part >= len(segment.parts) and (finished or self.ended)
            if segment.run < run or (segment.run == run and segment.number < number):
                break
        # Never opened: the hint after a closed segment, gone with its run or the playlist.
        return part == 0 and (run < last.run or self.ended)

    def locate(self, uri: str) -> PartLocation | None:
        """Where the bytes of part ``uri`` are, or None if no such part has landed."""
        return self._parts.get(uri)

    def segment_length(self, segment_file: str) -> int | None:
        """The bytes of a closed segment its fragments cover (an abandoned ``.tmp`` file may
        hold a piece more), or None when it was listed from a duration alone (read it all)."""
        msn = self._completed.get(segment_file)
        if msn is None:
            return None
        segment = self._history[msn - self.first_msn]
        return segment.length if segment.fragments else None

    def report(self, uri: str) -> RenditionReport:
        """This rendition's EXT-X-RENDITION-REPORT as seen from a sibling playlist."""
        last_part = self._last_part()
        if last_part is not None:
            return RenditionReport(uri, last_part[0], last_part[1])
        return RenditionReport(uri, max(self._last_complete_msn(), self.first_msn), None)

    # --- updates -----------------------------------------------------------------------------

    def _segment_for(self, segment_file: str, program_date_time: datetime | None) -> Segment:
        """The open segment for ``segment_file``, opening it if it is the next one."""
        if self.ended:
            raise PlaylistConflict("the playlist has ended")
        if program_date_time is not None and program_date_time.tzinfo is None:
            raise InvalidArgument("program_date_time", "must carry a time zone")
        parsed = names.parse_name(segment_file)
        stream = self.streams.get(parsed.run, self.rendition)
        if parsed.kind is not ResourceKind.SEGMENT or parsed.rendition != stream:
            raise PlaylistConflict(f"{segment_file} is not a segment of rendition {self.rendition}")
        if segment_file in self._completed:
            raise PlaylistConflict(f"{segment_file} is already complete")
        open_segment = self.open_segment
        if open_segment is not None:
            if open_segment.uri == segment_file:
                return open_segment
            if parsed.run > open_segment.run:
                self._close_abandoned(open_segment)
            else:
                raise PlaylistConflict(
                    f"{segment_file} arrives while {open_segment.uri} is still open"
                )
        last = self._history[-1] if self._history else None
        follows = last is None or (
            parsed.run > last.run if parsed.run != last.run else parsed.number == last.number + 1
        )
        if not follows and last is not None:
            raise PlaylistConflict(f"{segment_file} does not follow {last.uri}")
        start = 0.0 if last is None else last.start + (last.duration or 0.0)
        segment = Segment(
            msn=self.first_msn + len(self._history),
            uri=segment_file,
            run=parsed.run,
            number=parsed.number,
            map_uri=names.init_name(parsed.run, stream),
            discontinuity=last is not None and parsed.run != last.run,
            start=start,
            program_date_time=program_date_time,
        )
        self._history.append(segment)
        return segment

    def _close_abandoned(self, segment: Segment) -> None:
        if segment.fragments:
            self._finish(segment, segment.covered)
        else:
            self._history.pop()

    def add_part(
        self,
        segment_file: str,
        *,
        duration: float,
        independent: bool,
        offset: int,
        length: int,
        program_date_time: datetime | None = None,
    ) -> tuple[int, int] | None:
        """Take the next fragment of ``segment_file``; returns its (msn, part index) when it is
        listed as a part, None when it is not.

        A fragment longer than PART-TARGET cannot be a part (draft-pantos-hls-rfc8216bis
        4.4.4.9), and the fragments after it need it to decode: from there on the segment is
        offered whole once it closes (its earlier parts stay listed, every one within the
        target), and its preload hint moves to the next segment. Nothing stops: a source
        whose frames come late now and then costs its viewers one segment without parts.
        """
        if duration <= 0:
            raise InvalidMedia(f"a part of {segment_file} has no duration")
        current = self.open_segment
        expected = current.length if current is not None and current.uri == segment_file else 0
        taken = current.fragments if current is not None and current.uri == segment_file else 0
        if offset != expected or length <= 0:
            raise PlaylistConflict(
                f"part {taken} of {segment_file} starts at byte {offset}, expected {expected}"
            )
        segment = self._segment_for(segment_file, program_date_time)
        segment.fragments += 1
        segment.length += length
        segment.covered += duration
        if segment.listing and duration > self.part_target + _EPSILON:
            segment.listing = False
            self.unlisted += 1
        if not segment.listing:
            return None
        uri = names.part_name(segment.run, self.rendition, segment.number, len(segment.parts))
        location = PartLocation(segment_file, offset, length)
        segment.parts.append(Part(uri, duration, independent, location))
        self._parts[uri] = location
        return segment.msn, len(segment.parts) - 1

    def complete_segment(
        self,
        segment_file: str,
        duration: float | None = None,
        *,
        program_date_time: datetime | None = None,
    ) -> int:
        """Close ``segment_file`` (duration defaults to the sum of its fragments); returns its
        MSN."""
        open_segment = self.open_segment
        if open_segment is not None and open_segment.uri == segment_file:
            segment = open_segment
        else:
            if duration is None:
                raise InvalidMedia(f"{segment_file} has no parts and no duration")
            segment = self._segment_for(segment_file, program_date_time)
        if duration is None:
            duration = segment.covered
        if duration <= 0 or math.floor(duration + 0.5) > self.target_duration:
            self._drop_if_empty(segment)
            raise InvalidMedia(
                f"{segment_file} lasts {duration:.3f} s, longer than the target duration "
                f"{self.target_duration} s"
                if duration > 0
                else f"{segment_file} has no duration"
            )
        self._finish(segment, duration)
        return segment.msn

    def stamp(self, segment_file: str, mpegts: int) -> None:
        """Note where a segment starts on the 90 kHz clock (its first fragment's decode time),
        once."""
        for segment in reversed(self._history[-3:]):
            if segment.uri == segment_file and segment.mpegts is None:
                segment.mpegts = mpegts

    def _drop_if_empty(self, segment: Segment) -> None:
        if not segment.fragments and self._history and self._history[-1] is segment:
            self._history.pop()

    def _finish(self, segment: Segment, duration: float) -> None:
        segment.duration = duration
        self._completed[segment.uri] = segment.msn
        self._trim()

    def _trim(self) -> None:
        complete = [s for s in self._history[self._window_start :] if s.complete]
        total = sum(s.duration or 0.0 for s in complete)
        while len(complete) > 1 and total - (complete[0].duration or 0.0) >= self.window_seconds:
            dropped = complete.pop(0)
            total -= dropped.duration or 0.0
            self._window_start += 1
            if dropped.discontinuity:
                self._discontinuity_sequence += 1

    def end(self) -> None:
        """Mark the broadcast ended: EXT-X-ENDLIST, no preload hint, directives ignored."""
        open_segment = self.open_segment
        if open_segment is not None:
            self._close_abandoned(open_segment)
        self.ended = True

    # --- blocking reload ---------------------------------------------------------------------

    def _has(self, msn: int, part: int | None) -> bool:
        last_complete = self._last_complete_msn()
        if part is None:
            return msn <= last_complete
        index = msn - self.first_msn
        if index < 0 or index >= len(self._history):
            return False
        segment = self._history[index]
        if segment.complete:
            if part < len(segment.parts) or not segment.parts:
                return True
            return self._has(msn + 1, 0)
        return part < len(segment.parts)

    def decide(self, msn: int, part: int | None) -> ReloadDecision:
        """Whether a blocking reload for (msn, part) can be answered now, must wait, or is a 400."""
        if self.ended:
            return ReloadDecision.READY
        if msn > self._last_complete_msn() + 2:
            return ReloadDecision.BAD_REQUEST
        if part is not None:
            limit = 3.0 / self.part_target if self.part_target < 1 else 3.0
            last = self._last_part()
            if last is None or msn > last[0]:
                ahead = part + 1
            elif msn == last[0]:
                ahead = part - last[1]
            else:
                ahead = 0
            if ahead > limit:
                return ReloadDecision.BAD_REQUEST
        return ReloadDecision.READY if self._has(msn, part) else ReloadDecision.WAIT

    # --- rendering ---------------------------------------------------------------------------

    def _header(self, *, vod: bool, media_sequence: int, discontinuity_sequence: int) -> list[str]:
        lines = ["#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{self.target_duration}"]
        if vod:
            lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
        else:
            lines.append(
                f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                f"PART-HOLD-BACK={_dec(self.part_hold_back)}"
            )
            lines.append(f"#EXT-X-PART-INF:PART-TARGET={_dec_up(self.part_target)}")
        lines.append(f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}")
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
        return lines

    def _segment_lines(
        self, segments: Sequence[Segment], *, parts_from: float | None, first_discontinuity: bool
    ) -> list[str]:
        lines: list[str] = []
        current_map: str | None = None
        for index, segment in enumerate(segments):
            if segment.discontinuity and (index > 0 or first_discontinuity):
                lines.append("#EXT-X-DISCONTINUITY")
            if segment.map_uri != current_map:
                lines.append(f'#EXT-X-MAP:URI="{segment.map_uri}"')
                current_map = segment.map_uri
            if segment.program_date_time is not None:
                lines.append(program_date_time_line(segment.program_date_time))
            if parts_from is not None and (not segment.complete or segment.start >= parts_from):
                for part in segment.parts:
                    attrs = f'DURATION={_dec(part.duration)},URI="{part.uri}"'
                    if part.independent:
                        attrs += ",INDEPENDENT=YES"
                    lines.append(f"#EXT-X-PART:{attrs}")
            if segment.complete:
                lines.append(f"#EXTINF:{_dec(segment.duration or 0.0)},")
                lines.append(segment.uri)
        return lines

    def render(self, reports: Sequence[RenditionReport] = ()) -> str:
        """The live (or, once ended, final) media playlist text."""
        window = self.window
        lines = self._header(
            vod=False,
            media_sequence=self.media_sequence,
            discontinuity_sequence=self._discontinuity_sequence,
        )
        parts_from = self.end_time - 3.0 * self.target_duration
        lines += self._segment_lines(window, parts_from=parts_from, first_discontinuity=True)
        hint = self.preload_hint
        if hint is not None:
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{hint}"')
        for report in reports:
            attrs = f"URI={_quoted('report uri', report.uri)},LAST-MSN={report.last_msn}"
            if report.last_part is not None:
                attrs += f",LAST-PART={report.last_part}"
            lines.append(f"#EXT-X-RENDITION-REPORT:{attrs}")
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def render_vod(self, start: float = 0.0, end: float | None = None) -> str:
        """The replay: every complete segment overlapping [start, end) seconds, as VOD."""
        chosen = [
            s
            for s in self._history
            if s.complete
            and s.start + (s.duration or 0.0) > start + _EPSILON
            and (end is None or s.start < end - _EPSILON)
        ]
        if not chosen:
            raise PlaylistConflict("no complete segment in the requested range")
        first = chosen[0]
        discontinuities = sum(
            1 for s in self._history[: first.msn - self.first_msn + 1] if s.discontinuity
        )
        lines = self._header(
            vod=True,
            media_sequence=first.msn,
            discontinuity_sequence=discontinuities - (1 if first.discontinuity else 0),
        )
        lines += self._segment_lines(chosen, parts_from=None, first_discontinuity=True)
        lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"


# --- feeding the model from ffmpeg's output ---------------------------------------------------


@dataclass(frozen=True)
class WrittenSegment:
    """What the adapter found for one segment file: its complete fragments so far."""

    name: str
    fragments: Sequence[Fragment]
    timescale: int
    complete: bool
    program_date_time: datetime | None = None


def apply_written(playlist: MediaPlaylist, written: WrittenSegment) -> list[tuple[int, int]]:
    """Add the fragments not yet taken (as parts, see ``MediaPlaylist.add_part``), close the
    segment if complete; idempotent.

    Returns the (msn, part index) of every part added, so the caller knows whether to wake
    blocked requests.
    """
    if written.timescale <= 0:
        raise InvalidMedia(f"{written.name} has a non-positive timescale")
    if playlist.is_complete(written.name):
        return []
    open_segment = playlist.open_segment
    known = open_segment.fragments if open_segment and open_segment.uri == written.name else 0
    if len(written.fragments) < known:
        raise PlaylistConflict(
            f"{written.name} now has {len(written.fragments)} fragments, fewer than the "
            f"{known} already published"
        )
    added: list[tuple[int, int]] = []
    for fragment in written.fragments[known:]:
        part = playlist.add_part(
            written.name,
            duration=fragment.duration / written.timescale,
            independent=fragment.independent,
            offset=fragment.offset,
            length=fragment.length,
            program_date_time=written.program_date_time,
        )
        if part is not None:
            added.append(part)
    if written.complete:
        total = sum(f.duration for f in written.fragments) / written.timescale
        playlist.complete_segment(written.name, total, program_date_time=written.program_date_time)
    if written.fragments:
        playlist.stamp(written.name, written.fragments[0].decode_time * 90_000 // written.timescale)
    return added


def vod_playlist(
    *,
    rendition: int,
    target_duration: int,
    segments: Sequence[tuple[str, float]],
) -> MediaPlaylist:
    """Rebuild an ended playlist from segment file names and durations (for a replay)."""
    playlist = MediaPlaylist(
        rendition=rendition,
        target_duration=target_duration,
        part_target=min(1.0, float(target_duration)),
        part_hold_back=3.0,
        window_seconds=float("inf"),
    )
    for name, duration in segments:
        playlist.complete_segment(name, duration)
    playlist.end()
    return playlist


# --- the multivariant playlist ----------------------------------------------------------------


@dataclass(frozen=True)
class VariantStream:
    """One EXT-X-STREAM-INF entry."""

    uri: str
    bandwidth: int
    codecs: str
    resolution: tuple[int, int] | None = None
    frame_rate: float | None = None
    average_bandwidth: int | None = None


@dataclass(frozen=True)
class AudioMedia:
    """An audio rendition of the shared group (EXT-X-MEDIA TYPE=AUDIO): the original sound
    (the default) or an interpretation."""

    uri: str
    codec: str
    name: str = "Audio"
    group_id: str = "audio"
    language: str | None = None
    channels: int = 2
    default: bool = True

    def line(self) -> str:
        """The EXT-X-MEDIA line."""
        names.parse_name(self.uri)
        attrs = [
            "TYPE=AUDIO",
            f"GROUP-ID={_quoted('group_id', self.group_id)}",
            f"NAME={_quoted('name', self.name)}",
        ]
        if self.language is not None:
            attrs.append(f"LANGUAGE={_quoted('language', self.language)}")
        attrs += [f"DEFAULT={'YES' if self.default else 'NO'}", "AUTOSELECT=YES"]
        attrs += [f'CHANNELS="{self.channels}"', f'URI="{self.uri}"']
        return "#EXT-X-MEDIA:" + ",".join(attrs)


@dataclass(frozen=True)
class SubtitleMedia:
    """A caption language's subtitle rendition (EXT-X-MEDIA TYPE=SUBTITLES)."""

    language: str
    name: str
    group_id: str = "subs"

    def line(self) -> str:
        """The EXT-X-MEDIA line (never the default: viewers turn captions on)."""
        uri = names.subtitle_playlist_name(self.language)
        names.parse_name(uri)
        attrs = [
            "TYPE=SUBTITLES",
            f"GROUP-ID={_quoted('group_id', self.group_id)}",
            f"NAME={_quoted('name', self.name)}",
            f"LANGUAGE={_quoted('language', self.language)}",
            "DEFAULT=NO",
            "AUTOSELECT=YES",
            f'URI="{uri}"',
        ]
        return "#EXT-X-MEDIA:" + ",".join(attrs)


def render_multivariant(
    variants: Sequence[VariantStream],
    audio: AudioMedia | None,
    subtitles: Sequence[SubtitleMedia] = (),
    interpretations: Sequence[AudioMedia] = (),
) -> str:
    """The multivariant playlist: one EXT-X-STREAM-INF per variant, audio as a shared group
    (the original sound, then an interpretation per language), a subtitle rendition per
    caption language."""
    if not variants:
        raise InvalidArgument("variants", "at least one variant is required")
    lines = ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS"]
    lines += [subtitle.line() for subtitle in subtitles]
    if audio is not None:
        lines.append(audio.line())
        lines += [interpretation.line() for interpretation in interpretations]
    for variant in variants:
        names.parse_name(variant.uri)
        if variant.bandwidth <= 0:
            raise InvalidArgument("bandwidth", "must be positive")
        codecs = variant.codecs if audio is None else f"{variant.codecs},{audio.codec}"
        attrs = [f"BANDWIDTH={variant.bandwidth}"]
        if variant.average_bandwidth is not None:
            attrs.append(f"AVERAGE-BANDWIDTH={variant.average_bandwidth}")
        attrs.append(f"CODECS={_quoted('codecs', codecs)}")
        if variant.resolution is not None:
            attrs.append(f"RESOLUTION={variant.resolution[0]}x{variant.resolution[1]}")
        if variant.frame_rate is not None:
            attrs.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        if audio is not None:
            attrs.append(f"AUDIO={_quoted('group_id', audio.group_id)}")
        if subtitles:
            attrs.append(f"SUBTITLES={_quoted('group_id', subtitles[0].group_id)}")
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        lines.append(variant.uri)
    return "\n".join(lines) + "\n"


def multivariant_for(
    plan: LadderPlan, tracks: Mapping[int, TrackInfo]
) -> tuple[list[VariantStream], AudioMedia | None]:
    """Variants and audio for a plan, with CODECS read from the init segments ffmpeg wrote.

    BANDWIDTH is the peak estimate: the video rendition's bit rate plus 10 % plus the audio
    bit rate (§4.4.6.2: representative of similar content while live).
    """
    audio: AudioMedia | None = None
    if plan.audio is not None:
        track = tracks.get(plan.audio.index)
        if track is None or track.kind is not MediaKind.AUDIO:
            raise InvalidMedia(f"no audio init segment for rendition {plan.audio.index}")
        audio = AudioMedia(uri=names.playlist_name(plan.audio.name), codec=track.codec)
    audio_bits = plan.audio.bitrate if plan.audio is not None else 0
    variants: list[VariantStream] = []
    for rendition in plan.video:
        track = tracks.get(rendition.index)
        if track is None or track.kind is not MediaKind.VIDEO:
            raise InvalidMedia(f"no video init segment for rendition {rendition.index}")
        variants.append(
            VariantStream(
                uri=names.playlist_name(rendition.name),
                bandwidth=rendition.bitrate * 11 // 10 + audio_bits,
                average_bandwidth=rendition.bitrate + audio_bits,
                codecs=track.codec,
                resolution=(track.width, track.height),
                frame_rate=rendition.fps,
            )
        )
    return variants, audio


def interpretations_for(
    plan: LadderPlan, tracks: Mapping[int, TrackInfo], names_of: Mapping[str, str]
) -> list[AudioMedia]:
    """The plan's interpretations as alternative audio renditions (not the default), named
    by ``names_of`` (a language's own name) once their init segments were written."""
    media: list[AudioMedia] = []
    for rendition in plan.interpretations:
        track = tracks.get(rendition.index)
        if track is None or track.kind is not MediaKind.AUDIO or rendition.language is None:
            continue
        media.append(
            AudioMedia(
                uri=names.playlist_name(rendition.name),
                codec=track.codec,
                name=names_of.get(rendition.language, rendition.language),
                language=rendition.language,
                default=False,
            )
        )
    return media


def cache_control(kind: ResourceKind, *, blocking: bool = False, ended: bool = False) -> str:
    """The Cache-Control header an nginx/CDN in front can honour for each resource kind."""
    if kind in (ResourceKind.INIT, ResourceKind.SEGMENT, ResourceKind.PART):
        return _IMMUTABLE
    if ended:
        return "public, max-age=60"
    if blocking:
        return "public, max-age=30"
    return "no-cache"
