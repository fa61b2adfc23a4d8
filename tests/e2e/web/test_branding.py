"""The event's branding over real HTTP: name and colours (a pale pair refused with its ratio),
the CSS variables every page loads, the logo (only decodable PNG, JPEG or WebP, not too large,
never SVG) and who may change them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streaming.logo import MAX_LOGO_BYTES
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.images import png
from web.keys import MEDIA

BRAND = {"name": "Kommunmässan", "background": "#FFFDF5", "text": "#1B1B1B", "accent": "#0B57A4"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget configured with its own colours."""
    settings = settings_for(
        sqlite_url(tmp_path),
        TORGET_EVENT_NAME="Expo",
        TORGET_EVENT_BRAND_BACKGROUND="#ffffff",
        TORGET_EVENT_BRAND_TEXT="#000000",
        TORGET_EVENT_BRAND_ACCENT="#0b57a4",
    )
    async with running_app(settings) as running:
        yield running


async def error(answer: Any) -> tuple[int, str, str]:
    """Status, code and message of an error answer."""
    body = await answer.json()
    return answer.status, body["error"]["code"], body["error"]["message"]


async def test_the_configured_branding_then_the_admins_reach_pages_and_slates(
    app: RunningApp,
) -> None:
    """The settings' name and colours first; the admin's replace them in the API, the CSS
    variables and the slates' look; resetting goes back to the settings."""
    answer = await app.client.get("/api/v1/branding")
    assert await answer.json() == {
        "name": "Expo", "background": "#ffffff", "text": "#000000", "accent": "#0b57a4",
        "logo": None,
    }  # fmt: skip
    answer = await app.client.put("/api/v1/branding", json=BRAND, headers=app.admin)
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["background"] == "#fffdf5"
    css = await app.client.get("/branding.css")
    assert css.headers["Content-Type"].startswith("text/css")
    text = await css.text()
    assert "--brand-bg: #fffdf5;" in text
    assert "--accent: #0b57a4;" in text
    look = app.web_app[MEDIA].config.pipeline.slate_look
    assert (look.background, look.text, look.name) == ("0xfffdf5", "0x1b1b1b", "Kommunmässan")
    answer = await app.client.delete("/api/v1/branding", headers=app.admin)
    assert (await answer.json())["name"] == "Expo"
    assert look.name == "Expo"


async def test_a_too_pale_pair_is_refused_naming_the_pair_and_its_ratio(app: RunningApp) -> None:
    """Grey text on white is refused with both colours and 2.32:1; nothing changes."""
    pale = {**BRAND, "background": "#ffffff", "text": "#aaaaaa"}
    answer = await app.client.put("/api/v1/branding", json=pale, headers=app.admin)
    body = await answer.json()
    assert answer.status == 422
    assert body["error"] == {
        "code": "invalid_input",
        "field": "text",
        "message": "text: text #aaaaaa on background #ffffff has a contrast of 2.32:1; "
        "WCAG AA asks for at least 4.5:1 for text",
    }
    assert (await (await app.client.get("/api/v1/branding")).json())["text"] == "#000000"


async def test_a_logo_must_be_a_small_decodable_raster_picture(app: RunningApp) -> None:
    """A PNG is kept and served; SVG (415), not a picture (422), too large (413) and a type
    we do not read (415) are refused, and the PNG stays."""
    picture = png()
    headers = {**app.admin, "Content-Type": "image/png"}
    answer = await app.client.put("/api/v1/branding/logo", data=picture, headers=headers)
    assert answer.status == 200, await answer.text()
    logo_url = (await answer.json())["logo"]
    assert logo_url.endswith("/branding/logo")
    served = await app.client.get("/branding/logo")
    assert (served.headers["Content-Type"], await served.read()) == ("image/png", picture)

    svg = {**app.admin, "Content-Type": "image/svg+xml"}
    answer = await app.client.put("/api/v1/branding/logo", data=b"<svg/>", headers=svg)
    assert await error(answer) == (
        415, "unsupported_media_type",
        "an SVG logo is not accepted (it can carry scripts): use PNG, JPEG or WebP",
    )  # fmt: skip
    answer = await app.client.put("/api/v1/branding/logo", data=b"not a picture", headers=headers)
    assert await error(answer) == (
        422,
        "invalid_input",
        "the logo is not a readable image/png picture",
    )
    jpeg = {**app.admin, "Content-Type": "image/jpeg"}
    answer = await app.client.put("/api/v1/branding/logo", data=picture, headers=jpeg)
    assert await error(answer) == (
        422,
        "invalid_input",
        "the logo is not a readable image/jpeg picture",
    )
    big = picture + b"\x00" * MAX_LOGO_BYTES
    answer = await app.client.put("/api/v1/branding/logo", data=big, headers=headers)
    assert await error(answer) == (
        413, "payload_too_large",
        f"the logo is {len(big)} bytes; at most {MAX_LOGO_BYTES} are accepted",
    )  # fmt: skip
    gif = {**app.admin, "Content-Type": "image/gif"}
    answer = await app.client.put("/api/v1/branding/logo", data=b"GIF89a", headers=gif)
    assert (await error(answer))[:2] == (415, "unsupported_media_type")
    assert await (await app.client.get("/branding/logo")).read() == picture

    answer = await app.client.delete("/api/v1/branding/logo", headers=app.admin)
    assert answer.status == 204
    assert await error(await app.client.get("/branding/logo")) == (
        404, "not_found", "the event has no logo"
    )  # fmt: skip


async def test_only_admins_change_the_branding(app: RunningApp) -> None:
    """Anonymous callers sign in first; an operator may not."""
    answer = await app.client.put("/api/v1/branding", json=BRAND)
    assert await error(answer) == (401, "unauthenticated", "sign in as admin to do this")
    token = await app.client.post(
        "/api/v1/tokens", json={"role": "operator", "name": "Op"}, headers=app.admin
    )
    operator = app.auth((await token.json())["token"])
    answer = await app.client.put("/api/v1/branding", json=BRAND, headers=operator)
    assert await error(answer) == (
        403, "forbidden", "the operator role may not do this (it takes admin)"
    )  # fmt: skip
    answer = await app.client.put(
        "/api/v1/branding/logo", data=png(), headers={**operator, "Content-Type": "image/png"}
    )
    assert (await error(answer))[:2] == (403, "forbidden")
