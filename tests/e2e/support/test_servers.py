"""The test helpers start real PostgreSQL and Redis servers that answer and keep data apart
(slow: they start servers)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.support import servers

pytestmark = pytest.mark.slow


async def _fetch(url: str, query: str) -> object:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def _execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_postgres_answers(postgres_url: str) -> None:
    """The session's PostgreSQL server answers SELECT 1 in the ``torget`` database."""
    assert postgres_url.endswith("/torget")
    assert await _fetch(postgres_url, "SELECT 1") == 1


@pytest.mark.postgres
async def test_postgres_databases_are_isolated(
    postgres_server: servers.PostgresServer, postgres_db_url: str
) -> None:
    """A table made in one per-test database is absent from another fresh one."""
    other_url = postgres_server.create_database()
    try:
        assert other_url != postgres_db_url
        await _execute(postgres_db_url, "CREATE TABLE marker (id int)")
        query = "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'"
        assert await _fetch(postgres_db_url, query) == 1
        assert await _fetch(other_url, query) == 0
    finally:
        postgres_server.drop_database(other_url.rsplit("/", 1)[1])


def test_redis_answers_ping(redis_server: servers.RedisServer) -> None:
    """The session's redis-server answers PING with +PONG on its loopback port."""
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert servers.redis_command(redis_server.port, "PING") == b"+PONG\r\n"


def test_redis_restart_keeps_port_and_data(tmp_path: Path) -> None:
    """After a clean stop or a kill, restart serves the same port with the data it had."""
    if not servers.redis_installed():
        pytest.skip("redis-server not installed; make deps-system")
    redis = servers.start_redis(tmp_path)
    try:
        port = redis.port
        assert servers.redis_command(port, "SET", "k", "v1") == b"+OK\r\n"
        redis.restart()
        assert servers.redis_command(port, "GET", "k") == b"$2\r\nv1\r\n"
        redis.kill()
        assert not servers.redis_ping(port)
        redis.start()
        assert redis.port == port
        assert servers.redis_ping(port)
    finally:
        redis.stop()
