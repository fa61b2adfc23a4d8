"""Caption files: WebVTT (HLS subtitle segments, the ``.vtt`` download) and SubRip (``.srt``).
Pure; times in seconds from the file's own zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

VTT_TYPE = "text/vtt"
SRT_TYPE = "application/x-subrip"


class HasTimes(Protocol):
    """A cue on the program date time clock (``studio.captions.cues.Cue``)."""

    @property
    def start_ms(self) -> int: ...
    @property
    def end_ms(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class TimedLine:
    """A line of text shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def vtt_time(seconds: float) -> str:
    """A WebVTT timestamp: ``HH:MM:SS.mmm``."""
    return _clock(seconds, ".")


def srt_time(seconds: float) -> str:
    """A SubRip timestamp: ``HH:MM:SS,mmm``."""
    return _clock(seconds, ",")


def vtt_text(text: str) -> str:
    """Cue text as WebVTT shows it literally: ``&``, ``<`` and ``>`` escaped, so a line can
    neither open a tag nor end the cue's timing line (``-->``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(lines: Sequence[TimedLine], *, header: Sequence[str] = ()) -> str:
    """A WebVTT file: the signature, the ``header`` lines (``X-TIMESTAMP-MAP``), then a cue per
    line with its number as id."""
    out = ["WEBVTT", *header, ""]
    for number, line in enumerate(lines, start=1):
        out += [
            str(number),
            f"{vtt_time(line.start)} --> {vtt_time(line.end)}",
            vtt_text(line.text),
            "",
        ]
    return "\n".join(out) + "\n"


def render_srt(lines: Sequence[TimedLine]) -> str:
    """A SubRip file: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, the text, a blank line."""
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        out += [str(number), f"{srt_time(line.start)} --> {srt_time(line.end)}", line.text, ""]
    return "\n".join(out) + ("\n" if out else "")


def lines_from(cues: Sequence[HasTimes], zero_ms: int) -> list[TimedLine]:
    """Cues as lines timed from ``zero_ms`` (a recording's start); cues that ended before it
    are left out, one that began before it starts at zero."""
    return [
        TimedLine(max(0, cue.start_ms - zero_ms) / 1000, (cue.end_ms - zero_ms) / 1000, cue.text)
        for cue in cues
        if cue.end_ms > zero_ms
    ]
