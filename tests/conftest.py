"""Shared fixtures and the tiers' rules. Real servers (PostgreSQL, Redis) come from
``tests/support/servers.py``; a test that starts one (or ffmpeg, nginx, a browser) must be
marked ``slow``, and a ``postgres`` test is always ``slow`` (``tests/support/tiers.py``)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest

from studio.store import Store
from tests.support import servers, tiers
from tests.support.harness import sqlite_url

# --- the tiers: make test-fast (-m "not slow") starts no server, ffmpeg or browser ---------


def pytest_configure(config: pytest.Config) -> None:
    """Watch every subprocess a test starts (``tiers.watch``)."""
    sys.addaudithook(tiers.watch)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run when a test marked ``postgres`` is not also marked ``slow``."""
    unmarked = [
        item.nodeid
        for item in items
        if item.get_closest_marker("postgres") and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests that start PostgreSQL must be marked slow too: " + ", ".join(unmarked[:5])
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """Tell the guard which test runs and whether it may start servers."""
    with tiers.running(item.nodeid, slow=item.get_closest_marker("slow") is not None):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fail a phase in which a test not marked slow started a server, even if it went unseen."""
    report = yield
    if violations := tiers.take_violations():
        report.outcome = "failed"
        report.longrepr = "\n".join(violations)
    return report


# --- PostgreSQL: one throwaway cluster per test session, a fresh database per test --------


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.PostgresServer]:
    """A PostgreSQL server on a free loopback port (skips when PostgreSQL is not installed)."""
    if servers.postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server not installed (/usr/lib/postgresql/*/bin); make deps-system")
    server = servers.start_postgres(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: servers.PostgresServer) -> str:
    """URL of the session's shared ``torget`` database (postgresql+asyncpg://...)."""
    return postgres_server.url


@pytest.fixture
def postgres_db_url(postgres_server: servers.PostgresServer) -> Iterator[str]:
    """URL of a new empty database for this test only (dropped afterwards)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


# --- Redis: one server per test session ---------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.RedisServer]:
    """A redis-server on a free loopback port (skips when redis-server is not installed)."""
    if not servers.redis_installed():
        pytest.skip("redis-server not installed; make deps-system")
    server = servers.start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


# --- the store, on both back ends ---------------------------------------------------------


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An empty store on each back end (SQLite, and PostgreSQL started by the tests)."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        url = request.getfixturevalue("postgres_db_url")
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()
