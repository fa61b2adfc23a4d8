"""HLS behind the event's access code, on a running app without a media listener."""

from __future__ import annotations

from pathlib import Path

from tests.support.harness import running_app, settings_for, sqlite_url


async def test_hls_asks_for_the_access_code_like_the_programme(tmp_path: Path) -> None:
    """With an access code set, HLS answers 401 without a viewer pass, 404 with one."""
    settings = settings_for(
        sqlite_url(tmp_path), TORGET_EVENT_ACCESS_CODE="fair2026", TORGET_MEDIA_ENABLED="false"
    )
    async with running_app(settings) as app:
        for path in ("/hls/ses_x/index.m3u8", "/hls/ses_x/source.m3u8"):
            answer = await app.client.get(path)
            assert answer.status == 401
            assert (await answer.json())["error"]["code"] == "unauthenticated"
        answer = await app.client.post(
            "/api/v1/auth/viewer", json={"display_name": "Ann", "access_code": "fair2026"}
        )
        assert answer.status == 200, await answer.text()
        answer = await app.client.get("/hls/ses_x/index.m3u8")
        assert answer.status == 404
        doc = await (await app.client.get("/api/v1/openapi.json")).json()
        operation = doc["paths"]["/hls/{session_id}/{name}"]["get"]
        assert {p["name"] for p in operation["parameters"]} == {
            "session_id",
            "name",
            "_HLS_msn",
            "_HLS_part",
            "v",
        }
        assert set(operation["responses"]) == {"200", "400", "401", "404", "429", "503"}
