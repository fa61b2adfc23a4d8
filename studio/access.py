"""Who may do what: the authorization policy as one pure function over roles and studios."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from studio.errors import Forbidden, Unauthenticated
from studio.roles import Role


class Action(enum.StrEnum):
    """Everything a caller can ask of the programme that needs a role."""

    MANAGE_STUDIOS = "manage studios"
    MANAGE_TOKENS = "manage access tokens"
    IMPORT_PROGRAM = "import the programme"
    EXPORT_PROGRAM = "export the programme"
    MANAGE_SESSIONS = "create and edit sessions"
    BROADCAST = "start and end broadcasts"
    MANAGE_STREAM_KEYS = "see and rotate stream keys"
    SEE_INGEST = "see ingest details"
    MODERATE = "moderate chat and Q&A"
    SEE_REPORT = "see session reports"
    RESTREAM = "manage restream destinations"
    SEE_HEALTH = "see ingest health"
    CAPTION = "caption sessions"
    CORRECT_CAPTIONS = "correct captions"
    MAKE_CLIPS = "make clips"
    MANAGE_BRANDING = "set the event's branding"
    INTERPRET = "interpret sessions"


_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.MANAGE_STUDIOS: frozenset({Role.ADMIN}),
    Action.MANAGE_TOKENS: frozenset({Role.ADMIN}),
    Action.IMPORT_PROGRAM: frozenset({Role.ADMIN}),
    Action.EXPORT_PROGRAM: frozenset({Role.ADMIN}),
    Action.MANAGE_SESSIONS: frozenset({Role.ADMIN, Role.OPERATOR}),
    Action.BROADCAST: frozenset({Role.ADMIN, Role.OPERATOR}),
    Action.MANAGE_STREAM_KEYS: frozenset({Role.ADMIN, Role.OPERATOR}),
    Action.SEE_INGEST: frozenset({Role.ADMIN, Role.OPERATOR}),
    Action.MODERATE: frozenset({Role.ADMIN, Role.MODERATOR}),
    Action.SEE_REPORT: frozenset({Role.ADMIN, Role.OPERATOR}),
    Action.RESTREAM: frozenset({Role.ADMIN, Role.OPERATOR}),
    Action.SEE_HEALTH: frozenset({Role.ADMIN, Role.OPERATOR, Role.MODERATOR}),
    Action.CAPTION: frozenset({Role.ADMIN, Role.CAPTIONER}),
    Action.CORRECT_CAPTIONS: frozenset({Role.ADMIN, Role.OPERATOR, Role.CAPTIONER}),
    Action.MAKE_CLIPS: frozenset({Role.ADMIN, Role.OPERATOR, Role.MODERATOR}),
    Action.MANAGE_BRANDING: frozenset({Role.ADMIN}),
    Action.INTERPRET: frozenset({Role.ADMIN, Role.INTERPRETER}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a role and, for operators, moderators, captioners and
    interpreters, their studios.

    ``studio_ids`` empty means every studio (an event-wide operator, moderator, captioner or
    interpreter).
    """

    token_id: str
    role: Role
    name: str
    studio_ids: frozenset[str] = frozenset()

    def covers(self, studio_id: str) -> bool:
        """True when this caller's scope includes ``studio_id``."""
        return self.role is Role.ADMIN or not self.studio_ids or studio_id in self.studio_ids


def authorize(principal: Principal | None, action: Action, studio_id: str | None = None) -> None:
    """Return if ``principal`` may do ``action`` (in ``studio_id``); raise otherwise."""
    if principal is None:
        raise Unauthenticated(f"sign in to {action.value}")
    if principal.role not in _ALLOWED[action]:
        raise Forbidden(f"the {principal.role.value} role may not {action.value}")
    if studio_id is not None and not principal.covers(studio_id):
        raise Forbidden(
            f"this {principal.role.value} may not {action.value} in studio {studio_id!r}"
        )


def allowed_roles(action: Action) -> frozenset[Role]:
    """The roles that may do ``action`` (documentation and tests)."""
    return _ALLOWED[action]


def authorize_role(principal: Principal | None, roles: frozenset[Role]) -> Principal:
    """Return ``principal`` if its role is one of ``roles``; raise otherwise.

    The coarse check an endpoint makes before it reads anything of the request (the finer one,
    per action and studio, is ``authorize``).
    """
    wanted = _either(sorted(role.value for role in roles))
    if principal is None:
        raise Unauthenticated(f"sign in as {wanted} to do this")
    if principal.role not in roles:
        raise Forbidden(f"the {principal.role.value} role may not do this (it takes {wanted})")
    return principal


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
