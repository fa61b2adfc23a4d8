"""The programme as an iCalendar feed: properties, line format, escaping and cancelled sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from studio.ical import PRODID, render_calendar
from studio.models import Session, Studio
from studio.states import SessionState

T0 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
HOSTILE = 'Evil\nBEGIN:VEVENT\r\nUID:x, "quoted"; a\\b'
STUDIOS = {
    "std_a": Studio(id="std_a", name="Stora scenen", created_at=T0),
    "std_b": Studio(id="std_b", name="Studio; Norr, 2", created_at=T0),
}


def session(ident: str, studio_id: str = "std_a", **changes: Any) -> Session:
    """A 45-minute scheduled session at T0 (09:00 in Stockholm), with ``changes`` applied."""
    fields: dict[str, Any] = {
        "id": ident,
        "studio_id": studio_id,
        "title": "Opening: innovative municipalities",
        "description": "Three municipalities that changed how they work.",
        "speakers": ("Karin Lindqvist", "Mikael Berg"),
        "language": "sv",
        "starts_at": T0,
        "ends_at": T0 + timedelta(minutes=45),
        "state": SessionState.SCHEDULED,
        "auto_start": True,
        "auto_end": True,
        "created_at": T0 - timedelta(days=2),
        "updated_at": T0 - timedelta(days=1, hours=3),
    }
    fields.update(changes)
    return Session(**fields)


def render(sessions: list[Session], name: str = "Torget demo fair") -> bytes:
    """The feed for ``sessions`` as served from https://torget.example."""
    return render_calendar(
        sessions,
        STUDIOS,
        calendar_name=name,
        base_url="https://torget.example/",
        host="torget.example",
    )


def events(body: bytes) -> list[Any]:
    """The VEVENTs of a rendered feed, parsed back."""
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_calendar_and_event_properties() -> None:
    """The calendar names itself and each event carries times, text, place and links."""
    body = render([session("ses_1")])
    calendar = Calendar.from_ical(body)
    assert str(calendar["prodid"]) == PRODID == "-//Torget//Programme//EN"
    assert str(calendar["version"]) == "2.0"
    assert b"\r\nX-WR-CALNAME:Torget demo fair\r\n" in body
    (event,) = events(body)
    assert str(event["uid"]) == "ses_1@torget.example"
    assert event.decoded("dtstart") == T0
    assert event.decoded("dtend") == T0 + timedelta(minutes=45)
    assert event.decoded("dtstamp") == T0 - timedelta(days=1, hours=3)
    assert event.decoded("last-modified") == T0 - timedelta(days=1, hours=3)
    assert str(event["summary"]) == "Opening: innovative municipalities"
    assert str(event["location"]) == "Stora scenen"
    assert str(event["url"]) == "https://torget.example/s/ses_1"
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["description"]) == (
        "Three municipalities that changed how they work.\n\n"
        "Speakers: Karin Lindqvist, Mikael Berg\n\n"
        "https://torget.example/s/ses_1"
    )


def test_times_are_written_in_utc() -> None:
    """Start and end are UTC date-times whatever zone the record holds them in."""
    local = T0.astimezone(ZoneInfo("Europe/Stockholm"))
    body = render([session("ses_1", starts_at=local, ends_at=local + timedelta(hours=1))])
    assert b"\r\nDTSTART:20260520T070000Z\r\n" in body
    assert b"\r\nDTEND:20260520T080000Z\r\n" in body


def test_lines_end_with_crlf_and_long_lines_are_folded() -> None:
    """Every line ends with CRLF and none is longer than 75 octets."""
    body = render([session("ses_1", description="Lång beskrivning. " * 40)])
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)
    assert str(events(body)[0]["description"]).startswith(("Lång beskrivning. " * 40).strip())


def test_hostile_text_is_escaped_and_cannot_add_lines() -> None:
    """Line breaks, commas, semicolons and backslashes in user text stay inside their property."""
    body = render(
        [session("ses_1", "std_b", title=HOSTILE, description=HOSTILE, speakers=("A; B",))],
        name=HOSTILE,
    )
    unfolded = body.replace(b"\r\n ", b"")
    assert unfolded.count(b"\r\nBEGIN:VEVENT\r\n") == 1
    assert b"\r\nUID:ses_1@torget.example\r\n" in unfolded
    assert b'SUMMARY:Evil\\nBEGIN:VEVENT\\nUID:x\\, "quoted"\\; a\\\\b\r\n' in unfolded
    assert b'X-WR-CALNAME:Evil\\nBEGIN:VEVENT\\nUID:x\\, "quoted"\\; a\\\\b\r\n' in unfolded
    (event,) = events(body)
    assert str(event["summary"]) == 'Evil\nBEGIN:VEVENT\nUID:x, "quoted"; a\\b'
    assert str(event["location"]) == "Studio; Norr, 2"
    assert str(event["description"]).startswith('Evil\nBEGIN:VEVENT\nUID:x, "quoted"; a\\b\n\n')
    assert "Speakers: A; B\n\n" in str(event["description"])


def test_cancelled_sessions_stay_in_the_feed_as_cancelled() -> None:
    """A cancelled session is published with STATUS:CANCELLED so calendars remove it."""
    body = render([session("ses_1", state=SessionState.CANCELLED), session("ses_2")])
    statuses = {str(e["uid"]): str(e["status"]) for e in events(body)}
    assert statuses == {
        "ses_1@torget.example": "CANCELLED",
        "ses_2@torget.example": "CONFIRMED",
    }


def test_a_studio_feed_is_the_subset_of_sessions_passed() -> None:
    """Passing one studio's sessions yields exactly those events, with that studio as location."""
    all_sessions = [session("ses_1"), session("ses_2", "std_b"), session("ses_3", "std_b")]
    body = render([s for s in all_sessions if s.studio_id == "std_b"], name="Fair: Studio Norr")
    found = events(body)
    assert [str(e["uid"]) for e in found] == ["ses_2@torget.example", "ses_3@torget.example"]
    assert {str(e["location"]) for e in found} == {"Studio; Norr, 2"}


def test_empty_description_and_no_speakers_leave_only_the_link() -> None:
    """A session without text still gets a description holding its viewer URL."""
    body = render([session("ses_1", description="", speakers=())])
    assert str(events(body)[0]["description"]) == "https://torget.example/s/ses_1"


def test_an_empty_programme_is_a_valid_calendar() -> None:
    """No sessions still gives a parseable calendar with no events."""
    body = render([])
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert events(body) == []
