"""Caption cues: what a captioner or a caption service sends, the rules a line must pass, and
the cue kept with the session. Pure.

A cue's times are program date times (UTC, in milliseconds since 1970): the moment of the
picture the line belongs to. HLS segments carry the same clock (``EXT-X-PROGRAM-DATE-TIME``),
so every player shows the line with the picture it was written for (docs/captions.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import msgspec

from studio.errors import Conflict, InvalidInput
from studio.models import Instant, Session
from studio.states import SessionState

TEXT_LIMIT = 4000  # what decoding reads at most; the event's own limit is checked after
MIN_SHOWN_MS = 1500  # a line without an end is shown at least this long,
MAX_SHOWN_MS = 7000  # at most this long,
READING_CHARS_PER_S = 15  # and long enough to read at this pace
MAX_CUE_MS = 30_000  # the longest a cue may last
MAX_AHEAD_MS = 5_000  # how far ahead of the server's clock a cue may start
SHIFT_LIMIT_MS = 3_600_000  # a correction moves cues by at most an hour

CueText = Annotated[str, msgspec.Meta(max_length=TEXT_LIMIT)]
LanguageTag = Annotated[str, msgspec.Meta(max_length=35)]


class CaptionInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One caption line: ``POST /api/v1/sessions/{id}/captions`` and the caption websocket."""

    text: CueText
    language: LanguageTag
    start: Instant | None = None
    end: Instant | None = None


class CaptionPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A correction of one cue: new text, and/or its times moved by ``shift_ms``."""

    text: CueText | None = None
    shift_ms: Annotated[int, msgspec.Meta(ge=-SHIFT_LIMIT_MS, le=SHIFT_LIMIT_MS)] = 0


class CaptionShift(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Move every cue of one language of a session by ``shift_ms`` (a late captioner)."""

    language: LanguageTag
    shift_ms: Annotated[int, msgspec.Meta(ge=-SHIFT_LIMIT_MS, le=SHIFT_LIMIT_MS)]


class Cue(msgspec.Struct, frozen=True, kw_only=True):
    """A caption line kept with its session."""

    id: str
    session_id: str
    language: str
    text: str
    start_ms: int
    end_ms: int
    author: str
    created_at: datetime
    updated_at: datetime


def clean_line(text: str, max_chars: int) -> str:
    """The line without surrounding spaces; raise InvalidInput when it is empty, holds a
    control character (a line break, a tab) or is longer than ``max_chars``."""
    line = text.strip()
    if not line:
        raise InvalidInput("text", "a caption line needs some text")
    if any(unicodedata.category(ch) == "Cc" for ch in line):
        raise InvalidInput(
            "text", "a caption line may not hold control characters (line breaks, tabs)"
        )
    if len(line) > max_chars:
        raise InvalidInput(
            "text",
            f"a caption line may be at most {max_chars} characters (this one has {len(line)})",
        )
    return line


def check_language(language: str, languages: Sequence[str], field: str = "language") -> str:
    """``language`` if the event captions in it; raise InvalidInput (on ``field``) naming the
    ones it does."""
    if language not in languages:
        raise InvalidInput(
            field,
            f"{language!r} is not a caption language of this event "
            f"(it captions in {', '.join(languages)})",
        )
    return language


def check_live(session: Session) -> None:
    """Raise Conflict unless the session is on air (captions are live; corrections come later)."""
    if session.state is not SessionState.LIVE:
        raise Conflict(
            f"the session is {session.state.value}; captions are taken only while it is live"
        )


def shown_for_ms(line: str) -> int:
    """How long a line without an end stays on screen: long enough to read, within bounds."""
    return max(MIN_SHOWN_MS, min(MAX_SHOWN_MS, len(line) * 1000 // READING_CHARS_PER_S))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def recording_zero_ms(session: Session) -> int:
    """The program date time (ms) where the session's recording, and so its replay, begins:
    when it went live (to within a keyframe interval with the default slate), else its start."""
    return _ms(session.went_live_at or session.starts_at)


def cue_times(
    now: datetime, line: str, start: datetime | None, end: datetime | None
) -> tuple[int, int]:
    """(start, end) in ms: the picture's time the line belongs to (now unless given) and when
    it leaves the screen; raise InvalidInput for an end not after the start, a cue longer than
    ``MAX_CUE_MS`` or one starting more than ``MAX_AHEAD_MS`` ahead of ``now``."""
    now_ms = _ms(now)
    start_ms = now_ms if start is None else _ms(start)
    if start_ms > now_ms + MAX_AHEAD_MS:
        raise InvalidInput("start", "a caption may not start more than 5 seconds from now")
    end_ms = start_ms + shown_for_ms(line) if end is None else _ms(end)
    if end_ms <= start_ms:
        raise InvalidInput("end", "a caption must end after it starts")
    if end_ms - start_ms > MAX_CUE_MS:
        raise InvalidInput("end", "a caption may last at most 30 seconds")
    return start_ms, end_ms


def corrected(cue: Cue, patch: CaptionPatch, max_chars: int, now: datetime) -> Cue:
    """The cue with the patch's text and times (a line corrected after the event)."""
    text = cue.text if patch.text is None else clean_line(patch.text, max_chars)
    return msgspec.structs.replace(
        cue,
        text=text,
        start_ms=cue.start_ms + patch.shift_ms,
        end_ms=cue.end_ms + patch.shift_ms,
        updated_at=now,
    )
