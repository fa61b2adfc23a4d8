"""The programme as an iCalendar feed (RFC 5545) that calendar apps can subscribe to.

Pure: records in, bytes out. Times are written in UTC; ``icalendar`` escapes user text (commas,
semicolons, backslashes, line breaks), folds long lines and ends every line with CRLF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from icalendar import Calendar, Event, vText

from studio.models import Session, Studio
from studio.states import SessionState

PRODID = "-//Torget//Programme//EN"


def render_calendar(
    sessions: Sequence[Session],
    studios: Mapping[str, Studio],
    *,
    calendar_name: str,
    base_url: str,
    host: str,
) -> bytes:
    """A VCALENDAR with one VEVENT per session; ``studios`` maps studio ids to studios."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", vText(calendar_name))  # X- names are not escaped unless typed
    base = base_url.rstrip("/")
    for session in sessions:
        calendar.add_component(_event(session, studios.get(session.studio_id), base, host))
    result: bytes = calendar.to_ical()
    return result


def _event(session: Session, studio: Studio | None, base: str, host: str) -> Event:
    url = f"{base}/s/{quote(session.id, safe='')}"
    event = Event()
    event.add("uid", f"{session.id}@{host}")
    event.add("dtstamp", _utc(session.updated_at))
    event.add("dtstart", _utc(session.starts_at))
    event.add("dtend", _utc(session.ends_at))
    event.add("summary", session.title)
    event.add("description", _description(session, url))
    if studio is not None:
        event.add("location", studio.name)
    event.add("url", url)
    cancelled = session.state is SessionState.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("last-modified", _utc(session.updated_at))
    return event


def _description(session: Session, url: str) -> str:
    parts = [session.description.strip()]
    if session.speakers:
        parts.append("Speakers: " + ", ".join(session.speakers))
    parts.append(url)
    return "\n\n".join(part for part in parts if part)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
