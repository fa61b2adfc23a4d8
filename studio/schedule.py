"""The scheduler's decisions: which sessions to move at a given instant. Pure.

At the planned start, a ready session (ingest connected) with auto-start goes live. At the planned
end plus the grace period, a live session with auto-end ends; a session that never went live is
ended as missed. Extending a session moves its planned end, so it is not ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from studio.models import Session
from studio.states import SessionEvent, SessionState


@dataclass(frozen=True, slots=True)
class Decision:
    """Apply ``event`` to the session ``session_id``, because of ``reason``."""

    session_id: str
    event: SessionEvent
    reason: str


def decide(now: datetime, sessions: Iterable[Session], *, end_grace: timedelta) -> list[Decision]:
    """Return the lifecycle steps due at ``now`` for ``sessions``, in input order."""
    decisions: list[Decision] = []
    for session in sessions:
        overdue = now >= session.ends_at + end_grace
        if session.state is SessionState.LIVE:
            if session.auto_end and overdue:
                decisions.append(Decision(session.id, SessionEvent.END, "planned end passed"))
        elif session.state in (SessionState.SCHEDULED, SessionState.READY):
            if overdue:
                decisions.append(Decision(session.id, SessionEvent.END, "missed: never went live"))
            elif (
                session.state is SessionState.READY
                and session.auto_start
                and session.starts_at <= now < session.ends_at
            ):
                decisions.append(Decision(session.id, SessionEvent.GO_LIVE, "planned start"))
    return decisions
