"""Helpers of the realtime end-to-end tests: sessions to use as rooms, staff tokens, clients."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support.harness import RunningApp
from tests.support.realtime_client import WsClient

Connect = Callable[..., Awaitable[WsClient]]  # the realtime tests' ``connect`` fixture


async def make_session(app: RunningApp, **extra: Any) -> str:
    """Create a studio (of a new name) and a session; return the session id (the room)."""
    name = f"Studio {secrets.token_hex(3)}"
    studio = await app.client.post("/api/v1/studios", json={"name": name}, headers=app.admin)
    body = {"studio_id": (await studio.json())["id"], "title": "Q&A hour",
            "starts_at": "2026-05-20T09:00:00Z", "ends_at": "2026-05-20T10:00:00Z",
            **extra}  # fmt: skip
    answer = await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
    return str((await answer.json())["id"])


async def staff_token(app: RunningApp, role: str = "moderator") -> tuple[str, str]:
    """A new event-wide staff token of ``role``: (its id, its secret)."""
    answer = await app.client.post(
        "/api/v1/tokens", json={"role": role, "name": "Mo"}, headers=app.admin
    )
    body = await answer.json()
    return str(body["id"]), str(body["token"])


async def moderator_token(app: RunningApp) -> str:
    """An event-wide moderator token's secret."""
    return (await staff_token(app))[1]


async def open_client(
    app: RunningApp, token: str | None = None, headers: dict[str, str] | None = None
) -> WsClient:
    """A websocket client on ``app`` past its welcome (``token`` signs in as staff)."""
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    client = WsClient(await app.client.ws_connect("/ws", headers=sent))
    client.welcome = await client.next()
    assert client.welcome["type"] == "welcome", client.welcome
    client.seen.clear()
    return client
