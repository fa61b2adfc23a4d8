"""Restream destinations of a session (their URLs hold stream keys: never log or show them
whole)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from studio.errors import Conflict, NotFound
from studio.store import tables as t
from studio.store.database import Database


@dataclass(frozen=True, slots=True)
class Destination:
    """A restream destination of a session. ``url`` holds its stream key: never log or show it
    whole (``streaming.restream.urls.mask_url`` and ``scrub``)."""

    id: str
    session_id: str
    name: str
    url: str = field(repr=False)
    enabled: bool
    created_at: datetime
    updated_at: datetime


class RestreamStore(Database):
    """The ``restream_destinations`` table."""

    async def add_destination(self, destination: Destination, *, limit: int) -> Destination:
        """Add a restream destination to its session, refusing more than ``limit`` per session."""
        c = t.restream_destinations.c
        async with self._write() as conn:
            await self._lock_session(conn, destination.session_id)
            count = await conn.scalar(
                sa.select(sa.func.count()).where(c.session_id == destination.session_id)
            )
            if (count or 0) >= limit:
                raise Conflict(f"a session may have at most {limit} restream destinations")
            await conn.execute(
                t.restream_destinations.insert().values(
                    id=destination.id,
                    session_id=destination.session_id,
                    name=destination.name,
                    url=destination.url,
                    enabled=destination.enabled,
                    created_at=destination.created_at,
                    updated_at=destination.updated_at,
                )
            )
        return destination

    async def list_destinations(self, session_id: str) -> list[Destination]:
        """A session's restream destinations, oldest first."""
        c = t.restream_destinations.c
        query = (
            sa.select(t.restream_destinations)
            .where(c.session_id == session_id)
            .order_by(c.created_at, c.id)
        )
        async with self._read() as conn:
            return [_destination(r) for r in await conn.execute(query)]

    async def get_destination(self, session_id: str, destination_id: str) -> Destination:
        """One restream destination of a session, or NotFound."""
        c = t.restream_destinations.c
        query = sa.select(t.restream_destinations).where(
            c.id == destination_id, c.session_id == session_id
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound("restream destination", destination_id)
        return _destination(row)

    async def update_destination(
        self,
        session_id: str,
        destination_id: str,
        now: datetime,
        *,
        name: str | None = None,
        enabled: bool | None = None,
    ) -> Destination:
        """Rename or switch a restream destination on or off; return the new record."""
        c = t.restream_destinations.c
        changes: dict[str, Any] = {"updated_at": now}
        if name is not None:
            changes["name"] = name
        if enabled is not None:
            changes["enabled"] = enabled
        where = sa.and_(c.id == destination_id, c.session_id == session_id)
        async with self._write() as conn:
            result = await conn.execute(
                t.restream_destinations.update().where(where).values(**changes)
            )
            if result.rowcount == 0:
                raise NotFound("restream destination", destination_id)
            row = (await conn.execute(sa.select(t.restream_destinations).where(where))).one()
        return _destination(row)

    async def delete_destination(self, session_id: str, destination_id: str) -> None:
        """Remove a restream destination of a session."""
        c = t.restream_destinations.c
        where = sa.and_(c.id == destination_id, c.session_id == session_id)
        async with self._write() as conn:
            result = await conn.execute(t.restream_destinations.delete().where(where))
            if result.rowcount == 0:
                raise NotFound("restream destination", destination_id)


def _destination(row: sa.Row[Any]) -> Destination:
    return Destination(
        id=row.id,
        session_id=row.session_id,
        name=row.name,
        url=row.url,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
