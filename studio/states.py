"""The session lifecycle: states, the events that move them, and the one transition table.

    scheduled ──ingest_up──▶ ready ──go_live──▶ live ──end──▶ ended ──replay_ready──▶ replay
        │  ▲                  │                                  ▲
        │  └──ingest_down─────┘                                  │
        ├──go_live──────────────────────▶ live                   │
        ├──end (missed: never went live) ────────────────────────┘
        └──cancel──▶ cancelled ◀──cancel── ready

Pure: no I/O. ``next_state`` raises ``InvalidTransition`` with a sentence a person understands.
"""

from __future__ import annotations

import enum

from studio.errors import InvalidTransition


class SessionState(enum.StrEnum):
    """Where a session is in its life."""

    SCHEDULED = "scheduled"
    READY = "ready"
    LIVE = "live"
    ENDED = "ended"
    REPLAY = "replay"
    CANCELLED = "cancelled"


class SessionEvent(enum.StrEnum):
    """What can happen to a session."""

    INGEST_UP = "ingest_up"
    INGEST_DOWN = "ingest_down"
    GO_LIVE = "go_live"
    END = "end"
    REPLAY_READY = "replay_ready"
    CANCEL = "cancel"


class RecordingState(enum.StrEnum):
    """Where a session's recording is: none yet, being built, published, or failed."""

    NONE = "none"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


_S = SessionState
_E = SessionEvent

TRANSITIONS: dict[tuple[SessionState, SessionEvent], SessionState] = {
    (_S.SCHEDULED, _E.INGEST_UP): _S.READY,
    (_S.SCHEDULED, _E.GO_LIVE): _S.LIVE,
    (_S.SCHEDULED, _E.END): _S.ENDED,
    (_S.SCHEDULED, _E.CANCEL): _S.CANCELLED,
    (_S.READY, _E.INGEST_DOWN): _S.SCHEDULED,
    (_S.READY, _E.GO_LIVE): _S.LIVE,
    (_S.READY, _E.END): _S.ENDED,
    (_S.READY, _E.CANCEL): _S.CANCELLED,
    (_S.LIVE, _E.END): _S.ENDED,
    (_S.ENDED, _E.REPLAY_READY): _S.REPLAY,
}

# Events that are harmless no-ops in some states (an ingest reconnecting while live).
_IGNORED: frozenset[tuple[SessionState, SessionEvent]] = frozenset(
    {
        (_S.READY, _E.INGEST_UP),
        (_S.SCHEDULED, _E.INGEST_DOWN),
        (_S.LIVE, _E.INGEST_UP),
        (_S.LIVE, _E.INGEST_DOWN),
    }
)

_VERBS: dict[SessionEvent, str] = {
    _E.INGEST_UP: "accept an ingest",
    _E.INGEST_DOWN: "drop the ingest",
    _E.GO_LIVE: "go live",
    _E.END: "end",
    _E.REPLAY_READY: "publish a replay",
    _E.CANCEL: "be cancelled",
}

TERMINAL: frozenset[SessionState] = frozenset({_S.REPLAY, _S.CANCELLED})
EDITABLE_TIMES: frozenset[SessionState] = frozenset({_S.SCHEDULED, _S.READY, _S.LIVE})


def next_state(state: SessionState, event: SessionEvent) -> SessionState:
    """Return the state ``event`` leads to from ``state``, or raise InvalidTransition."""
    if (state, event) in _IGNORED:
        return state
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"a session that is {state.value} cannot {_VERBS[event]}") from None


def allowed_events(state: SessionState) -> list[SessionEvent]:
    """Events that change ``state``, in a stable order (for UIs and docs)."""
    return [event for (s, event) in TRANSITIONS if s is state]
