"""Interpretation rules: which languages an interpreter may speak and when. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from studio.errors import Conflict, InvalidInput
from studio.models import Session
from studio.states import SessionState


def check_language(language: str, languages: Sequence[str]) -> str:
    """``language`` if the event is interpreted into it; raise InvalidInput naming the ones
    it is (or saying there are none)."""
    if not languages:
        raise InvalidInput(
            "language", "this event has no interpretation languages (interpretation.languages)"
        )
    if language not in languages:
        raise InvalidInput(
            "language",
            f"{language!r} is not an interpretation language of this event "
            f"(choose {', '.join(languages)})",
        )
    return language


def check_live(session: Session) -> None:
    """Raise Conflict unless the session is on air (interpreters speak over live sound)."""
    if session.state is not SessionState.LIVE:
        raise Conflict(
            f"the session is {session.state.value}; an interpreter publishes only while it is live"
        )
