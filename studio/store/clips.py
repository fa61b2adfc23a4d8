"""Clips of a session: the record of each clip and aspect (``studio.clips``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from studio.clips import ClipAspect, ClipRecord, ClipState
from studio.errors import NotFound
from studio.store import tables as t
from studio.store.database import Database


class ClipStore(Database):
    """The ``clips`` table."""

    async def add_clips(self, records: list[ClipRecord]) -> None:
        """Store new clips of one session (all or none)."""
        async with self._write() as conn:
            for session_id in {record.session_id for record in records}:
                await self._lock_session(conn, session_id)
            for record in records:
                await conn.execute(t.clips.insert().values(**_values(record)))

    async def save_clip(self, record: ClipRecord) -> None:
        """Replace a clip's record (its state once cut or failed); NotFound when it is gone."""
        c = t.clips.c
        async with self._write() as conn:
            done = await conn.execute(
                t.clips.update().where(c.id == record.id).values(**_values(record))
            )
            if done.rowcount == 0:
                raise NotFound("clip", record.id)

    async def get_clip(self, session_id: str, clip_id: str) -> ClipRecord:
        """One clip of a session (NotFound otherwise)."""
        c = t.clips.c
        query = sa.select(t.clips).where(c.id == clip_id, c.session_id == session_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound("clip", clip_id)
        return _clip(row)

    async def list_clips(self, session_id: str) -> list[ClipRecord]:
        """A session's clips, newest first."""
        c = t.clips.c
        query = (
            sa.select(t.clips).where(c.session_id == session_id).order_by(c.created_at.desc(), c.id)
        )
        async with self._read() as conn:
            return [_clip(row) for row in await conn.execute(query)]

    async def clips_in(self, state: ClipState) -> list[ClipRecord]:
        """Every clip in ``state`` (clips still being cut when a node stopped)."""
        query = sa.select(t.clips).where(t.clips.c.state == state.value)
        async with self._read() as conn:
            return [_clip(row) for row in await conn.execute(query)]


def _values(record: ClipRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "session_id": record.session_id,
        "aspect": record.aspect.value,
        "state": record.state.value,
        "message": record.message,
        "in_seconds": record.in_seconds,
        "out_seconds": record.out_seconds,
        "duration": record.duration,
        "width": record.width,
        "height": record.height,
        "size_bytes": record.size_bytes,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "captions": record.captions,
    }


def _clip(row: sa.Row[Any]) -> ClipRecord:
    return ClipRecord(
        id=row.id,
        session_id=row.session_id,
        aspect=ClipAspect(row.aspect),
        state=ClipState(row.state),
        message=row.message,
        in_seconds=row.in_seconds,
        out_seconds=row.out_seconds,
        duration=row.duration,
        width=row.width,
        height=row.height,
        size_bytes=row.size_bytes,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        captions=row.captions,
    )
