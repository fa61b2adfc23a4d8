"""The hybrid hall: join codes that open a studio's participation page from a phone. Pure.

A join code is a short number (``4821``) shown with a QR code on the hall screen; ``/j/4821``
opens the participation page of whatever the studio has on air. A studio has one valid code at
a time: issuing a new one ends the old at once, and every code ends ``JOIN_CODE_LIFETIME`` after
it was issued. What a phone does through the code counts as the hall's (``Origin``).
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import datetime, timedelta

from studio.errors import Expired, InvalidInput, NotFound, StudioError

JOIN_CODE_LIFETIME = timedelta(days=7)
SHORT_DIGITS, LONG_DIGITS = 4, 6
_TRIES = 50
_CODE = re.compile(r"[0-9]{4,6}")


class Origin(enum.StrEnum):
    """Where a question, vote or poll answer came from."""

    HALL = "hall"
    ONLINE = "online"


@dataclass(frozen=True, slots=True)
class JoinCode:
    """A studio's join code and the time it stops working."""

    code: str
    studio_id: str
    created_at: datetime
    expires_at: datetime

    def valid_at(self, now: datetime) -> bool:
        """Whether the code still opens the studio's participation page at ``now``."""
        return self.created_at <= now < self.expires_at


def check_code(text: str) -> str:
    """A join code as typed (spaces allowed), or ``InvalidInput`` saying what it must be."""
    code = "".join(text.split())
    if not _CODE.fullmatch(code):
        raise InvalidInput("code", "a join code is 4 to 6 digits, as shown on the hall screen")
    return code


def new_code(taken: Container[str], draw: Callable[[int, int], int] | None = None) -> str:
    """A code no row holds: four digits while they last, then six."""
    pick = draw or random.SystemRandom().randint
    for digits in (SHORT_DIGITS, LONG_DIGITS):
        for _ in range(_TRIES):
            code = str(pick(10 ** (digits - 1), 10**digits - 1))
            if code not in taken:
                return code
    raise StudioError("no free join code could be found; try again")


def usable(found: JoinCode | None, code: str, now: datetime) -> JoinCode:
    """The code's record if it works at ``now``; else why not (unknown, or expired)."""
    if found is None:
        raise NotFound("join code", code)
    if not found.valid_at(now):
        raise Expired(
            f"join code {code} has expired: scan the QR code on the hall screen for the current one"
        )
    return found
