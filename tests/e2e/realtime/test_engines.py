"""Both engines' log ids on real back ends: they sort as strings in log order, also after
reading back ids an earlier version stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from realtime.engine import Engine, MemoryEngine
from realtime.redis_engine import RedisEngine
from studio.interaction.facts import log_position
from studio.store import Store
from tests.support import servers
from tests.support.harness import sqlite_url


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh SQLite store."""
    opened = await Store.open(sqlite_url(tmp_path))
    yield opened
    await opened.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.slow)])
async def engine(request: pytest.FixtureRequest, store: Store) -> AsyncIterator[Engine]:
    """A started engine of each kind (Redis: the session's real redis-server)."""
    made: Engine
    if request.param == "memory":
        made = MemoryEngine(store)
    else:
        redis: servers.RedisServer = request.getfixturevalue("redis_server")
        made = RedisEngine(redis.url, store)
    await made.start(lambda room, event_id, data: None, lambda up: None)
    yield made
    await made.close()


async def test_ids_of_a_burst_sort_as_strings_in_log_order(engine: Engine) -> None:
    """Hundreds of appends, 50 at once (many in one millisecond), get ids whose string order
    is the log's order."""
    room = f"ses_{uuid.uuid4().hex[:8]}"
    ids: list[str] = []
    for _ in range(6):  # 50 at a time: the Redis client's pool has fewer connections than 300
        ids += await asyncio.gather(*(engine.append(room, b'{"k":"x"}') for _ in range(50)))
    logged = [event_id for event_id, _ in await engine.read(room)]
    assert sorted(ids) == logged
    assert logged == sorted(logged, key=log_position)
    per_ms = max(sum(1 for i in logged if i.startswith(ms)) for ms in {i[:13] for i in logged})
    assert per_ms >= 11  # the case that broke string order


async def test_a_store_with_unpadded_ids_reads_back_padded(store: Store) -> None:
    """Facts stored by an earlier version come back with padded ids, and new ids follow them."""
    await store.append_room_facts([("ses_old", "1732560000756-9", b'{"k":"x"}'),
                                   ("ses_old", "1732560000756-10", b'{"k":"y"}')])  # fmt: skip
    engine = MemoryEngine(store)
    logged = [event_id for event_id, _ in await engine.read("ses_old")]
    assert logged == ["1732560000756-000009", "1732560000756-000010"]
    newer = await engine.append("ses_old", b'{"k":"z"}')
    assert newer > logged[-1]
