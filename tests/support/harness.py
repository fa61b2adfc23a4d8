"""Shared test helpers: a clock moved by hand, settings for a throwaway store, a running app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Settings, load_settings

T0 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)  # 09:00 in Stockholm, the fair's first morning


@dataclass
class FakeClock:
    """A clock that only moves when a test moves it."""

    current: datetime = T0

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def settings_for(store_url: str, **env: str) -> Settings:
    """Settings with the given store, no demo programme, a slow scheduler loop (tests tick it),
    restreams allowed to reach 127.0.0.1."""
    base = {
        "TORGET_STORE_URL": store_url,
        "TORGET_DEMO_LOAD_ON_FIRST_START": "false",
        "TORGET_SCHEDULER_TICK_SECONDS": "60",
        "TORGET_AUTH_COOKIE_SECURE": "false",
        # The tests' RTMP receivers listen on loopback, which restreams may not reach by default.
        "TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS": "127.0.0.1",
    }
    base.update(env)
    return load_settings(None, base)


def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file under ``tmp_path``."""
    return f"sqlite+aiosqlite:///{tmp_path}/torget.db"


@dataclass
class RunningApp:
    """A Torget app served on a loopback port, with the first admin token it printed."""

    client: TestClient[Any, Any]
    web_app: web.Application
    admin_token: str
    clock: FakeClock
    printed: list[str] = field(default_factory=list)

    def auth(self, token: str) -> dict[str, str]:
        """Headers that present ``token``."""
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        """Headers of the first admin."""
        return self.auth(self.admin_token)


@contextlib.asynccontextmanager
async def running_app(
    settings: Settings, clock: FakeClock | None = None
) -> AsyncIterator[RunningApp]:
    """Start the real application on a free loopback port and yield a client for it."""
    from web.app import create_app

    printed: list[str] = []
    clock = clock or FakeClock()
    app = create_app(settings, clock=clock, announce=printed.append)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        token = (
            next(
                line.strip()
                for text in printed
                for line in text.splitlines()
                if line.strip().startswith("tgt_")
            )
            if printed
            else ""
        )
        yield RunningApp(
            client=client, web_app=app, admin_token=token, clock=clock, printed=printed
        )
