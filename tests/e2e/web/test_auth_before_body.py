"""Who may call a route is decided before its body is read, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from web.routes import ROUTES

WITH_BODY_AND_ROLES = [r for r in ROUTES if r.roles and r.body is not None]
BAD_BODIES = {
    "not JSON": ("application/json", b"{nope"),
    "wrong media type": ("text/plain", b"hello"),
    "wrong fields": ("application/json", b'{"unknown": 1}'),
    "empty": ("application/json", b""),
}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget with a small body limit (so an oversized body is cheap to send)."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_SERVER_MAX_BODY_BYTES="4096")
    async with running_app(settings) as running:
        yield running


def _url(path: str) -> str:
    """The route's path with a made-up id in every placeholder (``{session_id}`` -> ``x_1``)."""
    return re.sub(r"\{[a-z_]+\}", "x_1", path)


def _roles(names: list[str]) -> str:
    """Roles as errors name them: "admin", "admin or operator", "admin, captioner or operator"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


async def _error(answer: Any) -> dict[str, Any]:
    assert answer.content_type == "application/json"
    body: dict[str, Any] = (await answer.json())["error"]
    return body


def test_there_are_routes_to_check() -> None:
    """The table has role-gated routes that read a body (else the checks below prove nothing)."""
    assert len(WITH_BODY_AND_ROLES) >= 10


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
@pytest.mark.parametrize("route", WITH_BODY_AND_ROLES, ids=lambda r: f"{r.method} {r.path}")
async def test_anonymous_bad_body_is_unauthenticated(
    app: RunningApp, route: Any, kind: str
) -> None:
    """Without credentials every bad body gets 401, never 400, 415 or 422."""
    content_type, body = BAD_BODIES[kind]
    answer = await app.client.request(
        route.method, _url(route.path), data=body, headers={"Content-Type": content_type}
    )
    assert answer.status == 401, await answer.text()
    error = await _error(answer)
    assert error["code"] == "unauthenticated"
    assert (
        error["message"] == f"sign in as {_roles(sorted(r.value for r in route.roles))} to do this"
    )
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="torget"'


async def test_anonymous_oversized_body_is_unauthenticated(app: RunningApp) -> None:
    """A body over the size limit is not read for an anonymous caller: 401, not 413."""
    answer = await app.client.post(
        "/api/v1/sessions", data=b"x" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 401
    assert (await _error(answer))["code"] == "unauthenticated"


async def test_bad_token_with_bad_body_is_unauthenticated(app: RunningApp) -> None:
    """A revoked or mistyped token with a bad body gets 401 for the token."""
    answer = await app.client.post(
        "/api/v1/studios",
        data=b"{nope",
        headers={"Content-Type": "application/json", "Authorization": "Bearer tgt_wrong"},
    )
    assert answer.status == 401
    assert (await _error(answer))["message"] == (
        "the bearer token is not valid (mistyped or revoked)"
    )


async def test_wrong_role_with_bad_body_is_forbidden(app: RunningApp) -> None:
    """A moderator's bad body for an admin route gets 403 for the role, not 422 for the body."""
    created = await app.client.post(
        "/api/v1/tokens", json={"role": "moderator", "name": "m"}, headers=app.admin
    )
    moderator = app.auth((await created.json())["token"])
    answer = await app.client.post(
        "/api/v1/studios", data=b'{"unknown": 1}',
        headers={**moderator, "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status == 403
    assert (await _error(answer))["message"] == (
        "the moderator role may not do this (it takes admin)"
    )


async def test_right_role_still_gets_body_errors(app: RunningApp) -> None:
    """The admin's bad body is still explained: 415, 400 and 422 as before."""
    for content_type, body, status in (
        ("text/plain", b"x", 415),
        ("application/json", b"{nope", 400),
        ("application/json", b'{"unknown": 1}', 422),
    ):
        answer = await app.client.post(
            "/api/v1/studios", data=body, headers={**app.admin, "Content-Type": content_type}
        )
        assert answer.status == status, await answer.text()
