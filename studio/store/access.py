"""Access tokens (kept only as hashes of their secrets) and the browser sign-ins made with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from studio.errors import NotFound
from studio.models import ApiToken
from studio.roles import Role
from studio.store import tables as t
from studio.store.database import Database


@dataclass(frozen=True, slots=True)
class WebSession:
    """A browser sign-in: which token it stands for, until when."""

    token: ApiToken
    expires_at: datetime


class AccessStore(Database):
    """The ``api_tokens`` and ``web_sessions`` tables."""

    async def create_token(self, token: ApiToken, token_hash: str) -> ApiToken:
        """Store a token record under the hash of its secret."""
        async with self._write() as conn:
            for studio_id in token.studio_ids:
                await self._lock_studio(conn, studio_id)
            await conn.execute(
                t.api_tokens.insert().values(
                    id=token.id,
                    token_hash=token_hash,
                    role=token.role.value,
                    name=token.name,
                    studio_ids=list(token.studio_ids),
                    created_at=token.created_at,
                )
            )
        return token

    async def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token whose secret hashes to ``token_hash``, if any."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)
                )
            ).first()
        return None if row is None else _token(row)

    async def list_tokens(self) -> list[ApiToken]:
        """Every token record (never the secrets)."""
        async with self._read() as conn:
            rows = await conn.execute(sa.select(t.api_tokens).order_by(t.api_tokens.c.created_at))
            return [_token(r) for r in rows]

    async def revoke_token(self, token_id: str) -> None:
        """Delete a token and every browser sign-in made with it."""
        async with self._write() as conn:
            await conn.execute(t.web_sessions.delete().where(t.web_sessions.c.token_id == token_id))
            result = await conn.execute(t.api_tokens.delete().where(t.api_tokens.c.id == token_id))
            if result.rowcount == 0:
                raise NotFound("token", token_id)

    async def create_web_session(self, id_hash: str, token_id: str, expires_at: datetime) -> None:
        """Record a browser sign-in."""
        async with self._write() as conn:
            await conn.execute(
                t.web_sessions.insert().values(
                    id_hash=id_hash, token_id=token_id, expires_at=expires_at
                )
            )

    async def web_session(self, id_hash: str, now: datetime) -> WebSession | None:
        """The live browser sign-in with this id hash, if not expired."""
        query = (
            sa.select(t.api_tokens, t.web_sessions.c.expires_at)
            .join(t.web_sessions, t.web_sessions.c.token_id == t.api_tokens.c.id)
            .where(t.web_sessions.c.id_hash == id_hash, t.web_sessions.c.expires_at > now)
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return WebSession(token=_token(row), expires_at=row.expires_at)

    async def delete_web_session(self, id_hash: str) -> None:
        """Sign a browser out."""
        async with self._write() as conn:
            await conn.execute(t.web_sessions.delete().where(t.web_sessions.c.id_hash == id_hash))


def _token(row: sa.Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        role=Role(row.role),
        name=row.name,
        studio_ids=tuple(row.studio_ids),
        created_at=row.created_at,
    )
