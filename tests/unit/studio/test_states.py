"""The session lifecycle state machine."""

from __future__ import annotations

import pytest

from studio.errors import InvalidTransition
from studio.states import SessionEvent, SessionState, allowed_events, next_state

S, E = SessionState, SessionEvent


@pytest.mark.parametrize(
    ("state", "event", "after"),
    [
        (S.SCHEDULED, E.INGEST_UP, S.READY),
        (S.READY, E.INGEST_DOWN, S.SCHEDULED),
        (S.READY, E.GO_LIVE, S.LIVE),
        (S.SCHEDULED, E.GO_LIVE, S.LIVE),
        (S.LIVE, E.END, S.ENDED),
        (S.ENDED, E.REPLAY_READY, S.REPLAY),
        (S.SCHEDULED, E.CANCEL, S.CANCELLED),
        (S.READY, E.CANCEL, S.CANCELLED),
        (S.SCHEDULED, E.END, S.ENDED),
    ],
)
def test_allowed_steps(state: SessionState, event: SessionEvent, after: SessionState) -> None:
    """Each documented step leads to its documented state."""
    assert next_state(state, event) is after


@pytest.mark.parametrize(
    ("state", "event"),
    [(S.LIVE, E.INGEST_UP), (S.LIVE, E.INGEST_DOWN), (S.READY, E.INGEST_UP)],
)
def test_ingest_reports_that_change_nothing_are_accepted(
    state: SessionState, event: SessionEvent
) -> None:
    """An ingest reconnecting while live (a slate moment) keeps the state as it is."""
    assert next_state(state, event) is state


@pytest.mark.parametrize(
    ("state", "event", "message"),
    [
        (S.ENDED, E.GO_LIVE, "a session that is ended cannot go live"),
        (S.CANCELLED, E.GO_LIVE, "a session that is cancelled cannot go live"),
        (S.LIVE, E.CANCEL, "a session that is live cannot be cancelled"),
        (S.REPLAY, E.END, "a session that is replay cannot end"),
        (S.LIVE, E.GO_LIVE, "a session that is live cannot go live"),
        (S.SCHEDULED, E.REPLAY_READY, "a session that is scheduled cannot publish a replay"),
        (S.CANCELLED, E.INGEST_UP, "a session that is cancelled cannot accept an ingest"),
    ],
)
def test_invalid_steps_are_refused_with_a_sentence(
    state: SessionState, event: SessionEvent, message: str
) -> None:
    """A step the state does not allow raises InvalidTransition naming state and step."""
    with pytest.raises(InvalidTransition) as caught:
        next_state(state, event)
    assert caught.value.message == message


def test_terminal_states_allow_nothing() -> None:
    """Cancelled and replay sessions have no way forward."""
    assert allowed_events(S.CANCELLED) == []
    assert allowed_events(S.REPLAY) == []
    assert allowed_events(S.LIVE) == [E.END]
