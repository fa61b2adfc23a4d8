"""The pages' sign-in probe answers 200 whether the browser is signed in or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget on fresh SQLite (no media)."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_ENABLED="false")
    async with running_app(settings) as running:
        yield running


async def test_the_sign_in_state_is_200_signed_in_or_not(app: RunningApp) -> None:
    """Without a sign-in: ``signed_in`` false and nothing else; after the browser signs in:
    who it is and its CSRF token, as ``/api/v1/auth/me`` says; after it signs out: false."""
    answer = await app.client.get("/api/v1/auth/session")
    assert answer.status == 200
    assert await answer.json() == {"signed_in": False, "me": None}
    login = await app.client.post("/api/v1/auth/login", json={"token": app.admin_token})
    assert login.status == 200
    signed = await (await app.client.get("/api/v1/auth/session")).json()
    me = await (await app.client.get("/api/v1/auth/me")).json()
    assert signed == {"signed_in": True, "me": me}
    assert me["role"] == "admin"
    assert me["csrf_token"]
    out = await app.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert out.status == 204
    assert await (await app.client.get("/api/v1/auth/session")).json() == {
        "signed_in": False,
        "me": None,
    }
