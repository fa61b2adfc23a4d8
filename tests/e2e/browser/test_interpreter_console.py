"""The interpreter console in a real browser with Chromium's fake microphone: the interpreter
signs in, goes on air over a live broadcast, the desk the session pipeline reads hears their
voice, the stream has an audio rendition per interpretation language, and a viewer listening
to English is told when they stop that the language carries the original sound."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import assert_accessible, chromium, needs_chromium, open_page, sign_in
from tests.support.harness import RunningApp
from tests.support.media_stage import probe_hls, publisher, stage
from tests.support.waiting import until
from web.keys import MEDIA

pytestmark = [pytest.mark.slow, needs_chromium]


async def _post(app: RunningApp, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await app.client.post(path, json=body, headers=headers)
    assert answer.status in (200, 201), await answer.text()
    return await answer.json()


async def test_an_interpreter_goes_on_air_and_viewers_hear_when_they_stop(tmp_path: Path) -> None:
    """ "Go on air" publishes the fake microphone while an RTMP publisher is live: the console
    says it is live, the desk hears non-silent voice for English, ffprobe reads the original
    and the English audio renditions from the multivariant playlist, and the viewer listening
    to English is told the interpreter is on air; "Stop" takes it off air and that viewer's
    page shows "The English interpreter is away: original sound."."""
    async with (
        stage(tmp_path, ladder=[], slate=False, interpretations=["en", "fi"]) as st,
        chromium() as browser,
    ):
        app = st.app
        now = datetime.now(UTC).replace(microsecond=0)
        app.clock.current = now  # the sign-in cookie's clock is the browser's
        body = {"studio_id": st.studio, "title": "Tolkad session", "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(), "auto_start": False}  # fmt: skip
        created = await _post(app, "/api/v1/sessions", body, app.admin)
        session, key = created["id"], created["stream_key"]
        token = await _post(
            app, "/api/v1/tokens",
            {"role": "interpreter", "name": "Tolk", "studio_ids": [st.studio]}, app.admin,
        )  # fmt: skip
        base = f"http://127.0.0.1:{app.client.port}"
        desk = app.web_app[MEDIA].interpretation
        ear = desk.listen(session, "en")
        async with publisher(st.rtmp(key), size="640x360", gop=30):
            await _post(app, f"/api/v1/sessions/{session}/live", None, app.admin)

            async def media_up() -> bool:
                return (await app.client.get(f"/hls/{session}/index.m3u8")).status == 200

            await until(media_up, timeout=30, what="the session's HLS", interval=0.25)
            viewer = await open_page(browser, base, "interpreter-viewer")
            await viewer.page.goto(f"/s/{session}")
            sound = viewer.page.locator("#audio-language")
            await until(lambda: sound.locator("option").count(), timeout=30,
                        what="the viewer's sound menu")  # fmt: skip
            await sound.locator('option[value="en"]').wait_for(state="attached")
            await sound.select_option("en")
            console = await open_page(browser, base, "interpreter-console")
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
            # Live from the first voice that reaches the desk (a moment after "On air").
            await until(lambda: desk.live_languages(session) == ("en",), timeout=15,
                        what="the interpreter live at the desk")  # fmt: skip
            notice = viewer.page.locator("#interpretation-status")
            await until(notice.text_content, timeout=10, what="the viewer's notice")
            assert await notice.text_content() == "The English interpreter is on air."

            def heard() -> bool:
                return any(any(chunk) for chunk in iter(ear.pop, None))

            await until(heard, timeout=15, what="the fake microphone's voice at the desk")
            await until(lambda: page.evaluate("document.getElementById('level').value > 0"),
                        timeout=10, what="the level meter moving")  # fmt: skip
            probed = await asyncio.to_thread(probe_hls, st, f"/hls/{session}/index.m3u8")
            audio = [s for s in probed if s["codec_type"] == "audio"]
            assert sorted(s["tags"].get("language", "") for s in audio) == ["", "en", "fi"]
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
