"""Fixtures of the realtime end-to-end tests: a running node and websocket clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import WsClient
from tests.support.rooms import Connect, open_client


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget (memory engine, default rate limits, 20 ms ticks) on fresh SQLite."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_REALTIME_TICK_MS="20")
    async with running_app(settings) as running:
        yield running


@pytest.fixture
async def connect(app: RunningApp) -> AsyncIterator[Connect]:
    """Open websocket clients on ``app`` (closed at the end); ``token`` signs in as staff,
    keyword arguments are request headers."""
    opened: list[WsClient] = []

    async def connect_client(token: str | None = None, **headers: str) -> WsClient:
        client = await open_client(app, token, headers)
        opened.append(client)
        return client

    yield connect_client
    for client in opened:
        await client.ws.close()
