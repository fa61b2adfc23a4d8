"""Programme documents: the studios and sessions of a programme file, made from the store's
records, and moved in time (by whole days for a rehearsal, or to begin at a given instant).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime

import msgspec

from studio.models import Session, Studio, in_range

COLUMNS = (
    "id",
    "studio",
    "title",
    "starts_at",
    "ends_at",
    "language",
    "speakers",
    "description",
    "auto_start",
    "auto_end",
    "state",
)


class ProgramStudio(msgspec.Struct):
    """A studio as a programme file names it."""

    name: str


class ProgramSession(msgspec.Struct, kw_only=True):
    """A session as a programme file describes it; ``studio`` is the studio's name."""

    id: str | None = None
    studio: str
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    speakers: list[str] = msgspec.field(default_factory=list)
    language: str | None = None
    state: str | None = None
    auto_start: bool | None = None
    auto_end: bool = True


class ProgramDocument(msgspec.Struct, kw_only=True):
    """A whole programme file."""

    event: str = ""
    timezone: str = "UTC"
    studios: list[ProgramStudio] = msgspec.field(default_factory=list)
    sessions: list[ProgramSession] = msgspec.field(default_factory=list)


def document_from(
    studios: Sequence[Studio], sessions: Sequence[Session], *, event: str, timezone: str
) -> ProgramDocument:
    """The store's studios and sessions as a document, times in the event's zone."""
    zone = zoneinfo.ZoneInfo(timezone)
    names = {studio.id: studio.name for studio in studios}
    entries = [
        ProgramSession(
            id=s.id,
            studio=names[s.studio_id],
            title=s.title,
            starts_at=_in_zone(s.starts_at, zone),
            ends_at=_in_zone(s.ends_at, zone),
            description=s.description,
            speakers=list(s.speakers),
            language=s.language,
            state=s.state.value,
            auto_start=s.auto_start,
            auto_end=s.auto_end,
        )
        for s in sessions
    ]
    entries.sort(key=lambda s: (s.starts_at, s.studio, s.id or ""))
    return ProgramDocument(
        event=event,
        timezone=timezone,
        studios=[ProgramStudio(studio.name) for studio in studios],
        sessions=entries,
    )


def _in_zone(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """``moment`` in ``zone``; as stored (UTC) when out of the accepted range, where converting
    could overflow (a row written before the range was checked: an import then names it)."""
    return moment.astimezone(zone) if in_range(moment) else moment


def rebase(doc: ProgramDocument, first_day: date) -> ProgramDocument:
    """Move every session by whole days so the first one falls on ``first_day``.

    Days and wall-clock times are those of ``doc.timezone``: 09:00 stays 09:00 across a DST change.
    """
    if not doc.sessions:
        return doc
    zone = zoneinfo.ZoneInfo(doc.timezone)
    earliest = min(s.starts_at for s in doc.sessions).astimezone(zone).date()
    days = first_day - earliest

    def shift(moment: datetime) -> datetime:
        wall = moment.astimezone(zone).replace(tzinfo=None)
        return (wall + days).replace(tzinfo=zone)

    sessions = [
        msgspec.structs.replace(s, starts_at=shift(s.starts_at), ends_at=shift(s.ends_at))
        for s in doc.sessions
    ]
    return msgspec.structs.replace(doc, sessions=sessions)


def shift_to_start(doc: ProgramDocument, first_start: datetime) -> ProgramDocument:
    """Move every session by one exact offset so the earliest starts at ``first_start``."""
    if not doc.sessions:
        return doc
    offset = first_start - min(s.starts_at for s in doc.sessions)

    def shift(moment: datetime) -> datetime:
        # Exact arithmetic happens in UTC: aware + timedelta in one zone is wall-clock time.
        return (moment.astimezone(UTC) + offset).astimezone(moment.tzinfo)

    sessions = [
        msgspec.structs.replace(s, starts_at=shift(s.starts_at), ends_at=shift(s.ends_at))
        for s in doc.sessions
    ]
    return msgspec.structs.replace(doc, sessions=sessions)
