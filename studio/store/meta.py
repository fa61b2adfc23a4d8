"""Flags and values kept once per store: the signing key, the first-start claims and the
event's branding."""

from __future__ import annotations

import sqlalchemy as sa

from studio.errors import Conflict
from studio.store import tables as t
from studio.store.database import Database


class MetaStore(Database):
    """The ``meta`` table: a value per key."""

    async def get_meta(self, key: str) -> str | None:
        """Return a stored flag or value, or None."""
        async with self._read() as conn:
            value = await conn.scalar(sa.select(t.meta.c.value).where(t.meta.c.key == key))
        return None if value is None else str(value)

    async def claim(self, key: str, value: str) -> bool:
        """Store ``key`` only if absent; True for the one caller (of any node) that did."""
        try:
            async with self._write() as conn:
                if await conn.scalar(sa.select(t.meta.c.key).where(t.meta.c.key == key)):
                    return False
                await conn.execute(t.meta.insert().values(key=key, value=value))
        except Conflict:
            return False
        return True

    async def put_meta(self, key: str, value: str) -> None:
        """Store ``key`` (replacing what it held)."""
        async with self._write() as conn:
            await conn.execute(t.meta.delete().where(t.meta.c.key == key))
            await conn.execute(t.meta.insert().values(key=key, value=value))

    async def delete_meta(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is absent)."""
        async with self._write() as conn:
            await conn.execute(t.meta.delete().where(t.meta.c.key == key))
