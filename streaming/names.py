"""File and URL names of a session's HLS directory, and the one strict parser for them.

``index.m3u8``, ``source.m3u8`` (one media playlist per rendition; ``audio-en.m3u8`` an
interpretation's audio), ``r0003_1_init.mp4`` (run 3, rendition 1), ``r0003_1_000042.m4s``
(segment 42) and ``r0003_1_000042.2.m4s`` (part 2, a byte range of it); captions:
``subs-sv.m3u8`` (the subtitle playlist of a caption language) and ``r0003_0_000042.sv.vtt``
(its WebVTT segment beside segment 42 of rendition 0). ``parse_name`` accepts only the
canonical spelling, so a name that parses is safe to join to the session directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streaming.errors import InvalidName
from streaming.vocab import ResourceKind

MULTIVARIANT = "index.m3u8"
MAX_RUN = 999_999
MAX_RENDITION = 99
# Runs one ownership epoch may start before the next owner's numbers begin (``first_run``).
RUNS_PER_EPOCH = 100
# Media sequence numbers a pipeline may use before the next pipeline's begin (``first_msn``):
# a day of one-second segments, and more.
MSN_PER_RUN = 100_000

_INIT = re.compile(r"r([0-9]{4,6})_([0-9]{1,2})_init\.mp4")
_SEGMENT = re.compile(r"r([0-9]{4,6})_([0-9]{1,2})_([0-9]{6,9})\.m4s")
_PART = re.compile(r"r([0-9]{4,6})_([0-9]{1,2})_([0-9]{6,9})\.([0-9]{1,3})\.m4s")
_LANGUAGE = r"[a-z]{2,3}(?:-[A-Z]{2})?"
_PLAYLIST = re.compile(rf"(index|source|audio|audio-{_LANGUAGE}|[1-9][0-9]{{2,3}}p)\.m3u8")
_SUBTITLE_PLAYLIST = re.compile(rf"subs-({_LANGUAGE})\.m3u8")
_CUES = re.compile(rf"r([0-9]{{4,6}})_([0-9]{{1,2}})_([0-9]{{6,9}})\.({_LANGUAGE})\.vtt")


@dataclass(frozen=True)
class ResourceName:
    """A parsed, canonical resource name."""

    kind: ResourceKind
    name: str
    run: int = 0
    rendition: int = 0
    number: int = 0
    part: int = 0
    language: str = ""


def first_run(epoch: int, next_free: int, held_before: bool) -> int:
    """The first run number of a claim of a session's media under ownership ``epoch`` by a
    node whose next free run number is ``next_free``: that one when this node ``held_before``
    (the previous epoch was its own), else one beyond every number an earlier owner used
    (with fewer than ``RUNS_PER_EPOCH`` runs an epoch), so that no name an earlier owner
    published, which caches keep as immutable, ever names other media."""
    if epoch <= 1 or held_before:
        return next_free
    return min(max(next_free, (epoch - 1) * RUNS_PER_EPOCH + 1), MAX_RUN)


def first_msn(run: int) -> int:
    """The media sequence number of the first segment of a pipeline whose first run is
    ``run``: 0 for run 1, and beyond any number an earlier pipeline of the session used, so
    a blocking reload (cached by its ``_HLS_msn``) never names another pipeline's segment."""
    return (run - 1) * MSN_PER_RUN


def _check(run: int, rendition: int) -> None:
    if not 1 <= run <= MAX_RUN:
        raise ValueError(f"run {run} is outside 1..{MAX_RUN}")
    if not 0 <= rendition <= MAX_RENDITION:
        raise ValueError(f"rendition {rendition} is outside 0..{MAX_RENDITION}")


def init_name(run: int, rendition: int) -> str:
    """The init segment ffmpeg writes for ``rendition`` in ``run``."""
    _check(run, rendition)
    return f"r{run:04d}_{rendition}_init.mp4"


def segment_name(run: int, rendition: int, number: int) -> str:
    """The media segment ffmpeg writes as number ``number`` (from 1) of ``rendition``."""
    _check(run, rendition)
    return f"r{run:04d}_{rendition}_{number:06d}.m4s"


def part_name(run: int, rendition: int, number: int, part: int) -> str:
    """The URI of part ``part`` (from 0) of a segment."""
    _check(run, rendition)
    return f"r{run:04d}_{rendition}_{number:06d}.{part}.m4s"


def playlist_name(rendition_name: str) -> str:
    """The media playlist name of a rendition (``source``, ``720p``, ``audio``)."""
    return f"{rendition_name}.m3u8"


def subtitle_playlist_name(language: str) -> str:
    """The subtitle playlist of a caption language (``subs-sv.m3u8``)."""
    return f"subs-{language}.m3u8"


def cues_name(segment_file: str, language: str) -> str:
    """The WebVTT segment of ``language`` beside a video segment (same run, rendition and
    number): ``r0003_0_000042.sv.vtt``."""
    return f"{segment_file.removesuffix('.m4s')}.{language}.vtt"


def init_template(run: int) -> str:
    """ffmpeg's dash ``-init_seg_name`` template for ``run``."""
    _check(run, 0)
    return f"r{run:04d}_$RepresentationID$_init.mp4"


def media_template(run: int) -> str:
    """ffmpeg's dash ``-media_seg_name`` template for ``run``."""
    _check(run, 0)
    return f"r{run:04d}_$RepresentationID$_$Number%06d$.m4s"


def manifest_name(run: int) -> str:
    """The MPD ffmpeg writes for ``run`` (never served; playlists are ours)."""
    _check(run, 0)
    return f"r{run:04d}.mpd"


def parse_name(name: str) -> ResourceName:
    """Parse a requested or written name; anything not canonical raises ``InvalidName``."""
    if len(name) > 64 or not name.isascii():
        raise InvalidName(name)
    parsed: ResourceName | None = None
    try:
        if match := _PART.fullmatch(name):
            run, rend, number, part = (int(g) for g in match.groups())
            if number >= 1:
                parsed = ResourceName(
                    ResourceKind.PART, part_name(run, rend, number, part), run, rend, number, part
                )
        elif match := _SEGMENT.fullmatch(name):
            run, rend, number = (int(g) for g in match.groups())
            if number >= 1:
                parsed = ResourceName(
                    ResourceKind.SEGMENT, segment_name(run, rend, number), run, rend, number
                )
        elif match := _INIT.fullmatch(name):
            run, rend = (int(g) for g in match.groups())
            parsed = ResourceName(ResourceKind.INIT, init_name(run, rend), run, rend)
        elif _PLAYLIST.fullmatch(name):
            parsed = ResourceName(ResourceKind.PLAYLIST, name)
        elif match := _SUBTITLE_PLAYLIST.fullmatch(name):
            parsed = ResourceName(ResourceKind.SUBTITLE_PLAYLIST, name, language=match[1])
        elif match := _CUES.fullmatch(name):
            run, rend, number = (int(g) for g in match.groups()[:3])
            if number >= 1:
                segment = segment_name(run, rend, number)
                parsed = ResourceName(
                    ResourceKind.CUES, cues_name(segment, match[4]), run, rend, number,
                    language=match[4],
                )  # fmt: skip
    except ValueError:
        parsed = None
    if parsed is None or parsed.name != name:
        raise InvalidName(name)
    return parsed
