"""Schema migrations on SQLite and PostgreSQL: a new store gets exactly the declared schema, a
store made before migrations is upgraded without loss, stores opened at the same moment take
turns, and what must not be touched (an absent store, a newer schema) is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from studio.errors import SchemaUnknown, StoreMissing
from studio.states import RecordingState, SessionState
from studio.store import Store, schema, tables
from studio.store.schema import head_revision
from tests.support.harness import sqlite_url
from tests.support.stores import make_store_before_migrations, run_sql

HEAD = head_revision()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database on each back end (nothing opened yet)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_db_url")
    return url


async def _schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate finds between the database and ``tables.metadata``."""

    def compare(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), tables.metadata))

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_a_new_store_gets_exactly_the_declared_schema(empty_url: str) -> None:
    """Opening an empty database applies every migration: the result is at the newest revision
    and is the schema ``tables.py`` declares, table for table, column for column."""
    store = await Store.open(empty_url)
    try:
        version = await store.schema_version()
    finally:
        await store.close()
    assert version.current == version.head
    assert version.pending == ()
    assert await _schema_differences(empty_url) == []


async def test_a_store_made_before_migrations_is_upgraded_without_loss(empty_url: str) -> None:
    """A database as the code before migrations left it (its ``create_all`` DDL, a row in
    every table, no ``alembic_version``) is marked as the first revision and upgraded, and
    every row reads back through the store as it was written."""
    await make_store_before_migrations(empty_url)
    store = await Store.open(empty_url, create=False)
    try:
        version = await store.schema_version()
        assert (version.current, version.pending) == (version.head, ())
        at = datetime(2026, 5, 20, 7, tzinfo=UTC)
        assert (await store.get_studio("std_legacy")).name == "Aula"
        session = await store.get_session("ses_legacy")
        assert (session.title, session.speakers, session.starts_at, session.state) == (
            "Opening: innovative municipalities",
            ("Anna Berg",),
            at,
            SessionState.SCHEDULED,
        )
        assert (session.auto_start, session.auto_end, session.qa_auto_approve) == (
            True, False, False
        )  # fmt: skip
        assert await store.session_by_stream_key_hash("a" * 64) == session
        token = await store.token_by_hash("b" * 64)
        assert token is not None
        assert (token.name, token.studio_ids) == ("Studio Aula", ("std_legacy",))
        assert await store.web_session("c" * 64, at) is not None
        assert await store.room_facts("ses_legacy") == [("1779260400000-0", b"\x01\x02")]
        assert await store.viewer_timeline("ses_legacy") == [(at, 40, 55)]
        assert [(a.action, a.detail) for a in await store.audit("ses_legacy")] == [
            ("slow_mode", "30")
        ]
        assert [d.url for d in await store.list_destinations("ses_legacy")] == [
            "rtmp://social.example/live/key"
        ]
        recording = await store.get_recording("ses_legacy")
        assert recording is not None
        assert (recording.state, recording.duration) == (RecordingState.READY, 2700.5)
        owner = await store.media_owner("ses_legacy")
        assert owner is not None
        assert owner.node_url == "http://torget-1:8080"
        assert await store.get_meta("signing_key") == "legacy-signing-key"
    finally:
        await store.close()
    names = sorted(schema.PRE_MIGRATION_TABLES)
    counts = await run_sql(empty_url, *(f"SELECT count(*) FROM {name}" for name in names))  # noqa: S608
    assert counts == [1] * len(schema.PRE_MIGRATION_TABLES)
    assert await _schema_differences(empty_url) == []


async def test_stores_opened_at_the_same_moment_on_an_empty_database_all_open(
    empty_url: str,
) -> None:
    """Six stores opened at once on one empty database take turns: all open, one of them made
    the schema, and it is recorded once (a SQLite file is in WAL mode, whichever turned it)."""
    stores = await asyncio.gather(*(Store.open(empty_url) for _ in range(6)))
    for store in stores:
        await store.close()
    assert await run_sql(empty_url, "SELECT count(*) FROM alembic_version") == [1]
    if empty_url.startswith("sqlite"):
        assert await run_sql(empty_url, "PRAGMA journal_mode") == ["wal"]
    assert await _schema_differences(empty_url) == []


async def test_an_absent_sqlite_store_is_not_made_unless_asked(tmp_path: Path) -> None:
    """``create=False`` on a SQLite file that does not exist refuses, naming the file, and
    leaves no file behind."""
    path = tmp_path / "data" / "torget.db"
    with pytest.raises(StoreMissing) as refused:
        await Store.open(f"sqlite+aiosqlite:///{path}", create=False)
    assert refused.value.message == (
        f"no store at sqlite+aiosqlite:///{path}: {path} does not exist"
    )
    assert not path.parent.exists()


@pytest.mark.postgres
@pytest.mark.slow
async def test_an_empty_postgresql_database_is_not_made_a_store_unless_asked(
    postgres_db_url: str,
) -> None:
    """``create=False`` on a database without tables refuses and creates nothing there."""
    with pytest.raises(StoreMissing) as refused:
        await Store.open(postgres_db_url, create=False)
    assert refused.value.message == f"no store at {postgres_db_url}: the database has no tables"
    query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert await run_sql(postgres_db_url, query) == [0]


async def test_a_schema_newer_than_this_code_is_refused(empty_url: str) -> None:
    """A store recorded at a revision this code has no migration for is not opened."""
    store = await Store.open(empty_url)
    await store.close()
    await run_sql(empty_url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaUnknown) as refused:
        await Store.open(empty_url)
    assert refused.value.message == (
        f"the store at {empty_url} has schema revision 9999, which this Torget does not know "
        f"(it knows up to {HEAD}): run a newer Torget"
    )


async def test_some_tables_without_a_revision_are_refused(empty_url: str) -> None:
    """A database with only some of the tables of before migrations (and no revision) is
    not taken for a Torget store: nothing is created or marked."""
    await run_sql(empty_url, "CREATE TABLE meta (key VARCHAR(100) PRIMARY KEY, value TEXT)")
    with pytest.raises(SchemaUnknown, match="has some of Torget's tables but no schema revision"):
        await Store.open(empty_url)
    with pytest.raises(sa.exc.DBAPIError):
        await run_sql(empty_url, "SELECT count(*) FROM alembic_version")
