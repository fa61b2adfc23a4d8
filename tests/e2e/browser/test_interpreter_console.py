"""The interpreter console in a real browser with Chromium's fake microphone: the interpreter
signs in, goes on air, the desk the session pipeline reads hears their voice, and a viewer on
the session page is told when they stop that the language carries the original sound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import assert_accessible, chromium, needs_chromium, open_page, sign_in
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.waiting import until
from web.keys import MEDIA

pytestmark = [pytest.mark.slow, needs_chromium]
# Without media the console's and the viewer's players find no stream while the session is live.
EXPECTED = r"/hls/"


async def _post(app: RunningApp, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await app.client.post(path, json=body, headers=headers)
    assert answer.status in (200, 201), await answer.text()
    return await answer.json()


async def test_an_interpreter_goes_on_air_and_viewers_hear_when_they_stop(tmp_path: Path) -> None:
    """ "Go on air" publishes the fake microphone: the console says it is live, the desk reads
    non-silent voice for English and the viewer's page says the interpreter is on air; "Stop"
    takes it off air and the viewer's page shows "The English interpreter is away: original
    sound."."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_INTERPRETATION_LANGUAGES="en,fi")
    async with running_app(settings) as app, chromium() as browser:
        now = datetime.now(UTC).replace(microsecond=0)
        app.clock.current = now  # the sign-in cookie's clock is the browser's
        studio = (await _post(app, "/api/v1/studios", {"name": "Stora scenen"}, app.admin))["id"]
        body = {"studio_id": studio, "title": "Tolkad session", "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(), "auto_start": False}  # fmt: skip
        session = (await _post(app, "/api/v1/sessions", body, app.admin))["id"]
        await _post(app, f"/api/v1/sessions/{session}/live", None, app.admin)
        token = await _post(
            app, "/api/v1/tokens",
            {"role": "interpreter", "name": "Tolk", "studio_ids": [studio]}, app.admin,
        )  # fmt: skip
        base = f"http://127.0.0.1:{app.client.port}"
        desk = app.web_app[MEDIA].interpretation

        viewer = await open_page(browser, base, "interpreter-viewer", expected=EXPECTED)
        await viewer.page.goto(f"/s/{session}")
        console = await open_page(browser, base, "interpreter-console", expected=EXPECTED)
        page = console.page
        await page.goto("/interpret")
        await sign_in(console, token["token"])
        language = page.get_by_label("Interpretation language")
        await until(lambda: language.locator("option").count(), timeout=10,
                    what="the interpretation languages")  # fmt: skip
        await language.select_option("en")
        await assert_accessible(console)
        await page.get_by_role("button", name="Go on air").click()
        await page.locator('#air-status[data-state="live"]').wait_for()
        assert await page.locator("#air-status").text_content() == (
            "On air: viewers who chose English hear you."
        )
        assert desk.live_languages(session) == ("en",)
        notice = viewer.page.locator("#interpretation-status")
        await until(notice.text_content, timeout=10, what="the viewer's notice")
        assert await notice.text_content() == "The English interpreter is on air."
        await until(lambda: any(desk.take(session, "en", 3840)), timeout=15,
                    what="the fake microphone's voice at the desk")  # fmt: skip
        await until(lambda: page.evaluate("document.getElementById('level').value > 0"),
                    timeout=10, what="the level meter moving")  # fmt: skip
        await console.shot("on-air")

        await page.get_by_role("button", name="Stop").click()
        await page.locator('#air-status[data-state="off"]').wait_for()
        await until(lambda: not desk.is_live(session, "en"), timeout=10, what="off air")
        away = "The English interpreter is away: original sound."

        async def told_away() -> bool:
            return bool(await notice.text_content() == away)

        await until(told_away, timeout=10, what="the viewer told the interpreter is away")
        await viewer.shot("interpreter-away")
        console.assert_clean()
        viewer.assert_clean()
