"""The recording of a broadcast as a model, and its replay as HLS VOD playlists (RFC 8216). Pure.

A ``Recording`` holds, per rendition, every run's init segment and segments (duration, covered
bytes); it is kept as JSON next to the files. ``Trim`` and ``check_trim`` cut the replay to the
segment; the run journal (``JOURNAL``) says which runs were the broadcast. See
``docs/architecture.md`` ("Slates and recordings").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from streaming import llhls, names
from streaming.errors import InvalidArgument, PlaylistConflict
from streaming.ladder import interpretation_language
from streaming.llhls import AudioMedia, SubtitleMedia, VariantStream
from streaming.vocab import MediaKind, RunKind

_EPSILON = 1e-6
# How far past the recording's end a trim's end may be (the timeline is rounded in answers).
END_TOLERANCE = 0.05


def decimal(value: float) -> str:
    """A decimal as the playlists write it (``2.0``, ``2.00533``): at most five places."""
    text = f"{value:.5f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class VodSegment(msgspec.Struct, frozen=True):
    """One segment file of the recording: its name, duration and the bytes that belong to it;
    where it starts on the program date time clock (ms since 1970) and on the 90 kHz clock of
    its decode times (``mpegts``), when the run's clock was noted (``JournalEntry.clock_ms``)."""

    uri: str
    duration: float
    length: int
    program_date_ms: int | None = None
    mpegts: int | None = None


class VodRun(msgspec.Struct, frozen=True):
    """One ffmpeg run of a rendition: its init segment and segments, in order."""

    run: int
    init: str
    segments: tuple[VodSegment, ...]

    @property
    def duration(self) -> float:
        """Seconds of media in this run."""
        return sum(s.duration for s in self.segments)


class VodRendition(msgspec.Struct, frozen=True):
    """One rendition of the recording across every run, with what the multivariant needs."""

    name: str
    kind: MediaKind
    codec: str
    width: int = 0
    height: int = 0
    runs: tuple[VodRun, ...] = ()

    @property
    def duration(self) -> float:
        """Seconds of media in the whole rendition."""
        return sum(r.duration for r in self.runs)

    @property
    def playlist(self) -> str:
        """The media playlist name (``source.m3u8``)."""
        return names.playlist_name(self.name)


class Trim(msgspec.Struct, frozen=True):
    """The part of the recording to keep, in seconds from its start (``end`` None: to the end)."""

    start: float = 0.0
    end: float | None = None

    @property
    def whole(self) -> bool:
        """Whether nothing is cut."""
        return self.start <= 0 and self.end is None


class Recording(msgspec.Struct, frozen=True):
    """Every rendition of an ended broadcast: video renditions first (the source first)."""

    renditions: tuple[VodRendition, ...]

    def __post_init__(self) -> None:
        if not self.renditions:
            raise InvalidArgument("renditions", "a recording needs at least one rendition")
        if not any(r.kind is MediaKind.VIDEO for r in self.renditions):
            raise InvalidArgument("renditions", "a recording needs a video rendition")
        for rendition in self.renditions:
            names.parse_name(rendition.playlist)
            if not rendition.runs or not any(run.segments for run in rendition.runs):
                raise InvalidArgument(rendition.name, "has no segment")

    @property
    def video(self) -> tuple[VodRendition, ...]:
        """The video renditions, the source first."""
        return tuple(r for r in self.renditions if r.kind is MediaKind.VIDEO)

    @property
    def audio(self) -> VodRendition | None:
        """The original sound's rendition, if the broadcast had sound."""
        return next(
            (
                r
                for r in self.renditions
                if r.kind is MediaKind.AUDIO and interpretation_language(r.name) is None
            ),
            None,
        )

    @property
    def interpretations(self) -> tuple[VodRendition, ...]:
        """The interpretations' audio renditions (``audio-en``...)."""
        return tuple(
            r
            for r in self.renditions
            if r.kind is MediaKind.AUDIO and interpretation_language(r.name) is not None
        )

    @property
    def duration(self) -> float:
        """The length of the recording's timeline: the source rendition's seconds."""
        return self.video[0].duration

    @property
    def runs(self) -> tuple[int, ...]:
        """The run numbers the recording is made of, in order."""
        return tuple(run.run for run in self.video[0].runs)

    def rendition(self, playlist: str) -> VodRendition | None:
        """The rendition behind a media playlist name, if any."""
        return next((r for r in self.renditions if r.playlist == playlist), None)

    def segment(self, uri: str) -> VodSegment | None:
        """A listed segment by name (whatever the trim), or None."""
        for rendition in self.renditions:
            for run in rendition.runs:
                for segment in run.segments:
                    if segment.uri == uri:
                        return segment
        return None

    def has_init(self, uri: str) -> bool:
        """Whether ``uri`` is the init segment of one of the recording's runs."""
        return any(run.init == uri for r in self.renditions for run in r.runs)


WHOLE = Trim()


def segment_clocks(
    decode_time: int, timescale: int, clock_ms: int | None
) -> tuple[int | None, int]:
    """(program date time in ms, 90 kHz time) of a segment whose first fragment is decoded at
    ``decode_time`` of its run (``clock_ms``: the run's program date time at decode time 0)."""
    mpegts = decode_time * 90_000 // timescale
    if clock_ms is None:
        return None, mpegts
    return clock_ms + decode_time * 1000 // timescale, mpegts


def check_trim(start: float, end: float | None, duration: float) -> Trim:
    """A trim of a recording lasting ``duration`` s, or ``InvalidArgument`` saying what is wrong."""
    if not math.isfinite(start) or start < 0:
        raise InvalidArgument("start_seconds", "must not be negative")
    if end is not None:
        if not math.isfinite(end) or end < 0:
            raise InvalidArgument("end_seconds", "must not be negative")
        if end <= start:
            raise InvalidArgument("end_seconds", "must be after start_seconds")
        if end > duration + END_TOLERANCE:
            raise InvalidArgument(
                "end_seconds", f"must be at most the recording's duration ({duration:.2f} s)"
            )
    if start >= duration:
        raise InvalidArgument(
            "start_seconds", f"must be before the end of the recording ({duration:.2f} s)"
        )
    if end is not None and end >= duration:
        end = None
    return Trim(start=start, end=end)


def select(
    rendition: VodRendition, trim: Trim = WHOLE, *, required: bool = False
) -> list[tuple[VodRun, list[VodSegment]]]:
    """Per run, the segments that overlap the trim (segment-accurate), runs without one left
    out; ``required``: ``PlaylistConflict`` when no segment does."""
    chosen: list[tuple[VodRun, list[VodSegment]]] = []
    position = 0.0
    for run in rendition.runs:
        kept = []
        for segment in run.segments:
            begins, position = position, position + segment.duration
            if position <= trim.start + _EPSILON:
                continue
            if trim.end is not None and begins >= trim.end - _EPSILON:
                continue
            kept.append(segment)
        if kept:
            chosen.append((run, kept))
    if required and not chosen:
        raise PlaylistConflict("no segment of the recording lies inside the trim")
    return chosen


def target_duration(rendition: VodRendition) -> int:
    """EXT-X-TARGETDURATION: every EXTINF, rounded to the nearest integer, is at most this."""
    longest = max(
        (math.floor(s.duration + 0.5) for run in rendition.runs for s in run.segments), default=1
    )
    return max(1, longest)


def render_media(rendition: VodRendition, trim: Trim = WHOLE) -> str:
    """The VOD media playlist of ``rendition`` (only the segments inside ``trim``)."""
    chosen = select(rendition, trim, required=True)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{target_duration(rendition)}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
    ]
    for index, (run, segments) in enumerate(chosen):
        if index > 0:
            lines.append("#EXT-X-DISCONTINUITY")
        names.parse_name(run.init)
        lines.append(f'#EXT-X-MAP:URI="{run.init}"')
        for segment in segments:
            names.parse_name(segment.uri)
            lines.append(f"#EXTINF:{decimal(segment.duration)},")
            lines.append(segment.uri)
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _rates(rendition: VodRendition | None) -> tuple[int, int]:
    """(peak, average) bits per second over the rendition's segments."""
    if rendition is None:
        return 0, 0
    segments = [s for run in rendition.runs for s in run.segments if s.duration > 0]
    if not segments:
        return 0, 0
    peak = max(8 * s.length / s.duration for s in segments)
    average = 8 * sum(s.length for s in segments) / sum(s.duration for s in segments)
    return math.ceil(peak), math.ceil(average)


def render_multivariant(
    recording: Recording,
    subtitles: Sequence[SubtitleMedia] = (),
    language_names: Mapping[str, str] | None = None,
) -> str:
    """The replay's multivariant playlist: every video rendition, the shared audio (the
    original sound, then each interpretation, named by ``language_names``) and a subtitle
    rendition per caption language."""
    audio = recording.audio
    audio_media = None if audio is None else AudioMedia(uri=audio.playlist, codec=audio.codec)
    audio_peak, audio_average = _rates(audio)
    variants: list[VariantStream] = []
    for rendition in recording.video:
        peak, average = _rates(rendition)
        variants.append(
            VariantStream(
                uri=rendition.playlist,
                bandwidth=max(1, peak + audio_peak),
                average_bandwidth=max(1, average + audio_average),
                codecs=rendition.codec,
                resolution=(rendition.width, rendition.height) if rendition.width else None,
            )
        )
    spoken = []
    for rendition in recording.interpretations:
        language = interpretation_language(rendition.name) or ""
        name = (language_names or {}).get(language, language)
        spoken.append(
            AudioMedia(rendition.playlist, rendition.codec, name, language=language, default=False)
        )
    return llhls.render_multivariant(variants, audio_media, subtitles, spoken)


# --- the run journal ---------------------------------------------------------------------------

JOURNAL = "runs.jsonl"
CLAIMS = "claims.jsonl"


class JournalEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One line of a session's run journal: what an ffmpeg run carried, and its renditions.

    A run brought over from another node (``streaming.handover``) names that node (``origin``),
    its number there (``source_run``) and the ownership epoch it was recorded under. Once the
    run's first fragment is read, a second line for it adds ``clock_ms``: the program date time
    (ms since 1970) at its decode time 0, which times its segments in the replay (captions)."""

    run: int
    kind: RunKind
    renditions: tuple[str, ...] = ()
    epoch: int | None = None
    origin: str = ""
    source_run: int = 0
    clock_ms: int | None = None


class ClaimEntry(msgspec.Struct, frozen=True):
    """One line of a session's claim journal (``CLAIMS``): from run ``from_run`` on, this
    node's runs were made under ownership epoch ``epoch``."""

    epoch: int
    from_run: int


def journal_line(entry: JournalEntry | ClaimEntry) -> bytes:
    """The journal line for ``entry`` (JSON and a newline)."""
    return msgspec.json.encode(entry) + b"\n"


def parse_journal(data: bytes) -> dict[int, JournalEntry]:
    """Every readable entry of a journal by run (a torn or foreign line is skipped)."""
    entries: dict[int, JournalEntry] = {}
    for line in data.splitlines():
        try:
            entry = msgspec.json.decode(line, type=JournalEntry)
        except msgspec.DecodeError:
            continue
        entries[entry.run] = entry
    return entries


def parse_claims(data: bytes) -> list[ClaimEntry]:
    """Every readable line of a claim journal, in the order the runs they open were made."""
    claims: list[ClaimEntry] = []
    for line in data.splitlines():
        try:
            claims.append(msgspec.json.decode(line, type=ClaimEntry))
        except msgspec.DecodeError:
            continue
    return sorted(claims, key=lambda claim: (claim.from_run, claim.epoch))


def run_epoch(run: int, journal: Mapping[int, JournalEntry], claims: Sequence[ClaimEntry]) -> int:
    """The ownership epoch ``run`` was recorded under: the journal's for a run brought from
    another node, else that of the last claim made before it (0: before any claim)."""
    entry = journal.get(run)
    if entry is not None and entry.epoch is not None:
        return entry.epoch
    epoch = 0
    for claim in claims:
        if claim.from_run > run:
            break
        epoch = claim.epoch
    return epoch


def in_recording_order(
    runs: Iterable[int], journal: Mapping[int, JournalEntry], claims: Sequence[ClaimEntry]
) -> list[int]:
    """``runs`` in the order they were broadcast: by ownership epoch (the nodes took the
    session's media in that order), then by number (one node numbers its runs in order)."""
    return sorted(runs, key=lambda run: (run_epoch(run, journal, claims), run))
