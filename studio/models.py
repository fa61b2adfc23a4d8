"""The programme's records and the inputs that create or change them, validated at the edge.

Inputs are msgspec structs: decoding checks types, lengths and formats; ``check_*`` functions
add the rules that span fields (an end after its start). Records are frozen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec

from studio.errors import InvalidInput
from studio.roles import Role
from studio.states import SessionState

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
NAME_MAX = 100
SPEAKER_MAX = 120
SPEAKERS_MAX = 30
MAX_SESSION_LENGTH = timedelta(hours=24)
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive: the last accepted year is 2100
OUT_OF_RANGE = "must lie in the years 2000 to 2100 (UTC)"

# Visible text: at least one non-space character and no control characters but tab and newline.
TEXT_PATTERN = (
    r"^[^\u0000-\u0008\u000b-\u001f\u007f]*[^\s\u0000-\u001f\u007f]"
    r"[^\u0000-\u0008\u000b-\u001f\u007f]*$"
)
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=TITLE_MAX, pattern=TEXT_PATTERN)]
Description = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX, pattern=TEXT_PATTERN)]
Speaker = Annotated[str, msgspec.Meta(min_length=1, max_length=SPEAKER_MAX, pattern=TEXT_PATTERN)]
Speakers = Annotated[list[Speaker], msgspec.Meta(max_length=SPEAKERS_MAX)]
Language = Annotated[
    str,
    msgspec.Meta(pattern=LANGUAGE_PATTERN, max_length=35, examples=["sv", "fi", "nb", "en"]),
]
Instant = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="ISO 8601 date-time with a UTC offset, in the years 2000 to 2100 (UTC)",
    ),
]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ExtendMinutes = Annotated[int, msgspec.Meta(ge=1, le=240)]


class Studio(msgspec.Struct, frozen=True, kw_only=True):
    """A stage, room, partner channel or city that broadcasts sessions."""

    id: str
    name: str
    created_at: datetime
    playout: bool = False  # its channel plays earlier replays between sessions


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """A scheduled broadcast in one studio."""

    id: str
    studio_id: str
    title: str
    description: str
    speakers: tuple[str, ...]
    language: str
    starts_at: datetime
    ends_at: datetime
    state: SessionState
    auto_start: bool
    auto_end: bool
    created_at: datetime
    updated_at: datetime
    qa_auto_approve: bool = False
    went_live_at: datetime | None = None
    ended_at: datetime | None = None


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    """A bearer token's record (the secret itself is only ever stored hashed)."""

    id: str
    role: Role
    name: str
    studio_ids: tuple[str, ...]
    created_at: datetime


class StudioInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/studios``."""

    name: Name


class StudioPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``PATCH /api/v1/studios/{id}``."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    playout: bool | msgspec.UnsetType = msgspec.UNSET


class SessionInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/sessions``."""

    studio_id: Ident
    title: Title
    starts_at: Instant
    ends_at: Instant
    description: Description = ""
    speakers: Speakers = msgspec.field(default_factory=list)
    language: Language | None = None
    auto_start: bool | None = None
    auto_end: bool = True
    qa_auto_approve: bool = False


class SessionPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``PATCH /api/v1/sessions/{id}``: only the fields given change."""

    studio_id: Ident | msgspec.UnsetType = msgspec.UNSET
    title: Title | msgspec.UnsetType = msgspec.UNSET
    starts_at: Instant | msgspec.UnsetType = msgspec.UNSET
    ends_at: Instant | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    speakers: Speakers | msgspec.UnsetType = msgspec.UNSET
    language: Language | msgspec.UnsetType = msgspec.UNSET
    auto_start: bool | msgspec.UnsetType = msgspec.UNSET
    auto_end: bool | msgspec.UnsetType = msgspec.UNSET
    qa_auto_approve: bool | msgspec.UnsetType = msgspec.UNSET


class ExtendInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/sessions/{id}/extend``: push the planned end later."""

    minutes: ExtendMinutes


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One moderator action, kept for accountability."""

    room: str
    at: datetime
    actor_id: str
    actor_name: str
    action: str
    target: str | None  # None: the room itself (slow mode, the word filter)
    detail: str


class TokenInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/tokens``."""

    role: Role
    name: Name
    studio_ids: list[Ident] = msgspec.field(default_factory=list)


def clean_text(field: str, value: str) -> str:
    """Strip surrounding whitespace and refuse text that is blank or holds control characters."""
    value = value.strip()
    if not value:
        raise InvalidInput(field, "must not be blank")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise InvalidInput(field, "must not contain control characters")
    return value


def in_range(moment: datetime) -> bool:
    """True for a time in the years 2000 to 2100 (UTC), where any conversion or arithmetic
    on it is safe. Comparing aware times is exact and cannot overflow (converting near year 1
    or 9999 can)."""
    return EARLIEST <= moment < LATEST


def check_instant(field: str, moment: datetime) -> None:
    """Refuse a time outside the years 2000 to 2100 (UTC), before any arithmetic on it."""
    if not in_range(moment):
        raise InvalidInput(field, OUT_OF_RANGE)


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    """Refuse a time out of range, an end not after the start, or a session over a day."""
    check_instant("starts_at", starts_at)
    check_instant("ends_at", ends_at)
    if ends_at <= starts_at:
        raise InvalidInput("ends_at", "must be after starts_at")
    if ends_at - starts_at > MAX_SESSION_LENGTH:
        raise InvalidInput("ends_at", "a session may last at most 24 hours")


def overlapping(
    starts_at: datetime, ends_at: datetime, others: list[Session], *, ignore_id: str = ""
) -> Session | None:
    """Return the first of ``others`` that shares time with [starts_at, ends_at), if any."""
    for other in others:
        if other.id == ignore_id or other.state is SessionState.CANCELLED:
            continue
        if other.starts_at < ends_at and starts_at < other.ends_at:
            return other
    return None
