"""The store's schema version: the Alembic migrations of ``studio/store/migrations`` applied when
the store opens, under a lock, so any number of nodes starting at the same moment on an empty or
an older database take turns: the first migrates, the others find the work done.

The lock is PostgreSQL's transaction-level advisory lock; on SQLite the migrating transaction
begins ``IMMEDIATE`` (the file's one writer). A database made before migrations existed (the
tables ``metadata.create_all`` made, no ``alembic_version``) is recognised and marked as the
first revision, which is that schema, then upgraded like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from studio.errors import SchemaUnknown, StoreMissing

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
#: The tables of a store made before migrations: the schema of revision ``BASELINE``.
PRE_MIGRATION_TABLES = frozenset(
    {
        "studios", "sessions", "api_tokens", "web_sessions", "room_facts", "viewer_samples",
        "audit_log", "restream_destinations", "recordings", "media_owners", "meta",
    }
)  # fmt: skip
#: The PostgreSQL advisory lock the migrating node holds (any number, the same on every node).
ADVISORY_LOCK = 0x746F72676574  # "torget"
_LOCK_POLL_S = 0.01

# Alembic's ``context`` and ``op`` are process-wide: one migration run at a time per process
# (across threads and event loops too).
_alembic_turn = threading.Lock()


@dataclass(frozen=True)
class SchemaVersion:
    """Where a database's schema stands against this code's migrations."""

    current: str | None
    """The revision recorded in the database (None: none recorded)."""
    head: str
    """The newest revision this code has."""
    pending: tuple[str, ...] | None
    """The revisions an upgrade would apply, oldest first (None: ``current`` is unknown here)."""
    tables: frozenset[str]
    """Which of the pre-migration tables the database has."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        """No schema at all: a new store."""
        return self.current is None and not self.tables

    @property
    def pre_migration(self) -> bool:
        """Made by ``create_all`` before migrations: tables, no recorded revision."""
        return self.current is None and bool(self.tables)


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    """The newest revision this code's migrations reach."""
    return str(_script().get_current_head())


def _read_version(conn: Connection) -> SchemaVersion:
    heads = MigrationContext.configure(conn).get_current_heads()
    current = heads[0] if heads else None
    script = _script()
    head = script.get_current_head()
    assert head is not None, "no migrations"
    known = {rev.revision for rev in script.walk_revisions()}
    pending: tuple[str, ...] | None = None
    if current is None or current in known:
        upgrades = script.iterate_revisions(head, current or "base")
        pending = tuple(reversed([rev.revision for rev in upgrades]))
    tables = frozenset(sa.inspect(conn).get_table_names()) & PRE_MIGRATION_TABLES
    return SchemaVersion(current, head, pending, tables)


async def read_version(conn: AsyncConnection) -> SchemaVersion:
    """The schema version of the database ``conn`` is on (nothing is written)."""
    return await conn.run_sync(_read_version)


def _check(version: SchemaVersion, where: str, *, create: bool) -> None:
    """Refuse what an upgrade must not touch; nothing to refuse on a usable database."""
    if version.pending is None:
        raise SchemaUnknown(
            f"the store at {where} has schema revision {version.current}, which this Torget "
            f"does not know (it knows up to {version.head}): run a newer Torget"
        )
    if version.pre_migration and version.tables != PRE_MIGRATION_TABLES:
        missing = ", ".join(sorted(PRE_MIGRATION_TABLES - version.tables))
        raise SchemaUnknown(
            f"the store at {where} has some of Torget's tables but no schema revision, and "
            f"lacks {missing}: it was not made by a Torget this one can upgrade"
        )
    if version.empty and not create:
        raise StoreMissing(f"no store at {where}: the database has no tables")


async def upgrade(engine: AsyncEngine, *, create: bool) -> tuple[SchemaVersion, SchemaVersion]:
    """Bring the database to the newest revision; return its version before and after.

    Raises StoreMissing for an empty database unless ``create``, SchemaUnknown for a revision
    this code does not know. A database already up to date is only read.
    """
    where = engine.url.render_as_string(hide_password=True)
    async with engine.connect() as conn:
        before = await read_version(conn)
    if before.up_to_date:
        return before, before
    _check(before, where, create=create)
    async with _one_run_per_process(), engine.connect() as conn:
        await _lock(conn)
        before = await read_version(conn)  # again: another node may have migrated meanwhile
        _check(before, where, create=create)
        if not before.up_to_date:
            await conn.run_sync(_migrate, before)
        after = await read_version(conn)
        await conn.commit()
    return before, after


@contextlib.asynccontextmanager
async def _one_run_per_process() -> AsyncIterator[None]:
    # A thread lock (other threads run event loops too), polled rather than awaited on a worker
    # thread: a cancelled wait leaves nothing holding it.
    while not _alembic_turn.acquire(blocking=False):  # noqa: ASYNC110
        await asyncio.sleep(_LOCK_POLL_S)
    try:
        yield
    finally:
        _alembic_turn.release()


async def _lock(conn: AsyncConnection) -> None:
    """Begin the migrating transaction holding the database's migration lock."""
    if conn.dialect.name == "sqlite":
        # The driver begins transactions lazily; an explicit IMMEDIATE takes the write lock now.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK)))


def _migrate(conn: Connection, before: SchemaVersion) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    if before.pre_migration:
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")
