"""Caption lines of a session (``studio.captions.cues.Cue``), in time order per language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from studio.captions.cues import Cue
from studio.errors import NotFound
from studio.store import tables as t
from studio.store.database import Database


class CaptionStore(Database):
    """The ``captions`` table."""

    async def add_caption(self, cue: Cue) -> Cue:
        """Keep a new cue."""
        async with self._write() as conn:
            await conn.execute(t.captions.insert().values(**_values(cue)))
        return cue

    async def list_captions(
        self,
        session_id: str,
        language: str | None = None,
        *,
        from_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[Cue]:
        """A session's cues in time order (of one language; starting in [from_ms, until_ms))."""
        c = t.captions.c
        query = sa.select(t.captions).where(c.session_id == session_id)
        if language is not None:
            query = query.where(c.language == language)
        if from_ms is not None:
            query = query.where(c.start_ms >= from_ms)
        if until_ms is not None:
            query = query.where(c.start_ms < until_ms)
        async with self._read() as conn:
            rows = await conn.execute(query.order_by(c.start_ms, c.created_at, c.id))
            return [_cue(row) for row in rows]

    async def get_caption(self, session_id: str, cue_id: str) -> Cue:
        """One cue of a session, or NotFound."""
        c = t.captions.c
        query = sa.select(t.captions).where(c.id == cue_id, c.session_id == session_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound("caption", cue_id)
        return _cue(row)

    async def save_caption(self, cue: Cue) -> Cue:
        """Replace a cue's text and times (a correction)."""
        c = t.captions.c
        async with self._write() as conn:
            done = await conn.execute(
                t.captions.update()
                .where(c.id == cue.id, c.session_id == cue.session_id)
                .values(text=cue.text, start_ms=cue.start_ms, end_ms=cue.end_ms,
                        updated_at=cue.updated_at)
            )  # fmt: skip
            if done.rowcount == 0:
                raise NotFound("caption", cue.id)
        return cue

    async def shift_captions(
        self, session_id: str, language: str, shift_ms: int, at: datetime
    ) -> int:
        """Move every cue of one language of a session by ``shift_ms``; return how many."""
        c = t.captions.c
        async with self._write() as conn:
            done = await conn.execute(
                t.captions.update()
                .where(c.session_id == session_id, c.language == language)
                .values(start_ms=c.start_ms + shift_ms, end_ms=c.end_ms + shift_ms, updated_at=at)
            )
            return int(done.rowcount)


def _values(cue: Cue) -> dict[str, Any]:
    return {
        "id": cue.id,
        "session_id": cue.session_id,
        "language": cue.language,
        "text": cue.text,
        "start_ms": cue.start_ms,
        "end_ms": cue.end_ms,
        "author": cue.author,
        "created_at": cue.created_at,
        "updated_at": cue.updated_at,
    }


def _cue(row: sa.Row[Any]) -> Cue:
    return Cue(
        id=row.id,
        session_id=row.session_id,
        language=row.language,
        text=row.text,
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
