"""Which node holds a session's media, and when it last said so (the rule that reads it is
``streaming.ownership``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from studio.store import tables as t
from studio.store.database import Database


@dataclass(frozen=True, slots=True)
class MediaOwnerRecord:
    """The node that holds a session's media (``streaming.ownership``) and when it last said so."""

    session_id: str
    node_url: str
    node_id: str
    updated_at: datetime


class MediaOwnerStore(Database):
    """The ``media_owners`` table."""

    async def claim_media(
        self, session_id: str, node_url: str, node_id: str, now: datetime
    ) -> None:
        """Record ``node_url`` as the node holding the session's media (replacing any other)."""
        c = t.media_owners.c
        async with self._write() as conn:
            await self._lock_session(conn, session_id)
            await conn.execute(t.media_owners.delete().where(c.session_id == session_id))
            await conn.execute(
                t.media_owners.insert().values(
                    session_id=session_id, node_url=node_url, node_id=node_id, updated_at=now
                )
            )

    async def refresh_media(self, node_url: str, now: datetime) -> int:
        """Confirm every session whose media ``node_url`` holds; return how many."""
        c = t.media_owners.c
        update = t.media_owners.update().where(c.node_url == node_url).values(updated_at=now)
        async with self._write() as conn:
            result = await conn.execute(update)
        return int(result.rowcount or 0)

    async def media_owner(self, session_id: str) -> MediaOwnerRecord | None:
        """The node holding the session's media, if one ever said so."""
        query = sa.select(t.media_owners).where(t.media_owners.c.session_id == session_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return MediaOwnerRecord(row.session_id, row.node_url, row.node_id, row.updated_at)
