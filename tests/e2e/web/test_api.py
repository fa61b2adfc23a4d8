"""The JSON API over real HTTP: the operator's and viewer's paths and every kind of bad input."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from studio.secrets import hash_secret
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from web.keys import PROGRAMME

SESSION = {
    "title": "Opening: innovative municipalities",
    "starts_at": "2026-05-20T09:00:00+02:00",
    "ends_at": "2026-05-20T09:45:00+02:00",
    "speakers": ["Anna Lindqvist", "Matti Virtanen"],
    "description": "How small towns try new things.",
}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget with a fresh SQLite store."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as running:
        yield running


async def studio(app: RunningApp, name: str = "Stora scenen") -> str:
    """Create a studio as admin; return its id."""
    answer = await app.client.post("/api/v1/studios", json={"name": name}, headers=app.admin)
    assert answer.status == 201
    return str((await answer.json())["id"])


async def create(app: RunningApp, studio_id: str, **changes: Any) -> dict[str, Any]:
    """Create a session as admin; return the answer body."""
    answer = await app.client.post(
        "/api/v1/sessions", json={**SESSION, "studio_id": studio_id, **changes}, headers=app.admin
    )
    assert answer.status == 201, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


async def error_of(answer: Any) -> dict[str, Any]:
    """The ``error`` object of a JSON error answer."""
    assert answer.content_type == "application/json"
    body: dict[str, Any] = (await answer.json())["error"]
    return body


async def test_first_start_prints_an_admin_token_once(tmp_path: Path) -> None:
    """The first start prints a working admin token; the second prints nothing."""
    settings = settings_for(sqlite_url(tmp_path))
    async with running_app(settings) as first:
        assert first.admin_token.startswith("tgt_")
        me = await first.client.get("/api/v1/auth/me", headers=first.admin)
        assert (await me.json())["role"] == "admin"
    async with running_app(settings) as second:
        assert second.printed == []


async def test_create_session_shows_key_once_and_ingest_urls(app: RunningApp) -> None:
    """The 201 answer holds the stream key and ingest URLs; later reads never show the key."""
    studio_id = await studio(app)
    body = await create(app, studio_id)
    assert body["stream_key"].startswith("sk_")
    assert body["ingest"]["rtmp"] == "rtmp://127.0.0.1:1935/live/"
    assert body["ingest"]["whip"].endswith(f"/whip/{body['id']}")
    assert body["state"] == "scheduled"
    assert body["starts_at"] == "2026-05-20T07:00:00Z"
    programme = app.web_app[PROGRAMME]
    found = await programme.session_for_stream_key(body["stream_key"])
    assert found is not None
    assert found.id == body["id"]
    read = await (await app.client.get(f"/api/v1/sessions/{body['id']}")).json()
    assert "stream_key" not in read
    assert read["studio_name"] == "Stora scenen"
    assert read["urls"]["hls"].endswith(f"/hls/{body['id']}/index.m3u8")


async def test_program_lists_sessions_with_viewer_urls(app: RunningApp) -> None:
    """The public programme has every field a guide needs, and filters by studio and language."""
    a, b = await studio(app, "A"), await studio(app, "B")
    await create(app, a)
    await create(app, b, language="fi")
    answer = await app.client.get("/api/v1/program")
    program = await answer.json()
    assert {s["studio_id"] for s in program["sessions"]} == {a, b}
    first = program["sessions"][0]
    for field in ("id", "studio_id", "title", "description", "speakers", "language", "starts_at",
                  "ends_at", "state", "urls"):  # fmt: skip
        assert field in first
    only_b = await (await app.client.get("/api/v1/program", params={"studio_id": b})).json()
    assert [s["studio_id"] for s in only_b["sessions"]] == [b]
    finnish = await (await app.client.get("/api/v1/program", params={"language": "fi"})).json()
    assert [s["language"] for s in finnish["sessions"]] == ["fi"]


async def test_broadcast_lifecycle_over_http(app: RunningApp) -> None:
    """Go live, end; going live again is refused with a sentence."""
    session = await create(app, await studio(app))
    url = f"/api/v1/sessions/{session['id']}"
    live = await (await app.client.post(url + "/live", headers=app.admin)).json()
    assert live["state"] == "live"
    assert live["went_live_at"]
    ended = await (await app.client.post(url + "/end", headers=app.admin)).json()
    assert ended["state"] == "ended"
    again = await app.client.post(url + "/live", headers=app.admin)
    assert again.status == 409
    assert await error_of(again) == {
        "code": "invalid_transition",
        "message": "a session that is ended cannot go live",
    }


async def test_patch_changes_only_given_fields(app: RunningApp) -> None:
    """A PATCH with one field leaves the others as they were."""
    session = await create(app, await studio(app))
    answer = await app.client.patch(
        f"/api/v1/sessions/{session['id']}", json={"title": "  New title  "}, headers=app.admin
    )
    body = await answer.json()
    assert body["title"] == "New title"
    assert body["speakers"] == SESSION["speakers"]
    assert body["starts_at"] == session["starts_at"]


async def test_overlap_is_refused_and_names_the_other_session(app: RunningApp) -> None:
    """A second session at the same time in the same studio gets 409."""
    studio_id = await studio(app)
    first = await create(app, studio_id)
    answer = await app.client.post(
        "/api/v1/sessions",
        json={**SESSION, "studio_id": studio_id, "starts_at": "2026-05-20T09:30:00+02:00"},
        headers=app.admin,
    )
    assert answer.status == 409
    error = await error_of(answer)
    assert error["code"] == "schedule_overlap"
    assert first["id"] in error["message"]


async def test_extend_pushes_the_end(app: RunningApp) -> None:
    """Extending moves ends_at by the given minutes."""
    session = await create(app, await studio(app))
    answer = await app.client.post(
        f"/api/v1/sessions/{session['id']}/extend", json={"minutes": 15}, headers=app.admin
    )
    assert (await answer.json())["ends_at"] == "2026-05-20T08:00:00Z"


async def test_rotating_the_stream_key_retires_the_old_one(app: RunningApp) -> None:
    """After rotation the old key opens nothing and the new one opens the session."""
    session = await create(app, await studio(app))
    answer = await app.client.post(
        f"/api/v1/sessions/{session['id']}/stream-key", headers=app.admin
    )
    new_key = (await answer.json())["stream_key"]
    programme = app.web_app[PROGRAMME]
    assert await programme.session_for_stream_key(session["stream_key"]) is None
    assert (await programme.session_for_stream_key(new_key)) is not None
    stored = await programme.store.session_by_stream_key_hash(hash_secret(new_key))
    assert stored is not None


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"title": "x" * 201}, 422, "title", "title: must be at most 200 characters"),
        ({"title": "   "}, 422, "title", "title: must not be blank or hold control characters"),
        ({"title": 5}, 422, "title", "title: must be a string, not an integer"),
        (
            {"ends_at": "2026-05-20T08:00:00+02:00"},
            422,
            "ends_at",
            "ends_at: must be after starts_at",
        ),
        ({"colour": "red"}, 422, "colour", "colour: is not a known field"),
    ],
)
async def test_bad_session_bodies_name_field_and_problem(
    app: RunningApp, body: dict[str, Any], status: int, field: str, message: str
) -> None:
    """Wrong types, blank or long titles and reversed times are 422 naming the field."""
    studio_id = await studio(app)
    answer = await app.client.post(
        "/api/v1/sessions", json={**SESSION, "studio_id": studio_id, **body}, headers=app.admin
    )
    assert answer.status == status
    error = await error_of(answer)
    assert (error["field"], error["message"]) == (field, message)
    program = await (await app.client.get("/api/v1/program")).json()
    assert program["sessions"] == []


async def test_malformed_json_wrong_type_and_oversized_bodies(app: RunningApp) -> None:
    """Unreadable JSON is 400, a non-JSON type 415, a huge body 413; all JSON errors."""
    bad = await app.client.post(
        "/api/v1/studios", data=b"{nope", headers={**app.admin, "Content-Type": "application/json"}
    )
    assert bad.status == 400
    assert (await error_of(bad))["message"] == "the body is not valid JSON"
    form = await app.client.post("/api/v1/studios", data={"name": "x"}, headers=app.admin)
    assert form.status == 415
    huge = await app.client.post(
        "/api/v1/studios",
        data=io.BytesIO(b'{"name":"' + b"x" * 2_000_000 + b'"}'),
        headers={**app.admin, "Content-Type": "application/json"},
    )
    assert huge.status == 413
    assert (await error_of(huge))["code"] == "payload_too_large"
    assert await (await app.client.get("/api/v1/studios")).json() == []


async def test_unknown_ids_and_paths_are_json_404(app: RunningApp) -> None:
    """Unknown session, studio, token and path all answer 404 in JSON."""
    for url in ("/api/v1/sessions/ses_nope", "/api/v1/studios/std_nope", "/api/v1/nothing"):
        answer = await app.client.get(url)
        assert answer.status == 404, url
        assert (await error_of(answer))["code"] == "not_found"
    gone = await app.client.delete("/api/v1/tokens/tok_nope", headers=app.admin)
    assert (await error_of(gone))["message"] == "token 'tok_nope' does not exist"


async def test_bad_or_missing_token(app: RunningApp) -> None:
    """No token is 401 with a challenge; a wrong token is 401 saying so."""
    none = await app.client.post("/api/v1/studios", json={"name": "x"})
    assert none.status == 401
    assert none.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = await app.client.post("/api/v1/studios", json={"name": "x"}, headers=app.auth("tgt_x"))
    assert (await error_of(wrong))[
        "message"
    ] == "the bearer token is not valid (mistyped or revoked)"


async def test_deleting_live_session_is_refused(app: RunningApp) -> None:
    """A live broadcast cannot be deleted from under its viewers."""
    session = await create(app, await studio(app))
    url = f"/api/v1/sessions/{session['id']}"
    await app.client.post(url + "/live", headers=app.admin)
    answer = await app.client.delete(url, headers=app.admin)
    assert answer.status == 409
    assert (await error_of(answer))["message"] == "end the broadcast before deleting a live session"


async def test_browser_sign_in_needs_csrf_for_changes(app: RunningApp) -> None:
    """The cookie sign-in reads freely but changes only with the CSRF header."""
    login = await app.client.post("/api/v1/auth/login", json={"token": app.admin_token})
    assert login.status == 200
    cookie = login.cookies["torget_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    csrf = (await login.json())["csrf_token"]
    me = await app.client.get("/api/v1/auth/me")
    assert (await me.json())["csrf_token"] == csrf
    refused = await app.client.post("/api/v1/studios", json={"name": "x"})
    assert refused.status == 403
    assert "X-CSRF-Token" in (await error_of(refused))["message"]
    forged = await app.client.post(
        "/api/v1/studios", json={"name": "x"}, headers={"X-CSRF-Token": csrf + "x"}
    )
    assert forged.status == 403
    made = await app.client.post(
        "/api/v1/studios", json={"name": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status == 201
    out = await app.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status == 204
    assert (await app.client.get("/api/v1/auth/me")).status == 401


async def test_login_with_wrong_token_is_refused(app: RunningApp) -> None:
    """A wrong token does not sign a browser in."""
    answer = await app.client.post("/api/v1/auth/login", json={"token": "tgt_wrong"})
    assert answer.status == 401
    assert "torget_session" not in answer.cookies


async def test_access_code_gates_viewers(tmp_path: Path) -> None:
    """With an access code, the programme needs the code, a viewer pass or a role."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_EVENT_ACCESS_CODE="fair2026")
    async with running_app(settings) as app:
        closed = await app.client.get("/api/v1/program")
        assert closed.status == 401
        assert "access code" in (await error_of(closed))["message"]
        assert (await app.client.get("/api/v1/program", headers=app.admin)).status == 200
        assert (await app.client.get("/api/v1/program.ics?code=fair2026")).status == 200
        wrong = await app.client.post(
            "/api/v1/auth/viewer", json={"display_name": "Eva", "access_code": "nope"}
        )
        assert wrong.status == 403
        assert (await error_of(wrong))["message"] == "the access code is not right"
        ok = await app.client.post(
            "/api/v1/auth/viewer", json={"display_name": "Eva", "access_code": "fair2026"}
        )
        assert (await ok.json())["viewer_id"].startswith("vwr_")
        assert (await app.client.get("/api/v1/program")).status == 200


async def test_security_headers_on_every_answer(app: RunningApp) -> None:
    """Answers carry a strict CSP and nosniff."""
    answer = await app.client.get("/api/v1/program")
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_healthz_and_metrics(app: RunningApp) -> None:
    """Health answers ok; metrics are Prometheus text with sessions by state."""
    health = await app.client.get("/healthz")
    assert await health.json() == {"status": "ok", "store": "sqlite"}
    await create(app, await studio(app))
    metrics = await (await app.client.get("/metrics")).text()
    assert 'torget_sessions{state="scheduled"} 1.0' in metrics
    assert "torget_http_requests_total{" in metrics


async def test_first_start_loads_a_living_demo_programme(tmp_path: Path) -> None:
    """With the demo on, the first start loads three studios whose programme begins this hour."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_DEMO_LOAD_ON_FIRST_START="true")
    async with running_app(settings) as app:
        program = await (await app.client.get("/api/v1/program")).json()
        assert len(program["studios"]) == 3
        assert len(program["sessions"]) >= 25
        assert program["sessions"][0]["starts_at"] == "2026-05-20T07:00:00Z"
    async with running_app(settings) as again:
        program = await (await again.client.get("/api/v1/program")).json()
        assert len(program["studios"]) == 3


async def test_program_import_and_export_over_http(app: RunningApp) -> None:
    """An admin imports YAML, exports CSV, and re-importing the CSV updates in place."""
    yaml_text = (
        "timezone: Europe/Helsinki\n"
        "studios: [Tampere]\n"
        "sessions:\n"
        "  - {studio: Tampere, title: 'Avaus', language: fi,"
        " starts_at: '2026-05-20 10:00', ends_at: '2026-05-20 10:45'}\n"
    )
    answer = await app.client.post(
        "/api/v1/program/import",
        data=yaml_text.encode(),
        headers={**app.admin, "Content-Type": "application/yaml"},
    )
    assert await answer.json() == {
        "studios_created": 1,
        "sessions_created": 1,
        "sessions_updated": 0,
    }
    exported = await app.client.get("/api/v1/program/export?format=csv", headers=app.admin)
    assert exported.content_type == "text/csv"
    csv_text = await exported.text()
    assert "Avaus" in csv_text
    again = await app.client.post(
        "/api/v1/program/import",
        data=csv_text.encode(),
        headers={**app.admin, "Content-Type": "text/csv"},
    )
    assert (await again.json())["sessions_updated"] == 1
    program = await (await app.client.get("/api/v1/program")).json()
    assert [s["starts_at"] for s in program["sessions"]] == ["2026-05-20T07:00:00Z"]


async def test_failed_import_leaves_the_programme_as_it_was(app: RunningApp) -> None:
    """An overlap in the last row of a file rolls back the studios and sessions before it."""
    yaml_text = (
        "timezone: Europe/Stockholm\n"
        "sessions:\n"
        "  - {studio: N, title: One, starts_at: '2026-05-20 09:00', ends_at: '2026-05-20 10:00'}\n"
        "  - {studio: N, title: Two, starts_at: '2026-05-20 09:30', ends_at: '2026-05-20 10:30'}\n"
    )
    answer = await app.client.post(
        "/api/v1/program/import",
        data=yaml_text.encode(),
        headers={**app.admin, "Content-Type": "application/yaml"},
    )
    assert answer.status == 409
    assert "sessions[1]" in (await error_of(answer))["message"]
    assert await (await app.client.get("/api/v1/studios")).json() == []


async def test_import_refuses_bad_files_with_the_place(app: RunningApp) -> None:
    """A YAML error names the session and field; a wrong media type is 415."""
    answer = await app.client.post(
        "/api/v1/program/import",
        data=b"sessions:\n  - {studio: A, title: T}\n",
        headers={**app.admin, "Content-Type": "application/yaml"},
    )
    assert answer.status == 422
    assert (await error_of(answer))["field"] == "sessions[0].starts_at"
    wrong = await app.client.post(
        "/api/v1/program/import", json={"sessions": []}, headers=app.admin
    )
    assert wrong.status == 415


async def test_calendar_feeds_parse_and_hold_the_sessions(app: RunningApp) -> None:
    """The event and studio feeds are iCalendar with one event per session."""
    from icalendar import Calendar

    a, b = await studio(app, "A"), await studio(app, "B")
    mine = await create(app, a, title="Öppning, med <b>fet</b> text; ja")
    await create(app, b)
    whole = await app.client.get("/api/v1/program.ics")
    assert whole.content_type == "text/calendar"
    events = Calendar.from_ical(await whole.read()).walk("VEVENT")
    assert len(events) == 2
    only_a = await app.client.get(f"/api/v1/studios/{a}/program.ics")
    (event,) = Calendar.from_ical(await only_a.read()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Öppning, med <b>fet</b> text; ja"
    assert str(event["UID"]).startswith(mine["id"])
    missing = await app.client.get("/api/v1/studios/std_nope/program.ics")
    assert missing.status == 404
