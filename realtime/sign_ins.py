"""The staff connections of a node by the sign-in that opened them, so that they end with it.

Pure (no I/O): the hub asks which connections a revocation, a sign-out (``SignInEnded`` in the
event room, from any node) or the clock ends, and closes them. See docs/architecture.md,
"Realtime" (Sign-ins that end).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from studio.interaction.facts import SignInEnded

C = TypeVar("C", bound=Hashable)


@dataclass(frozen=True, slots=True)
class SignIn:
    """What signed a connection in: a token, through a browser sign-in (``web_session``, the
    hash of its cookie, which expires at ``expires_at``) or a bearer header (neither)."""

    token_id: str
    web_session: str | None = None
    expires_at: datetime | None = None

    def ended_by(self, fact: SignInEnded) -> bool:
        """Whether ``fact`` (a revocation or a sign-out) ends this sign-in."""
        if fact.token_id is not None and fact.token_id == self.token_id:
            return True
        return fact.web_session is not None and fact.web_session == self.web_session


class SignIns(Generic[C]):
    """Signed-in connections (a few per node: most clients are anonymous viewers)."""

    def __init__(self) -> None:
        self._of: dict[C, SignIn] = {}

    def add(self, conn: C, sign_in: SignIn) -> None:
        """Remember what signed ``conn`` in."""
        self._of[conn] = sign_in

    def remove(self, conn: C) -> None:
        """Forget ``conn`` (it closed)."""
        self._of.pop(conn, None)

    def __len__(self) -> int:
        return len(self._of)

    def items(self) -> list[tuple[C, SignIn]]:
        """Every signed-in connection with its sign-in."""
        return list(self._of.items())

    def ended(self, fact: SignInEnded) -> list[C]:
        """The connections ``fact`` ends; they are forgotten."""
        return self._take([c for c, s in self._of.items() if s.ended_by(fact)])

    def expired(self, now: datetime) -> list[C]:
        """The connections whose sign-in expired by ``now``; they are forgotten."""
        return self._take(
            [c for c, s in self._of.items() if s.expires_at is not None and s.expires_at <= now]
        )

    def _take(self, conns: list[C]) -> list[C]:
        for conn in conns:
            del self._of[conn]
        return conns
