"""A session's recording record: its state, why it failed, its length and the operator's trim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from studio.states import RecordingState
from studio.store import tables as t
from studio.store.database import Database
from studio.store.media_owners import check_fence


@dataclass(frozen=True, slots=True)
class RecordingRecord:
    """A session's recording: its state, why it failed, its length and the operator's trim."""

    session_id: str
    state: RecordingState
    message: str
    duration: float | None
    trim_start: float | None
    trim_end: float | None
    updated_at: datetime
    epoch: int | None = None  # the media ownership epoch it was written under (the fence)


class RecordingStore(Database):
    """The ``recordings`` table."""

    async def get_recording(self, session_id: str) -> RecordingRecord | None:
        """A session's recording record, if it has one."""
        c = t.recordings.c
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(t.recordings).where(c.session_id == session_id))
            ).first()
        return None if row is None else _recording(row)

    async def recordings_in(self, state: RecordingState) -> list[RecordingRecord]:
        """Every recording record in ``state``."""
        query = sa.select(t.recordings).where(t.recordings.c.state == state.value)
        async with self._read() as conn:
            return [_recording(row) for row in await conn.execute(query)]

    async def save_recording(self, record: RecordingRecord) -> None:
        """Create or replace a session's recording record; one written under a media ownership
        epoch (``record.epoch``) that a newer claim replaced raises ``Fenced``."""
        values = {
            "session_id": record.session_id,
            "state": record.state.value,
            "message": record.message,
            "duration": record.duration,
            "trim_start": record.trim_start,
            "trim_end": record.trim_end,
            "updated_at": record.updated_at,
            "epoch": record.epoch,
        }
        async with self._write() as conn:
            await self._lock_session(conn, record.session_id)
            if record.epoch is not None:
                await check_fence(conn, record.session_id, record.epoch)
            c = t.recordings.c
            await conn.execute(t.recordings.delete().where(c.session_id == record.session_id))
            await conn.execute(t.recordings.insert().values(**values))


def _recording(row: sa.Row[Any]) -> RecordingRecord:
    return RecordingRecord(
        session_id=row.session_id,
        state=RecordingState(row.state),
        message=row.message,
        duration=row.duration,
        trim_start=row.trim_start,
        trim_end=row.trim_end,
        updated_at=row.updated_at,
        epoch=row.epoch,
    )
