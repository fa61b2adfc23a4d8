"""The store's connection: one async engine for SQLite or PostgreSQL, read and write
transactions, the row locks several parts share, and driver errors mapped where they cross into
our code (docs/architecture.md, "How data flows").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from studio.errors import Conflict, NotFound, StoreUnavailable
from studio.store import tables as t


class Database:
    """An engine and its transactions: every write is one transaction, all or nothing."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite allows one writer; serialising writes here keeps check-then-write atomic.
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> Self:
        """Connect to ``url``, create missing tables and return the store."""
        parsed = make_url(url)
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
        engine = create_async_engine(url, **kwargs)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(t.metadata.create_all)
        except (sqlalchemy.exc.DBAPIError, OSError) as exc:
            await engine.dispose()
            raise StoreUnavailable(f"cannot open the store: {_reason(exc)}") from exc
        return store

    async def close(self) -> None:
        """Release every connection."""
        await self._engine.dispose()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        async with self._read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                yield conn
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, OSError) as exc:
            raise StoreUnavailable(f"the store is unavailable: {_reason(exc)}") from exc

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        lock = self._write_lock if self._sqlite else contextlib.nullcontext()
        try:
            async with lock, self._engine.begin() as conn:
                yield conn
        except sqlalchemy.exc.IntegrityError as exc:
            raise Conflict(f"the change clashes with existing data: {_reason(exc)}") from exc
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, OSError) as exc:
            raise StoreUnavailable(f"the store is unavailable: {_reason(exc)}") from exc

    def _for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """Lock the rows read (PostgreSQL; SQLite writes are serialised by the write lock)."""
        return query if self._sqlite else query.with_for_update()

    async def _lock_studio(self, conn: AsyncConnection, studio_id: str) -> None:
        """Lock the studio row so schedule checks in it are serialised; NotFound if absent."""
        query = sa.select(t.studios.c.id).where(t.studios.c.id == studio_id)
        if await conn.scalar(self._for_update(query)) is None:
            raise NotFound("studio", studio_id)

    async def _lock_session(self, conn: AsyncConnection, session_id: str) -> None:
        """Lock the session row for the rest of the transaction; NotFound if absent."""
        query = sa.select(t.sessions.c.id).where(t.sessions.c.id == session_id)
        if await conn.scalar(self._for_update(query)) is None:
            raise NotFound("session", session_id)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the driver's first line, never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0][:200] if text else type(orig).__name__
