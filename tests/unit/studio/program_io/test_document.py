"""Programme documents: made from store records, the demo programme, and moved in time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from config.settings import DEMO_PROGRAM_FILE
from studio.program_io import ProgramDocument, parse_yaml, rebase, shift_to_start, to_yaml
from tests.support.programme_docs import demo, store_document


def test_document_from_names_studios_and_sorts_in_event_zone() -> None:
    """Export resolves studio names, sorts by start then studio, and writes local offsets."""
    doc = store_document()
    assert [s.name for s in doc.studios] == ["Stora scenen", "Studio Norr", "Tom"]
    assert [(s.id, s.studio) for s in doc.sessions] == [
        ("ses_1", "Stora scenen"),
        ("ses_3", "Studio Norr"),
        ("ses_2", "Stora scenen"),
    ]
    first = doc.sessions[0]
    assert first.starts_at.isoformat() == "2026-05-20T09:00:00+02:00"
    assert (first.state, first.language, first.auto_start) == ("cancelled", "en-GB", True)
    assert "starts_at: '2026-05-20T09:00:00+02:00'" in to_yaml(doc)


# --- the demo programme -----------------------------------------------------------------------


def test_demo_programme_has_three_studios_and_thirty_sessions_without_overlaps() -> None:
    """The shipped demo parses, spans two days 09:00-17:00 and never double-books a studio."""
    doc = demo()
    assert doc.timezone == "Europe/Stockholm"
    assert [s.name for s in doc.studios] == ["Stora scenen", "Studio Norr", "Partnerkanalen"]
    assert len(doc.sessions) == 30
    days = {s.starts_at.date() for s in doc.sessions}
    assert days == {date(2026, 5, 20), date(2026, 5, 21)}
    for entry in doc.sessions:
        assert entry.starts_at.hour >= 9
        assert (entry.ends_at.hour, entry.ends_at.minute) <= (17, 0)
        assert entry.language in {"sv", "fi", "nb", "en"}
        assert entry.speakers
        assert entry.description
        others = [o for o in doc.sessions if o.studio == entry.studio and o is not entry]
        clash = [o for o in others if o.starts_at < entry.ends_at and entry.starts_at < o.ends_at]
        assert clash == [], entry.title
    assert doc.sessions[0].title == "Opening: innovative municipalities"


# --- rebase -----------------------------------------------------------------------------------


def test_rebase_moves_the_first_day_and_keeps_wall_clock_times() -> None:
    """The earliest session lands on the given day; every session keeps its local time."""
    doc = demo()
    moved = rebase(doc, date(2027, 1, 11))
    assert moved.sessions[0].starts_at.isoformat() == "2027-01-11T09:00:00+01:00"
    assert {s.starts_at.date() for s in moved.sessions} == {date(2027, 1, 11), date(2027, 1, 12)}
    for before, after in zip(doc.sessions, moved.sessions, strict=True):
        assert after.starts_at.time() == before.starts_at.time()
        assert after.ends_at - after.starts_at == before.ends_at - before.starts_at
        assert (after.title, after.studio) == (before.title, before.studio)


def test_rebase_across_a_dst_change_keeps_local_times() -> None:
    """A programme moved onto the autumn clock change keeps 09:00 as 09:00 on both days."""
    moved = rebase(demo(), date(2026, 10, 24))  # Sunday 25 October: clocks go back
    first_day = [s for s in moved.sessions if s.starts_at.date() == date(2026, 10, 24)]
    second_day = [s for s in moved.sessions if s.starts_at.date() == date(2026, 10, 25)]
    assert first_day[0].starts_at.isoformat() == "2026-10-24T09:00:00+02:00"
    assert second_day[0].starts_at.isoformat() == "2026-10-25T09:00:00+01:00"
    assert second_day[0].starts_at.astimezone(UTC).hour == 8


def test_rebase_backwards_and_of_an_empty_document() -> None:
    """Moving to an earlier day works, and a document without sessions is returned as is."""
    moved = rebase(demo(), date(2026, 3, 28))  # the day before the spring change
    assert moved.sessions[-1].starts_at.isoformat() == "2026-03-29T13:00:00+02:00"
    empty = ProgramDocument()
    assert rebase(empty, date(2026, 1, 1)) is empty


# --- shift to start ---------------------------------------------------------------------------


def test_shift_to_start_moves_every_session_by_one_offset() -> None:
    """The earliest session lands on the given instant; gaps and lengths stay the same."""
    doc = parse_yaml(DEMO_PROGRAM_FILE.read_text(encoding="utf-8"))
    target = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    shifted = shift_to_start(doc, target)
    assert min(s.starts_at for s in shifted.sessions) == target
    for before, after in zip(doc.sessions, shifted.sessions, strict=True):
        assert after.ends_at - after.starts_at == before.ends_at - before.starts_at
        assert after.starts_at - target == before.starts_at - min(s.starts_at for s in doc.sessions)
