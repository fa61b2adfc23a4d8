"""The scheduler's pure decisions."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from studio.models import Session
from studio.schedule import Decision, decide
from studio.states import SessionEvent, SessionState
from tests.support.harness import T0

GRACE = timedelta(minutes=5)


def session(state: SessionState, **changes: object) -> Session:
    """A 09:00-09:45 session in the given state."""
    base = Session(
        id="ses_1",
        studio_id="std_1",
        title="Opening",
        description="",
        speakers=(),
        language="sv",
        starts_at=T0,
        ends_at=T0 + timedelta(minutes=45),
        state=state,
        auto_start=True,
        auto_end=True,
        created_at=T0,
        updated_at=T0,
    )
    return msgspec.structs.replace(base, **changes)


def test_ready_session_goes_live_at_its_start() -> None:
    """Ingest connected + auto-start: live at the planned minute, not a second before."""
    ready = session(SessionState.READY)
    assert decide(T0 - timedelta(seconds=1), [ready], end_grace=GRACE) == []
    assert decide(T0, [ready], end_grace=GRACE) == [
        Decision("ses_1", SessionEvent.GO_LIVE, "planned start")
    ]


def test_scheduled_session_without_ingest_does_not_go_live() -> None:
    """No publisher connected means nothing to put on air."""
    assert (
        decide(T0 + timedelta(minutes=1), [session(SessionState.SCHEDULED)], end_grace=GRACE) == []
    )


def test_auto_start_off_leaves_the_start_to_the_operator() -> None:
    """With auto-start off the scheduler waits for the operator."""
    manual = session(SessionState.READY, auto_start=False)
    assert decide(T0 + timedelta(minutes=1), [manual], end_grace=GRACE) == []


def test_live_session_ends_after_end_plus_grace() -> None:
    """A live session ends once the planned end plus grace has passed."""
    live = session(SessionState.LIVE)
    end = T0 + timedelta(minutes=45)
    assert decide(end + GRACE - timedelta(seconds=1), [live], end_grace=GRACE) == []
    assert decide(end + GRACE, [live], end_grace=GRACE) == [
        Decision("ses_1", SessionEvent.END, "planned end passed")
    ]


def test_auto_end_off_keeps_a_live_session_on() -> None:
    """An operator who turned auto-end off ends the broadcast themselves."""
    live = session(SessionState.LIVE, auto_end=False)
    assert decide(T0 + timedelta(hours=3), [live], end_grace=GRACE) == []


def test_session_that_never_went_live_is_ended_as_missed() -> None:
    """A scheduled session whose slot is over is closed, so the programme stays true."""
    missed = session(SessionState.SCHEDULED)
    assert decide(T0 + timedelta(minutes=50), [missed], end_grace=GRACE) == [
        Decision("ses_1", SessionEvent.END, "missed: never went live")
    ]


def test_ready_session_after_its_slot_does_not_go_live() -> None:
    """An ingest that connects after the slot ended does not start a broadcast."""
    late = session(SessionState.READY)
    assert decide(T0 + timedelta(minutes=46), [late], end_grace=GRACE) == []
