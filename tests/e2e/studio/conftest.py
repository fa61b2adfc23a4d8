"""The programme service over a real store, for the scheduler and service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from studio.service import Programme
from studio.store import Store
from tests.support.harness import T0, FakeClock, settings_for, sqlite_url


@pytest.fixture
async def programme(tmp_path: Path) -> AsyncIterator[Programme]:
    """A programme service over a fresh SQLite store with a hand-moved clock."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_SCHEDULER_END_GRACE_MINUTES="5")
    store = await Store.open(settings.store.url)
    try:
        yield Programme(store, settings, FakeClock(T0 - timedelta(minutes=30)))
    finally:
        await store.close()
