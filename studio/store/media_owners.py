"""Which node holds a session's media, since which claim (its epoch, the fencing token), when it
last said so, and every earlier claim (the rule that reads it is ``streaming.ownership``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from studio.errors import Fenced
from studio.store import tables as t
from studio.store.database import Database


@dataclass(frozen=True, slots=True)
class MediaOwnerRecord:
    """The node that holds a session's media (``streaming.ownership``), the epoch of its claim
    and when it last confirmed it."""

    session_id: str
    node_url: str
    node_id: str
    updated_at: datetime
    epoch: int = 0


@dataclass(frozen=True, slots=True)
class MediaClaim:
    """One claim of a session's media: the node that took it and the epoch it got."""

    session_id: str
    epoch: int
    node_url: str
    node_id: str
    claimed_at: datetime


class MediaOwnerStore(Database):
    """The ``media_owners`` and ``media_claims`` tables."""

    async def claim_media(self, session_id: str, node_url: str, node_id: str, now: datetime) -> int:
        """Record ``node_url`` as the node holding the session's media (replacing any other)
        under the next epoch, and return that epoch (1 for the first claim)."""
        c, h = t.media_owners.c, t.media_claims.c
        async with self._write() as conn:
            await self._lock_session(conn, session_id)
            latest = await conn.scalar(
                sa.select(sa.func.max(h.epoch)).where(h.session_id == session_id)
            )
            current = await _owner_epoch(conn, session_id)
            epoch = max(latest or 0, current or 0) + 1
            await conn.execute(t.media_owners.delete().where(c.session_id == session_id))
            await conn.execute(
                t.media_owners.insert().values(
                    session_id=session_id,
                    node_url=node_url,
                    node_id=node_id,
                    updated_at=now,
                    epoch=epoch,
                )
            )
            await conn.execute(
                t.media_claims.insert().values(
                    session_id=session_id,
                    epoch=epoch,
                    node_url=node_url,
                    node_id=node_id,
                    claimed_at=now,
                )
            )
        return epoch

    async def refresh_media(self, node_url: str, now: datetime) -> dict[str, int]:
        """Confirm every session whose media ``node_url`` holds; return them with their epoch."""
        c = t.media_owners.c
        update = t.media_owners.update().where(c.node_url == node_url).values(updated_at=now)
        held = sa.select(c.session_id, c.epoch).where(c.node_url == node_url)
        async with self._write() as conn:
            await conn.execute(update)
            rows = (await conn.execute(held)).all()
        return {row.session_id: row.epoch for row in rows}

    async def media_owner(self, session_id: str) -> MediaOwnerRecord | None:
        """The node holding the session's media, if one ever said so."""
        query = sa.select(t.media_owners).where(t.media_owners.c.session_id == session_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return MediaOwnerRecord(
            row.session_id, row.node_url, row.node_id, row.updated_at, row.epoch
        )

    async def media_claims(self, session_id: str) -> list[MediaClaim]:
        """Every claim of the session's media, oldest first."""
        h = t.media_claims.c
        query = sa.select(t.media_claims).where(h.session_id == session_id).order_by(h.epoch)
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            MediaClaim(row.session_id, row.epoch, row.node_url, row.node_id, row.claimed_at)
            for row in rows
        ]


async def _owner_epoch(conn: AsyncConnection, session_id: str) -> int | None:
    c = t.media_owners.c
    value = await conn.scalar(sa.select(c.epoch).where(c.session_id == session_id))
    return None if value is None else int(value)


async def check_fence(conn: AsyncConnection, session_id: str, epoch: int) -> None:
    """Raise ``Fenced`` when a claim other than ``epoch`` holds the session's media (call with
    the session row locked, in the transaction that writes)."""
    current = await _owner_epoch(conn, session_id)
    if current is not None and current != epoch:
        raise Fenced(session_id, current)
