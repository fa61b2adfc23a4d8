"""The authorization matrix: every role against every endpoint, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.images import png
from web.routes import ROUTES

ROLES = ("anonymous", "admin", "operator_a", "operator_b", "moderator_a")


@dataclass
class World:
    """A running app with studios A, B and an empty C, a session in A and a token per role."""

    app: RunningApp
    headers: dict[str, dict[str, str]]
    studio_a: str
    studio_c: str
    session: str
    spare_token: str
    restream: str = ""


async def _token(app: RunningApp, role: str, studio: str | None) -> str:
    body: dict[str, Any] = {"role": role, "name": role}
    if studio:
        body["studio_ids"] = [studio]
    answer = await app.client.post("/api/v1/tokens", json=body, headers=app.admin)
    assert answer.status == 201, await answer.text()
    return str((await answer.json())["token"])


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Set up the world the matrix runs in."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as app:
        ids = {}
        for name in ("A", "B", "C"):
            answer = await app.client.post(
                "/api/v1/studios", json={"name": name}, headers=app.admin
            )
            ids[name] = (await answer.json())["id"]
        answer = await app.client.post(
            "/api/v1/sessions",
            json={
                "studio_id": ids["A"],
                "title": "Matrix",
                "starts_at": "2026-05-20T09:00:00+02:00",
                "ends_at": "2026-05-20T09:45:00+02:00",
            },
            headers=app.admin,
        )
        session = (await answer.json())["id"]
        headers = {
            "anonymous": {},
            "admin": app.admin,
            "operator_a": app.auth(await _token(app, "operator", ids["A"])),
            "operator_b": app.auth(await _token(app, "operator", ids["B"])),
            "moderator_a": app.auth(await _token(app, "moderator", ids["A"])),
        }
        tokens = await (await app.client.get("/api/v1/tokens", headers=app.admin)).json()
        spare = tokens[-1]["id"]
        answer = await app.client.post(
            f"/api/v1/sessions/{session}/restreams", json=RESTREAM, headers=app.admin
        )
        assert answer.status == 201, await answer.text()
        restream = (await answer.json())["id"]
        yield World(app, headers, ids["A"], ids["C"], session, spare, restream)


NEW_SESSION = {
    "title": "Another",
    "starts_at": "2026-05-20T12:00:00+02:00",
    "ends_at": "2026-05-20T12:30:00+02:00",
}
PROGRAM_YAML = "studios: [{name: D}]\nsessions: []\n"
RESTREAM = {"name": "Channel", "url": "rtmp://127.0.0.1:9/live/matrix-key"}
CAPTION = {"text": "Välkomna", "language": "sv"}

# (method, route path, body) -> expected status per role, in ROLES order.
MATRIX: list[tuple[str, str, Any, tuple[int, int, int, int, int]]] = [
    ("GET", "/api/v1/program", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/program.ics", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/program/export", None, (401, 200, 403, 403, 403)),
    ("POST", "/api/v1/program/import", PROGRAM_YAML, (401, 200, 403, 403, 403)),
    ("GET", "/api/v1/studios", None, (200, 200, 200, 200, 200)),
    ("POST", "/api/v1/studios", {"name": "New"}, (401, 201, 403, 403, 403)),
    ("GET", "/api/v1/studios/{studio_id}", None, (200, 200, 200, 200, 200)),
    ("PATCH", "/api/v1/studios/{studio_id}", {"name": "Renamed"}, (401, 200, 403, 403, 403)),
    ("DELETE", "/api/v1/studios/{studio_id}", None, (401, 204, 403, 403, 403)),
    ("GET", "/api/v1/studios/{studio_id}/program.ics", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/studios/{studio_id}/channel", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/studios/{studio_id}/join-code", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/studios/{studio_id}/join-code.svg", None, (200, 200, 200, 200, 200)),
    # A new join code ends the hall's current one: the studio's operators only.
    ("POST", "/api/v1/studios/{studio_id}/join-code", None, (401, 200, 200, 403, 403)),
    ("POST", "/api/v1/sessions", NEW_SESSION, (401, 201, 201, 403, 403)),
    ("GET", "/api/v1/sessions/{session_id}", None, (200, 200, 200, 200, 200)),
    ("PATCH", "/api/v1/sessions/{session_id}", {"title": "T"}, (401, 200, 200, 403, 403)),
    ("DELETE", "/api/v1/sessions/{session_id}", None, (401, 204, 204, 403, 403)),
    ("POST", "/api/v1/sessions/{session_id}/live", None, (401, 200, 200, 403, 403)),
    ("POST", "/api/v1/sessions/{session_id}/end", None, (401, 200, 200, 403, 403)),
    ("POST", "/api/v1/sessions/{session_id}/cancel", None, (401, 200, 200, 403, 403)),
    ("POST", "/api/v1/sessions/{session_id}/extend", {"minutes": 10}, (401, 200, 200, 403, 403)),
    ("POST", "/api/v1/sessions/{session_id}/stream-key", None, (401, 200, 200, 403, 403)),
    ("GET", "/api/v1/sessions/{session_id}/ingest", None, (401, 200, 200, 403, 403)),
    ("GET", "/api/v1/sessions/{session_id}/audit", None, (401, 200, 403, 403, 200)),
    ("GET", "/api/v1/sessions/{session_id}/report", None, (401, 200, 200, 403, 403)),
    ("GET", "/api/v1/sessions/{session_id}/recording", None, (401, 200, 200, 403, 403)),
    # The matrix's session has no replay yet: its operators are told so (409).
    (
        "PUT",
        "/api/v1/sessions/{session_id}/recording/trim",
        {"start_seconds": 1},
        (401, 409, 409, 403, 403),
    ),
    ("GET", "/api/v1/sessions/{session_id}/restreams", None, (401, 200, 200, 403, 403)),
    ("POST", "/api/v1/sessions/{session_id}/restreams", RESTREAM, (401, 201, 201, 403, 403)),
    (
        "PATCH",
        "/api/v1/sessions/{session_id}/restreams/{restream_id}",
        {"enabled": False},
        (401, 200, 200, 403, 403),
    ),
    (
        "DELETE",
        "/api/v1/sessions/{session_id}/restreams/{restream_id}",
        None,
        (401, 204, 204, 403, 403),
    ),
    ("GET", "/api/v1/sessions/{session_id}/health", None, (401, 200, 200, 403, 200)),
    # Captions come from captioners (tests/e2e/web/test_captions.py) while the session is live:
    # the matrix's is not (409); there is no cue to correct (404).
    ("POST", "/api/v1/sessions/{session_id}/captions", CAPTION, (401, 409, 403, 403, 403)),
    ("GET", "/api/v1/sessions/{session_id}/captions", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/sessions/{session_id}/captions.vtt", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/sessions/{session_id}/captions.srt", None, (200, 200, 200, 200, 200)),
    (
        "PATCH",
        "/api/v1/sessions/{session_id}/captions/{caption_id}",
        {"text": "Fixed"},
        (401, 404, 404, 403, 403),
    ),
    (
        "POST",
        "/api/v1/sessions/{session_id}/captions/shift",
        {"language": "sv", "shift_ms": 500},
        (401, 200, 200, 403, 403),
    ),
    # Staff of the studio may clip; the matrix's session has nothing recorded yet (409).
    ("POST", "/api/v1/sessions/{session_id}/clips", {"last_seconds": 5}, (401, 409, 409, 403, 409)),
    ("PUT", "/api/v1/branding", {"name": "Expo"}, (401, 200, 403, 403, 403)),
    ("DELETE", "/api/v1/branding", None, (401, 200, 403, 403, 403)),
    ("PUT", "/api/v1/branding/logo", png(), (401, 200, 403, 403, 403)),
    ("DELETE", "/api/v1/branding/logo", None, (401, 204, 403, 403, 403)),
    ("GET", "/api/v1/tokens", None, (401, 200, 403, 403, 403)),
    ("POST", "/api/v1/tokens", {"role": "moderator", "name": "m"}, (401, 201, 403, 403, 403)),
    ("DELETE", "/api/v1/tokens/{token_id}", None, (401, 204, 403, 403, 403)),
    ("GET", "/api/v1/auth/me", None, (401, 200, 200, 200, 200)),
    # WHIP takes the session's stream key, never a user token.
    ("POST", "/whip/{session_id}", None, (401, 401, 401, 401, 401)),
    # Interpreters' voices (tests/e2e/media/test_interpreter.py): the matrix's event has no
    # interpretation language (422); there is no interpreter to stop (404).
    ("POST", "/whip/{session_id}/interpret/{language}", None, (401, 422, 403, 403, 403)),
    (
        "DELETE",
        "/whip/{session_id}/interpret/{language}/{resource_id}",
        None,
        (401, 404, 403, 403, 403),
    ),
    # Node to node: a node's pass (signed with the deployment's key), never a user token.
    ("GET", "/internal/media/{session_id}/runs", None, (403, 403, 403, 403, 403)),
]
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/viewer"),
    ("GET", "/api/v1/auth/session"),  # signed in or not, 200
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/ws"),
    ("GET", "/api/v1/sessions/{session_id}/captions/live"),  # websocket: test_captions.py
    ("GET", "/hls/{session_id}/index.m3u8"),
    ("GET", "/hls/{session_id}/{name}"),
    (
        "GET",
        "/hls/c/{studio_id}/{name}",
    ),  # 404 until something airs; tests/e2e/realtime/test_hall.py
    ("GET", "/api/v1/join/{code}"),  # viewers; 404/410/422 in tests/e2e/realtime/test_hall.py
    ("GET", "/api/v1/sessions/{session_id}/recording.mp4"),  # viewers; 404 until a replay
    ("POST", "/whep/{session_id}"),
    ("DELETE", "/whep/{session_id}/{resource_id}"),
    ("DELETE", "/whip/{session_id}/{resource_id}"),  # stream key, see tests/e2e/media/test_whip.py
    ("GET", "/internal/media/{session_id}/runs/{name}"),  # node pass, see media/test_failover.py
    ("GET", "/"),
    ("GET", "/s/{session_id}"),
    ("GET", "/embed/{session_id}"),
    ("GET", "/c/{studio_id}"),
    ("GET", "/embed/c/{studio_id}"),
    ("GET", "/screen/{studio_id}"),
    ("GET", "/j/{code}"),
    ("GET", "/studio"),
    ("GET", "/moderate"),
    ("GET", "/caption"),
    ("GET", "/interpret"),
    ("GET", "/api/v1/captions/languages"),
    ("GET", "/api/v1/sessions/{session_id}/interpretation"),  # viewers: test_interpreter.py
    ("GET", "/report"),
    ("GET", "/admin"),
    ("GET", "/static/{name}"),
    ("GET", "/static/{folder}/{name}"),
    ("GET", "/api/v1/sessions/{session_id}/clips"),  # viewers see the ready ones
    ("GET", "/api/v1/sessions/{session_id}/clips/{clip_id}.mp4"),  # viewers; 404 until cut
    ("GET", "/api/v1/branding"),
    ("GET", "/branding/logo"),  # 404 until uploaded
    ("GET", "/branding.css"),
}


def test_matrix_covers_every_route() -> None:
    """A new endpoint cannot be added without deciding who may call it."""
    routes = {(r.method, r.path) for r in ROUTES}
    assert routes == {(m, p) for m, p, _, _ in MATRIX} | PUBLIC


def _cases() -> list[Any]:
    return [
        pytest.param(method, path, body, role, expected[i], id=f"{method} {path} as {role}")
        for method, path, body, expected in MATRIX
        for i, role in enumerate(ROLES)
    ]


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), _cases())
async def test_role_gets_expected_status(
    world: World, method: str, path: str, body: Any, role: str, expected: int
) -> None:
    """Each role gets exactly the status the matrix says for each endpoint."""
    url = path.format(
        studio_id=world.studio_c if method == "DELETE" else world.studio_a,
        session_id=world.session,
        token_id=world.spare_token,
        restream_id=world.restream,
        caption_id="cap_none",
        language="en",
        resource_id="wi_none",
    )
    if path == "/api/v1/sessions" and body is not None:
        body = {**body, "studio_id": world.studio_a}
    kwargs: dict[str, Any] = {"headers": dict(world.headers[role])}
    if isinstance(body, str):
        kwargs["data"] = body
        kwargs["headers"]["Content-Type"] = "application/yaml"
    elif isinstance(body, bytes):
        kwargs["data"] = body
        kwargs["headers"]["Content-Type"] = "image/png"
    elif body is not None:
        kwargs["json"] = body
    answer = await world.app.client.request(method, url, **kwargs)
    assert answer.status == expected, await answer.text()
    if expected >= 400:
        error = (await answer.json())["error"]
        codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict",
                 422: "invalid_input"}  # fmt: skip
        assert error["code"] == codes[expected]
        assert error["message"]
