"""Importing a programme: what a document creates and updates, decided from the store's studios
and sessions (the store writes the plan in the transaction it read them in).

Studios are matched by name, sessions by id; a session without an id, or with an id the store
does not have, is new. A session's slot must be free, counting the sessions placed before it in
the same document. A new session gets no stream key (an operator rotates one when it is needed):
it stores ``secrets.no_stream_key``, which no key hashes to.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from studio.errors import ScheduleOverlap
from studio.models import MAX_SESSION_LENGTH, Session, Studio, overlapping
from studio.program_io.document import ProgramDocument, ProgramSession
from studio.secrets import new_id, no_stream_key
from studio.states import SessionState


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a programme import changed."""

    studios_created: int
    sessions_created: int
    sessions_updated: int


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The writes of an import: studios to create, sessions to create (each with the hash its
    stream key column holds) and sessions to update, in that order."""

    new_studios: list[Studio]
    created: list[tuple[Session, str]]
    updated: list[Session]

    def result(self) -> ImportResult:
        """How many studios and sessions the plan creates and updates."""
        return ImportResult(len(self.new_studios), len(self.created), len(self.updated))


@dataclass(frozen=True, slots=True)
class ImportDefaults:
    """What a session the document leaves open gets, and the time of the import."""

    now: datetime
    language: str
    auto_start: bool


def plan_import(
    doc: ProgramDocument,
    studios: list[Studio],
    sessions: list[Session],
    defaults: ImportDefaults,
) -> ImportPlan:
    """The writes that bring ``doc`` into a store holding ``studios`` and ``sessions``; raise
    ``ScheduleOverlap`` naming the first session of the document whose slot is taken."""
    by_name = {studio.name: studio.id for studio in studios}
    new_studios: list[Studio] = []
    for name in dict.fromkeys([s.name for s in doc.studios] + [s.studio for s in doc.sessions]):
        if name not in by_name:
            studio = Studio(id=new_id("std"), name=name, created_at=defaults.now)
            by_name[name] = studio.id
            new_studios.append(studio)
    placed = _Slots(sessions)
    created: list[tuple[Session, str]] = []
    updated: list[Session] = []
    for index, entry in enumerate(doc.sessions):
        existing = placed.get(entry.id) if entry.id else None
        session = _session(entry, by_name[entry.studio], existing, defaults)
        clash = placed.clash(session)
        if clash is not None:
            found = ScheduleOverlap(clash.id, clash.title)
            raise ScheduleOverlap(clash.id, f"{found.message}; in sessions[{index}]")
        placed.place(session)
        if existing is None:
            created.append((session, no_stream_key(session.id)))
        else:
            updated.append(session)
    return ImportPlan(new_studios, created, updated)


def _session(
    entry: ProgramSession, studio_id: str, existing: Session | None, defaults: ImportDefaults
) -> Session:
    """The record of ``entry``; an existing session keeps its state, times on air and Q&A flag."""
    state = SessionState.SCHEDULED
    if entry.state == SessionState.CANCELLED.value:
        state = SessionState.CANCELLED
    return Session(
        id=entry.id or new_id("ses"),
        studio_id=studio_id,
        title=entry.title,
        description=entry.description,
        speakers=tuple(entry.speakers),
        language=entry.language or defaults.language,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        state=existing.state if existing else state,
        auto_start=defaults.auto_start if entry.auto_start is None else entry.auto_start,
        auto_end=entry.auto_end,
        qa_auto_approve=existing.qa_auto_approve if existing else False,
        created_at=existing.created_at if existing else defaults.now,
        updated_at=defaults.now,
        went_live_at=existing.went_live_at if existing else None,
        ended_at=existing.ended_at if existing else None,
    )


class _Slots:
    """The sessions placed so far, each studio's in (start, id) order.

    A session lasts at most ``MAX_SESSION_LENGTH``, so only those starting within that much
    before a slot can clash with it: finding the first clash looks at a day's sessions, not the
    whole programme (a 1 MB file has thousands of sessions).
    """

    def __init__(self, sessions: Iterable[Session]) -> None:
        self._by_id: dict[str, Session] = {}
        self._starts: dict[str, list[tuple[datetime, str]]] = {}
        for session in sessions:
            self.place(session)

    def get(self, session_id: str) -> Session | None:
        """The session placed under ``session_id``, if any."""
        return self._by_id.get(session_id)

    def place(self, session: Session) -> None:
        """Place ``session``, replacing an earlier placement of its id."""
        old = self._by_id.get(session.id)
        if old is not None:
            starts = self._starts[old.studio_id]
            del starts[bisect.bisect_left(starts, (old.starts_at, old.id))]
        self._by_id[session.id] = session
        bisect.insort(
            self._starts.setdefault(session.studio_id, []), (session.starts_at, session.id)
        )

    def clash(self, session: Session) -> Session | None:
        """The first placed session (other than itself) that shares time with ``session``."""
        starts = self._starts.get(session.studio_id, [])
        low = bisect.bisect_left(starts, (session.starts_at - MAX_SESSION_LENGTH,))
        high = bisect.bisect_left(starts, (session.ends_at,))
        window = [self._by_id[ident] for _, ident in starts[low:high]]
        return overlapping(session.starts_at, session.ends_at, window, ignore_id=session.id)
