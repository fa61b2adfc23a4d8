"""Errors raised by the programme layer.

Every error the studio package raises derives from one root::

    StudioError
    ├── InvalidInput          a field has a wrong value (names the field and the problem)
    ├── NotFound              an id that does not exist
    ├── Expired               something that existed but is no longer valid (a join code)
    ├── Conflict              the request is valid but clashes with current state
    │   ├── InvalidTransition a session cannot make this lifecycle step from its state
    │   ├── ScheduleOverlap   two sessions of one studio would overlap in time
    │   └── Fenced            a node writes for a session's media that a newer claim took over
    ├── Unauthenticated       no or unknown credentials
    ├── Forbidden             the principal's role or studios do not allow the action
    ├── Refused               an interaction rule says no (muted, slow mode, voted already)
    ├── StoreUnavailable      the database could not be reached (driver errors are mapped here)
    ├── StoreMissing          no store at that URL yet, and making a new empty one was not asked
    └── SchemaUnknown         the store's schema is at a version this code does not know
"""

from __future__ import annotations


class StudioError(Exception):
    """Root of every error the programme layer raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(StudioError):
    """A field has a value the programme does not accept."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class NotFound(StudioError):
    """An id that names nothing."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} does not exist")
        self.kind = kind
        self.ident = ident


class Expired(StudioError):
    """Something that was valid once and is not any more (a replaced or outdated join code)."""


class Conflict(StudioError):
    """A valid request that clashes with the current state."""


class InvalidTransition(Conflict):
    """A lifecycle step the session's current state does not allow."""


class Fenced(Conflict):
    """A write for a session's media made under an ownership epoch (the fencing token of
    ``media_owners``) that a newer claim replaced: its node no longer holds that media."""

    def __init__(self, session_id: str, current: int) -> None:
        super().__init__(
            f"session {session_id}: its media is held under a newer claim (epoch {current}); "
            "this node writes nothing more of it"
        )
        self.session_id = session_id
        self.current = current


class ScheduleOverlap(Conflict):
    """Two sessions of one studio would overlap."""

    def __init__(self, other_id: str, other_title: str) -> None:
        super().__init__(
            f"the studio already has session {other_id!r} ({other_title}) at that time"
        )
        self.other_id = other_id


class Unauthenticated(StudioError):
    """No credentials, or credentials that match nothing."""


class Forbidden(StudioError):
    """The caller is known but may not do this."""


class Refused(StudioError):
    """An interaction rule refuses the action; ``code`` says which rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class StoreUnavailable(StudioError):
    """The database could not be reached or failed."""


class StoreMissing(StudioError):
    """There is no store at the URL (no SQLite file, or a database without Torget's tables) and
    the caller did not ask for a new empty one."""


class SchemaUnknown(StudioError):
    """The store's schema is at a revision this code has no migration for (a newer Torget made
    it)."""
