"""HEAD on every GET route, and one size limit for WHIP and WHEP offers, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from web.routes import ROUTES

GET_PATHS = sorted(r.path for r in ROUTES if r.method == "GET")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget (media plane off) with a studio and a session."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_ENABLED="false")
    async with running_app(settings) as running:
        yield running


async def _world(app: RunningApp) -> dict[str, str]:
    studio = await app.client.post("/api/v1/studios", json={"name": "Hall"}, headers=app.admin)
    studio_id = (await studio.json())["id"]
    body = {"studio_id": studio_id, "title": "Heads", "starts_at": "2026-05-20T09:00:00Z",
            "ends_at": "2026-05-20T10:00:00Z"}  # fmt: skip
    session = await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
    created = await session.json()
    return {"studio_id": studio_id, "session_id": created["id"], "key": created["stream_key"],
            "name": "app.css", "folder": "i18n", "code": "123456", "clip_id": "clp_x"}  # fmt: skip


async def test_head_answers_like_get_without_a_body(app: RunningApp) -> None:
    """Every GET route answers HEAD with GET's status and headers and an empty body."""
    values = await _world(app)
    for path in GET_PATHS:
        url = path.format(**values)
        if path == "/static/{folder}/{name}":
            url = "/static/i18n/en.json"
        get = await app.client.get(url, headers=app.admin)
        got = await get.read()
        head = await app.client.head(url, headers=app.admin)
        assert head.status == get.status, (url, head.status, get.status)
        assert head.headers.get("Content-Type") == get.headers.get("Content-Type"), url
        assert await head.read() == b"", url
        # metrics move between calls; aiohttp leaves Content-Length out of HEAD for an empty body
        if "Content-Length" in get.headers and path != "/metrics" and got:
            assert head.headers["Content-Length"] == str(len(got)), url
    assert (await app.client.head("/healthz")).status == 200


async def test_head_on_a_route_without_get_is_still_refused(app: RunningApp) -> None:
    """HEAD is not an alias of POST: a POST-only address answers 405 with Allow."""
    answer = await app.client.head("/api/v1/auth/login")
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"


async def test_whip_and_whep_refuse_an_oversized_offer_alike(app: RunningApp) -> None:
    """An offer over 64 KiB gets 413 payload_too_large from WHIP and WHEP alike."""
    world = await _world(app)
    session_id = world["session_id"]
    offer = ("v=0\r\n" + "a=x\r\n" * 20000).encode()
    for path, headers in (
        (f"/whep/{session_id}", {}),
        (f"/whip/{session_id}", {"Authorization": f"Bearer {world['key']}"}),
    ):
        answer = await app.client.post(
            path, data=offer, headers={**headers, "Content-Type": "application/sdp"}
        )
        assert answer.status == 413, path
        assert (await answer.json())["error"] == {
            "code": "payload_too_large",
            "message": "the SDP offer is larger than 65536 bytes",
        }
    answer = await app.client.post(
        f"/whep/{session_id}", data=b"v=0", headers={"Content-Type": "text/plain"}
    )
    assert answer.status == 415
    assert (await answer.json())["error"]["message"] == (
        "send the offer as application/sdp, not text/plain"
    )
