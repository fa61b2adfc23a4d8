"""Programme records and use cases for the store and service tests: a session record, the
admin, the programme's hand-moved clock, a scheduled session."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from studio.access import Principal
from studio.models import Session, SessionInput, StudioInput
from studio.roles import Role
from studio.secrets import new_id
from studio.service import Programme
from studio.states import SessionState
from tests.support.harness import T0, FakeClock


def a_session(studio_id: str, start_minutes: int = 0, length: int = 45, **kw: object) -> Session:
    """A session in ``studio_id`` starting ``start_minutes`` after T0."""
    base = Session(
        id=new_id("ses"),
        studio_id=studio_id,
        title="Opening: innovative municipalities",
        description="",
        speakers=("Anna", "Matti"),
        language="sv",
        starts_at=T0 + timedelta(minutes=start_minutes),
        ends_at=T0 + timedelta(minutes=start_minutes + length),
        state=SessionState.SCHEDULED,
        auto_start=True,
        auto_end=True,
        created_at=T0,
        updated_at=T0,
    )
    return msgspec.structs.replace(base, **kw)


ADMIN = Principal(token_id="t", role=Role.ADMIN, name="admin")


def clock(programme: Programme) -> FakeClock:
    """The programme's fake clock."""
    assert isinstance(programme.clock, FakeClock)
    return programme.clock


async def schedule(programme: Programme, **kw: object) -> str:
    """Create a studio and a 09:00-09:45 session in it; return the session id."""
    studio = await programme.create_studio(ADMIN, StudioInput(name="Stora scenen"))
    data = SessionInput(
        studio_id=studio.id, title="Opening", starts_at=T0, ends_at=T0 + timedelta(minutes=45)
    )
    data = msgspec.structs.replace(data, **kw)
    return (await programme.create_session(ADMIN, data)).session.id
