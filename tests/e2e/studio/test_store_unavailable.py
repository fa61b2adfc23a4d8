"""A PostgreSQL shutting down refuses new connections with asyncpg's CannotConnectNowError,
raised by ``engine.connect()`` before SQLAlchemy wraps anything: the store answers
StoreUnavailable (the web edge's 503), not a driver error (a 500)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import asyncpg
import pytest

from studio.errors import StoreUnavailable
from studio.store import Store
from tests.support import servers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SHUTTING_DOWN = "the database system is shutting down"


async def _refused(store: Store, seconds: float = 10.0) -> StoreUnavailable:
    """Ping with a new connection each time until the store is unavailable; return why."""
    deadline = time.monotonic() + seconds
    while True:
        await store.close()  # the pool forgets its connections: the next read connects anew
        try:
            await store.ping()
        except StoreUnavailable as exc:
            return exc
        assert time.monotonic() < deadline, "PostgreSQL still takes new connections"
        await asyncio.sleep(0.05)


async def test_a_postgresql_shutting_down_makes_the_store_unavailable(tmp_path: Path) -> None:
    """While PostgreSQL waits for a last client to leave (a smart shutdown), reads and the
    opening of a store are StoreUnavailable naming the reason."""
    if servers.postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server not installed (/usr/lib/postgresql/*/bin); make deps-system")
    server = await asyncio.to_thread(servers.start_postgres, tmp_path)
    try:
        store = await Store.open(server.url)
        last_client = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="torget", database="torget"
        )
        try:
            postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(postmaster, signal.SIGTERM)  # smart: waits for last_client, refuses others
            refused = await _refused(store)
            assert refused.message == f"the store is unavailable: {SHUTTING_DOWN}"
            assert isinstance(refused.__cause__, asyncpg.CannotConnectNowError)
            with pytest.raises(StoreUnavailable) as opening:
                await Store.open(server.url)
            assert opening.value.message == f"cannot open the store: {SHUTTING_DOWN}"
        finally:
            await last_client.close()
            await store.close()
    finally:
        await asyncio.to_thread(server.stop)
