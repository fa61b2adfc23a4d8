"""The store's connection: one async engine for SQLite or PostgreSQL, its schema brought up to
date when it opens (``schema``), read and write transactions, the row locks several parts share,
and driver errors mapped where they cross into our code (docs/architecture.md, "How data
flows").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self

import asyncpg
import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from studio.errors import Conflict, NotFound, StoreMissing, StoreUnavailable
from studio.store import schema
from studio.store import tables as t

log = logging.getLogger(__name__)

#: SQLSTATE classes that say the server cannot serve now, whatever the statement: connection
#: exception, insufficient resources (too many connections), operator intervention (shutting
#: down, starting up, cannot connect now).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})
# Turning a SQLite file to WAL while other stores open it: tries, and the pause between them.
WAL_TRIES = 100
WAL_RETRY_S = 0.05


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or cannot serve now (as opposed to
    a statement it refused): socket errors, SQLAlchemy's connection errors, asyncpg's errors
    raised while connecting (before SQLAlchemy wraps anything), and connection-class SQLSTATEs
    of a wrapped error."""
    if isinstance(
        exc,
        OSError  # ConnectionError and TimeoutError too
        | sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.DisconnectionError
        | sqlalchemy.exc.TimeoutError  # no pooled connection came free in time
        | asyncpg.PostgresError
        | asyncpg.InterfaceError,
    ):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return isinstance(sqlstate, str) and sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
    return False


def masked_url(url: str) -> str:
    """The store's URL as it may be shown: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """An engine and its transactions: every write is one transaction, all or nothing."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite allows one writer; serialising writes here keeps check-then-write atomic.
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, create: bool = True) -> Self:
        """Connect to ``url``, bring its schema to this code's newest revision (under a lock,
        ``schema.upgrade``) and return the store.

        With ``create=False`` a store that does not exist yet (no SQLite file, or a database
        without Torget's tables) is refused with StoreMissing instead of made empty.
        """
        store = cls.connect(url, create=create)
        try:
            await store.upgrade_schema(create=create)
            if store._sqlite:
                await store._write_ahead_log()
        except BaseException:
            await store.close()
            raise
        return store

    @classmethod
    def connect(cls, url: str, *, create: bool = True) -> Self:
        """The store at ``url`` as it is (its schema untouched: ``torget db current``).

        With ``create=False`` a SQLite file that does not exist is refused with StoreMissing
        (connecting would make it).
        """
        parsed = make_url(url)
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                path = Path(parsed.database)
                if not create and not path.exists():
                    raise StoreMissing(f"no store at {masked_url(url)}: {path} does not exist")
                path.parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
        engine = create_async_engine(url, **kwargs)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    async def schema_version(self) -> schema.SchemaVersion:
        """Where the store's schema stands (read only)."""
        async with self._read() as conn:
            return await schema.read_version(conn)

    async def upgrade_schema(
        self, *, create: bool
    ) -> tuple[schema.SchemaVersion, schema.SchemaVersion]:
        """``schema.upgrade`` on this store: its version before and after."""
        with _mapped("cannot open the store", opening=True):
            before, after = await schema.upgrade(self._engine, create=create)
        if before.current != after.current:
            log.info("store schema: revision %s -> %s", before.current or "none", after.current)
        return before, after

    async def _write_ahead_log(self) -> None:
        """Turn a SQLite file to WAL if a connection could not yet (``_sqlite_pragmas``),
        trying again while another store opening the file at the same moment holds it."""
        for _ in range(WAL_TRIES - 1):
            try:
                async with self._engine.connect() as conn:
                    await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                return
            except sqlalchemy.exc.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
            await asyncio.sleep(WAL_RETRY_S)
        async with self._engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA journal_mode=WAL")

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
        with _mapped("the store is unavailable"):
            async with self._engine.connect() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        lock = self._write_lock if self._sqlite else contextlib.nullcontext()
        try:
            with _mapped("the store is unavailable"):
                async with lock, self._engine.begin() as conn:
                    yield conn
        except sqlalchemy.exc.IntegrityError as exc:
            raise Conflict(f"the change clashes with existing data: {_reason(exc)}") from exc

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


@contextlib.contextmanager
def _mapped(what: str, *, opening: bool = False) -> Iterator[None]:
    """Raise StoreUnavailable(``what``: reason) for an error ``is_unavailable`` names; when
    ``opening``, for any driver error (a store that cannot be prepared cannot be opened)."""
    try:
        yield
    except Exception as exc:
        if is_unavailable(exc) or (opening and isinstance(exc, sqlalchemy.exc.DBAPIError)):
            raise StoreUnavailable(f"{what}: {_reason(exc)}") from exc
        raise


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # The timeout first: switching a new file to WAL waits for others opening it at once.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as exc:
        # Another connection holds the write lock (making the schema): SQLite refuses the
        # switch at once rather than wait. ``Database.open`` makes it once that is done.
        if "locked" not in str(exc):
            raise
    cursor.close()


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the driver's first line, never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0][:200] if text else type(orig).__name__
