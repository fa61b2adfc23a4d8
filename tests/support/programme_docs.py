"""Programme records and documents the programme file tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.settings import DEMO_PROGRAM_FILE
from studio.models import Session, Studio
from studio.program_io import ProgramDocument, document_from, parse_yaml
from studio.states import SessionState
from tests.support.harness import T0


def studio(ident: str, name: str) -> Studio:
    """A studio record."""
    return Studio(id=ident, name=name, created_at=T0)


def session(ident: str, studio_id: str, title: str, start: timedelta, **extra: Any) -> Session:
    """A 45-minute session record starting ``start`` after T0."""
    fields: dict[str, Any] = {
        "description": "",
        "speakers": (),
        "language": "sv",
        "state": SessionState.SCHEDULED,
        "auto_start": True,
        "auto_end": True,
    }
    fields.update(extra)
    return Session(
        id=ident,
        studio_id=studio_id,
        title=title,
        starts_at=T0 + start,
        ends_at=T0 + start + timedelta(minutes=45),
        created_at=T0,
        updated_at=T0,
        **fields,
    )


def store_document() -> ProgramDocument:
    """An export of store records, with awkward text, a cancelled session and an empty studio."""
    studios = [
        studio("std_b", "Stora scenen"),
        studio("std_a", "Studio Norr"),
        studio("std_c", "Tom"),
    ]
    sessions = [
        session("ses_2", "std_b", "Later", timedelta(hours=1), auto_start=False, auto_end=False),
        session(
            "ses_1",
            "std_b",
            '=HYPERLINK("http://evil") ; "quoted", title',
            timedelta(0),
            description="- first point\n- second; point\r\nthird: yes\n",
            speakers=("Anna Öberg", "Bo; the second", "C\\D"),
            language="en-GB",
            state=SessionState.CANCELLED,
        ),
        session("ses_3", "std_a", "yes", timedelta(0), speakers=("@handle",), language="fi"),
    ]
    return document_from(studios, sessions, event="Torget demo fair", timezone="Europe/Stockholm")


def demo() -> ProgramDocument:
    """The shipped demo programme."""
    return parse_yaml(DEMO_PROGRAM_FILE.read_text(encoding="utf-8"))


def largest_programme(limit: int, *, studios: int = 1, csv: bool = False) -> tuple[bytes, int]:
    """A valid programme file (YAML, or CSV) of at most ``limit`` bytes and as close to it as
    whole sessions allow: back-to-back half hours in ``studios`` studios from 2030 on. Returns
    the file and its number of sessions."""
    start = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
    head = "studio,title,starts_at,ends_at,speakers,description\n" if csv else "sessions:\n"
    parts, size, count = [head], len(head), 0
    while True:
        begins = start + timedelta(minutes=30 * (count // studios))
        ends = begins + timedelta(minutes=25)
        name, title = f"Studio {count % studios}", f"Session {count}: open data in practice"
        about = "How municipalities share what they know and what people do with it."
        if csv:
            entry = (
                f"{name},{title},{begins.isoformat()},{ends.isoformat()},Anna Berg; Bo Ek,{about}\n"
            )
        else:
            entry = (
                f"  - studio: {name}\n    title: '{title}'\n"
                f"    starts_at: '{begins.isoformat()}'\n    ends_at: '{ends.isoformat()}'\n"
                f"    speakers: [Anna Berg, Bo Ek]\n    description: {about}\n"
            )
        if size + len(entry.encode()) > limit:
            return "".join(parts).encode(), count
        parts.append(entry)
        size += len(entry.encode())
        count += 1
