"""Which driver errors mean "the store is unavailable" (a 503 and a retry), and which are a
fault in what was asked (they stay errors of ours)."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
import sqlalchemy.exc

from studio.store.database import is_unavailable, masked_url

SQL = "SELECT 1"


def wrapped(
    kind: type[sqlalchemy.exc.DBAPIError], orig: BaseException, *, invalidated: bool = False
) -> sqlalchemy.exc.DBAPIError:
    """``orig`` as SQLAlchemy hands it on once a statement ran."""
    return kind(SQL, None, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InvalidCatalogNameError('database "torget" does not exist'),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        sqlalchemy.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        wrapped(sqlalchemy.exc.OperationalError, sqlite3.OperationalError("database is locked")),
        wrapped(sqlalchemy.exc.InterfaceError, Exception("connection is closed")),
        wrapped(sqlalchemy.exc.DBAPIError, asyncpg.AdminShutdownError("terminating connection")),
        wrapped(sqlalchemy.exc.DBAPIError, Exception("lost"), invalidated=True),
    ],
    ids=lambda error: type(error).__name__,
)
def test_connection_errors_mean_unavailable(error: BaseException) -> None:
    """Raised while connecting (asyncpg's own, before SQLAlchemy wraps anything), by the
    socket, the pool, or a statement whose connection went away: the store is unavailable."""
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(sqlalchemy.exc.IntegrityError, asyncpg.UniqueViolationError("duplicate key")),
        wrapped(sqlalchemy.exc.ProgrammingError, asyncpg.UndefinedTableError("no such table")),
        wrapped(sqlalchemy.exc.DBAPIError, asyncpg.InvalidTextRepresentationError("bad input")),
        ValueError("naive datetimes are not stored"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_faults_in_the_statement_are_not_unavailability(error: BaseException) -> None:
    """A statement the database refused says nothing about reaching it: not unavailable."""
    assert not is_unavailable(error)


def test_the_shown_url_masks_the_password() -> None:
    """The store's URL as the command line shows it: user, host and database, never the
    password."""
    url = "postgresql+asyncpg://torget:s3cret@db:5432/torget"
    assert masked_url(url) == "postgresql+asyncpg://torget:***@db:5432/torget"
    assert masked_url("sqlite+aiosqlite:///data/torget.db") == "sqlite+aiosqlite:///data/torget.db"
