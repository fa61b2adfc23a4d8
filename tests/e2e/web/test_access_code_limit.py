"""Wrong access codes are limited per address, over real HTTP: 429 with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url

CODE = "hybrid26"
ATTEMPTS = 3  # per minute: a token every 20 s


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget whose event asks for an access code, three wrong tries a minute."""
    settings = settings_for(
        sqlite_url(tmp_path),
        TORGET_EVENT_ACCESS_CODE=CODE,
        TORGET_AUTH_ACCESS_CODE_ATTEMPTS_PER_MINUTE=str(ATTEMPTS),
    )
    async with running_app(settings) as running:
        yield running


def _from(address: str) -> dict[str, str]:
    # The test client is on loopback, a proxy's address: its X-Forwarded-For names the client.
    return {"X-Forwarded-For": address}


async def _pass(app: RunningApp, address: str, code: str) -> Any:
    body = {"display_name": "Eva", "access_code": code}
    return await app.client.post("/api/v1/auth/viewer", json=body, headers=_from(address))


async def _limited(answer: Any) -> None:
    assert answer.status == 429
    seconds = int(answer.headers["Retry-After"])
    assert 1 <= seconds <= 20
    assert (await answer.json())["error"] == {
        "code": "too_many_requests",
        "message": f"too many wrong access codes from your address; try again in {seconds} s",
    }


async def test_wrong_codes_for_a_viewer_pass_are_limited_per_address(app: RunningApp) -> None:
    """After three wrong codes an address gets 429, even with the right code; others do not."""
    for _ in range(ATTEMPTS):
        answer = await _pass(app, "198.51.100.7", "guess")
        assert answer.status == 403
        assert (await answer.json())["error"]["message"] == "the access code is not right"
    await _limited(await _pass(app, "198.51.100.7", "guess"))
    await _limited(await _pass(app, "198.51.100.7", CODE))
    assert (await _pass(app, "198.51.100.8", CODE)).status == 200
    assert (await _pass(app, "198.51.100.8", CODE)).status == 200  # right codes cost nothing


async def test_wrong_codes_in_the_header_or_query_count_too(app: RunningApp) -> None:
    """X-Access-Code and ?code= on gated routes share the limit; a viewer pass is not held
    back by a stale code."""
    granted = await _pass(app, "198.51.100.9", CODE)
    viewer = granted.cookies["torget_viewer"].value
    app.client.session.cookie_jar.clear()  # the pass is sent below only where named
    for _ in range(ATTEMPTS - 1):
        answer = await app.client.get(
            "/api/v1/program", headers={**_from("198.51.100.9"), "X-Access-Code": "old"}
        )
        assert answer.status == 401
    answer = await app.client.get("/api/v1/program.ics?code=old", headers=_from("198.51.100.9"))
    assert answer.status == 401
    await _limited(await app.client.get("/api/v1/studios?code=old", headers=_from("198.51.100.9")))
    with_pass = await app.client.get(
        "/api/v1/program?code=old",
        headers={**_from("198.51.100.9"), "Cookie": f"torget_viewer={viewer}"},
    )
    assert with_pass.status == 200
