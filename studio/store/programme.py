"""Studios and sessions: unique studio names, free slots, lifecycle steps, stream key hashes and
programme imports, each write in one transaction (docs/architecture.md, "How data flows").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from studio.errors import Conflict, NotFound, ScheduleOverlap
from studio.models import Session, Studio, check_times, overlapping
from studio.secrets import new_id
from studio.states import SessionEvent, SessionState, next_state
from studio.store import tables as t
from studio.store.database import Database

if TYPE_CHECKING:
    from studio.program_io import ImportPlan

_ACTIVE = [SessionState.SCHEDULED.value, SessionState.READY.value, SessionState.LIVE.value]
_SESSION_COLUMNS = [c for c in t.sessions.c if c.name != "stream_key_hash"]


class ProgrammeStore(Database):
    """The ``studios`` and ``sessions`` tables."""

    # --- studios ----------------------------------------------------------------------------

    async def create_studio(self, name: str, now: datetime) -> Studio:
        """Create a studio; names are unique."""
        async with self._write() as conn:
            await self._refuse_duplicate_name(conn, name)
            studio = Studio(id=new_id("std"), name=name, created_at=now)
            await conn.execute(t.studios.insert().values(id=studio.id, name=name, created_at=now))
        return studio

    async def _refuse_duplicate_name(
        self, conn: AsyncConnection, name: str, ignore_id: str = ""
    ) -> None:
        found = await conn.scalar(
            sa.select(t.studios.c.id).where(t.studios.c.name == name, t.studios.c.id != ignore_id)
        )
        if found is not None:
            raise Conflict(f"a studio named {name!r} already exists")

    async def list_studios(self) -> list[Studio]:
        """Every studio, by name."""
        async with self._read() as conn:
            rows = await conn.execute(sa.select(t.studios).order_by(t.studios.c.name))
            return [_studio(r) for r in rows]

    async def get_studio(self, studio_id: str) -> Studio:
        """The studio with this id, or NotFound."""
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(t.studios).where(t.studios.c.id == studio_id))
            ).first()
        if row is None:
            raise NotFound("studio", studio_id)
        return _studio(row)

    async def rename_studio(self, studio_id: str, name: str) -> Studio:
        """Give a studio a new (unique) name."""
        async with self._write() as conn:
            await self._lock_studio(conn, studio_id)
            await self._refuse_duplicate_name(conn, name, ignore_id=studio_id)
            await conn.execute(
                t.studios.update().where(t.studios.c.id == studio_id).values(name=name)
            )
            row = (
                await conn.execute(sa.select(t.studios).where(t.studios.c.id == studio_id))
            ).one()
        return _studio(row)

    async def set_playout(self, studio_id: str, playout: bool) -> Studio:
        """Turn the studio channel's playout of replays on or off."""
        async with self._write() as conn:
            await self._lock_studio(conn, studio_id)
            await conn.execute(
                t.studios.update().where(t.studios.c.id == studio_id).values(playout=playout)
            )
            row = (
                await conn.execute(sa.select(t.studios).where(t.studios.c.id == studio_id))
            ).one()
        return _studio(row)

    async def delete_studio(self, studio_id: str) -> None:
        """Delete a studio that has no sessions left."""
        async with self._write() as conn:
            await self._lock_studio(conn, studio_id)
            count = await conn.scalar(
                sa.select(sa.func.count()).where(t.sessions.c.studio_id == studio_id)
            )
            if count:
                raise Conflict(
                    f"studio {studio_id!r} still has {count} session(s); delete or move them first"
                )
            await conn.execute(t.studios.delete().where(t.studios.c.id == studio_id))

    # --- sessions ---------------------------------------------------------------------------

    async def create_session(self, session: Session, stream_key_hash: str) -> Session:
        """Insert a new session after checking its studio exists and its slot is free."""
        check_times(session.starts_at, session.ends_at)
        async with self._write() as conn:
            await self._lock_studio(conn, session.studio_id)
            await self._refuse_overlap(conn, session)
            await conn.execute(
                t.sessions.insert().values(
                    **_session_values(session), stream_key_hash=stream_key_hash
                )
            )
        return session

    async def _refuse_overlap(self, conn: AsyncConnection, session: Session) -> None:
        rows = await conn.execute(
            sa.select(*_SESSION_COLUMNS).where(
                t.sessions.c.studio_id == session.studio_id,
                t.sessions.c.starts_at < session.ends_at,
                t.sessions.c.ends_at > session.starts_at,
                t.sessions.c.id != session.id,
            )
        )
        clash = overlapping(session.starts_at, session.ends_at, [_session(r) for r in rows])
        if clash is not None:
            raise ScheduleOverlap(clash.id, clash.title)

    async def get_session(self, session_id: str) -> Session:
        """The session with this id, or NotFound."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(*_SESSION_COLUMNS).where(t.sessions.c.id == session_id)
                )
            ).first()
        if row is None:
            raise NotFound("session", session_id)
        return _session(row)

    async def list_sessions(
        self,
        *,
        studio_id: str | None = None,
        states: Sequence[SessionState] | None = None,
        starts_before: datetime | None = None,
    ) -> list[Session]:
        """Sessions in programme order, optionally of one studio, some states, or started by."""
        query = sa.select(*_SESSION_COLUMNS).order_by(
            t.sessions.c.starts_at, t.sessions.c.studio_id
        )
        if studio_id is not None:
            query = query.where(t.sessions.c.studio_id == studio_id)
        if states is not None:
            query = query.where(t.sessions.c.state.in_([s.value for s in states]))
        if starts_before is not None:
            query = query.where(t.sessions.c.starts_at <= starts_before)
        async with self._read() as conn:
            result = await conn.execute(query)  # buffered: the rows are read, not yet decoded
            # Decoding thousands of rows (times, JSON) takes a tenth of a second: off the loop.
            return await asyncio.to_thread(lambda: [_session(r) for r in result])

    async def active_sessions(self, now: datetime) -> list[Session]:
        """Sessions the scheduler may have to move: not finished, and already started."""
        return await self.list_sessions(
            states=[SessionState(s) for s in _ACTIVE], starts_before=now
        )

    async def update_session(self, session: Session) -> Session:
        """Write changed fields of ``session`` (same id), re-checking its slot."""
        check_times(session.starts_at, session.ends_at)
        async with self._write() as conn:
            await self._lock_session(conn, session.id)
            await self._lock_studio(conn, session.studio_id)
            await self._refuse_overlap(conn, session)
            values = _session_values(session)
            del values["id"], values["created_at"]
            await conn.execute(
                t.sessions.update().where(t.sessions.c.id == session.id).values(**values)
            )
        return session

    async def delete_session(self, session_id: str) -> None:
        """Delete a session (its recordings and archives go with it)."""
        async with self._write() as conn:
            await self._lock_session(conn, session_id)
            await conn.execute(t.sessions.delete().where(t.sessions.c.id == session_id))

    async def transition_session(
        self, session_id: str, event: SessionEvent, now: datetime
    ) -> tuple[Session, Session]:
        """Apply a lifecycle event atomically; return (before, after) or raise InvalidTransition."""
        async with self._write() as conn:
            query = sa.select(*_SESSION_COLUMNS).where(t.sessions.c.id == session_id)
            row = (await conn.execute(self._for_update(query))).first()
            if row is None:
                raise NotFound("session", session_id)
            before = _session(row)
            state = next_state(before.state, event)
            changes: dict[str, Any] = {"state": state.value, "updated_at": now}
            if state is SessionState.LIVE and before.state is not SessionState.LIVE:
                changes["went_live_at"] = now
            if state is SessionState.ENDED and before.state is not SessionState.ENDED:
                changes["ended_at"] = now
            if state is not before.state:
                await conn.execute(
                    t.sessions.update().where(t.sessions.c.id == session_id).values(**changes)
                )
            after = (await conn.execute(query)).one()
        return before, _session(after)

    async def set_stream_key_hash(self, session_id: str, key_hash: str, now: datetime) -> None:
        """Replace a session's stream key (the old key stops working at once)."""
        async with self._write() as conn:
            await self._lock_session(conn, session_id)
            await conn.execute(
                t.sessions.update()
                .where(t.sessions.c.id == session_id)
                .values(stream_key_hash=key_hash, updated_at=now)
            )

    async def session_by_stream_key_hash(self, key_hash: str) -> Session | None:
        """The session a stream key belongs to, if any."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(*_SESSION_COLUMNS).where(t.sessions.c.stream_key_hash == key_hash)
                )
            ).first()
        return None if row is None else _session(row)

    # --- programme import -------------------------------------------------------------------

    async def apply_import(
        self, plan: Callable[[list[Studio], list[Session]], ImportPlan]
    ) -> ImportPlan:
        """Read every studio and session, write what ``plan`` (pure) decides from them; all in
        one transaction, so an import is all or nothing."""
        async with self._write() as conn:
            studios = [_studio(r) for r in await conn.execute(sa.select(t.studios))]
            sessions = [_session(r) for r in await conn.execute(sa.select(*_SESSION_COLUMNS))]
            decided = await asyncio.to_thread(plan, studios, sessions)  # thousands: off the loop
            for studio in decided.new_studios:
                await conn.execute(
                    t.studios.insert().values(
                        id=studio.id, name=studio.name, created_at=studio.created_at
                    )
                )
            for session, key_hash in decided.created:
                await conn.execute(
                    t.sessions.insert().values(**_session_values(session), stream_key_hash=key_hash)
                )
            for session in decided.updated:
                await conn.execute(
                    t.sessions.update()
                    .where(t.sessions.c.id == session.id)
                    .values(**_session_values(session))
                )
        return decided


def _studio(row: sa.Row[Any]) -> Studio:
    return Studio(id=row.id, name=row.name, created_at=row.created_at, playout=row.playout)


def _session(row: sa.Row[Any]) -> Session:
    return Session(
        id=row.id,
        studio_id=row.studio_id,
        title=row.title,
        description=row.description,
        speakers=tuple(row.speakers),
        language=row.language,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        state=SessionState(row.state),
        auto_start=row.auto_start,
        auto_end=row.auto_end,
        qa_auto_approve=row.qa_auto_approve,
        created_at=row.created_at,
        updated_at=row.updated_at,
        went_live_at=row.went_live_at,
        ended_at=row.ended_at,
    )


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "studio_id": session.studio_id,
        "title": session.title,
        "description": session.description,
        "speakers": list(session.speakers),
        "language": session.language,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "state": session.state.value,
        "auto_start": session.auto_start,
        "auto_end": session.auto_end,
        "qa_auto_approve": session.qa_auto_approve,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "went_live_at": session.went_live_at,
        "ended_at": session.ended_at,
    }
