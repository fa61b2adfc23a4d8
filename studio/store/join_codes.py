"""The hall's join codes (the rules are ``studio.hall``): one valid code per studio at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from studio.hall import JOIN_CODE_LIFETIME, JoinCode, new_code
from studio.store import tables as t
from studio.store.database import Database


class JoinCodeStore(Database):
    """The ``join_codes`` table."""

    async def join_code(self, code: str) -> JoinCode | None:
        """The record of ``code`` (valid or not), if it was ever issued."""
        query = sa.select(t.join_codes).where(t.join_codes.c.code == code)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _join_code(row)

    async def studio_join_code(self, studio_id: str, now: datetime, *, renew: bool) -> JoinCode:
        """The studio's valid code; a new one when it has none or ``renew`` (the old one then
        expires at once). Codes that expired over a lifetime ago are forgotten, so their
        numbers may be issued again."""
        c = t.join_codes.c
        async with self._write() as conn:
            await self._lock_studio(conn, studio_id)
            valid = (
                await conn.execute(
                    sa.select(t.join_codes)
                    .where(c.studio_id == studio_id, c.created_at <= now, c.expires_at > now)
                    .order_by(c.created_at.desc())
                )
            ).first()
            if valid is not None and not renew:
                return _join_code(valid)
            await conn.execute(
                t.join_codes.update()
                .where(c.studio_id == studio_id, c.expires_at > now)
                .values(expires_at=now)
            )
            await conn.execute(t.join_codes.delete().where(c.expires_at < now - JOIN_CODE_LIFETIME))
            taken = set((await conn.execute(sa.select(c.code))).scalars())
            record = JoinCode(new_code(taken), studio_id, now, now + JOIN_CODE_LIFETIME)
            await conn.execute(
                t.join_codes.insert().values(
                    code=record.code,
                    studio_id=studio_id,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                )
            )
        return record


def _join_code(row: sa.Row[Any]) -> JoinCode:
    return JoinCode(row.code, row.studio_id, row.created_at, row.expires_at)
