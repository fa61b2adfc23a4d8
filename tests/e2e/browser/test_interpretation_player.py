"""Interpretation as a viewer meets it in a real browser: the session page's sound menu offers
the original sound and the interpretation language, switching plays that audio rendition (or,
over WebRTC, that sound), the choice is remembered, and the page says when the interpreter is
on air and when they drop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    assert_accessible,
    choose_latency,
    chromium,
    needs_chromium,
    open_page,
)
from tests.support.media_stage import publisher, stage
from tests.support.waiting import until
from tests.support.whip_publisher import interpreter_on_air

pytestmark = [pytest.mark.slow, needs_chromium]
OPTIONS = "[...document.querySelectorAll('#audio-language option')].map((o) => [o.value, o.text])"


async def test_a_viewer_switches_to_the_interpretation_and_hears_of_the_interpreter(
    tmp_path: Path,
) -> None:
    """With English interpretation the sound menu lists the original and English; choosing
    English loads the English audio rendition while the video plays on; over WebRTC the offer
    asks for English; after a reload English is chosen again; the page says the interpreter is
    on air, and away once they drop."""
    async with (
        stage(tmp_path, ladder=[], slate=False, interpretations=["en"]) as st,
        chromium() as browser,
    ):
        app = st.app
        now = datetime.now(UTC)
        body = {"studio_id": st.studio, "title": "Tolkad session", "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(), "auto_start": False}  # fmt: skip
        created = await (
            await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
        ).json()
        session_id, key = created["id"], created["stream_key"]
        async with publisher(st.rtmp(key), size="640x360", gop=30):
            live = await app.client.post(f"/api/v1/sessions/{session_id}/live", headers=app.admin)
            assert live.status == 200, await live.text()

            async def media_up() -> bool:
                return (await app.client.get(f"/hls/{session_id}/index.m3u8")).status == 200

            await until(media_up, timeout=30, what="the session's HLS", interval=0.25)
            viewer = await open_page(browser, f"http://127.0.0.1:{app.client.port}", "interpreted")
            page = viewer.page
            asked: list[str] = []
            page.on("request", lambda request: asked.append(request.url))
            await page.goto(f"/s/{session_id}")

            async def offered() -> list[Any]:
                return list(await page.evaluate(OPTIONS))

            await until(lambda: _has_two(offered), timeout=40, what="the sound menu", interval=0.2)
            assert await offered() == [["", "Original sound"], ["en", "English"]]
            await page.locator("#audio-language").select_option("en")

            async def english_loaded() -> bool:
                return any("/audio-en.m3u8" in url for url in asked) and any(
                    "_2_" in url and url.split("?")[0].endswith(".m4s") for url in asked
                )

            await until(english_loaded, timeout=20, what="the English rendition", interval=0.2)
            at = await page.evaluate("document.getElementById('video').currentTime")

            async def plays_on() -> bool:
                return bool(
                    await page.evaluate(f"document.getElementById('video').currentTime > {at + 1}")
                )

            await until(plays_on, timeout=20, what="the video to play on", interval=0.2)

            pc = await interpreter_on_air(st, session_id)
            status = page.locator("#interpretation-status")
            try:
                await status.filter(has_text="on air").wait_for(timeout=15_000)
            finally:
                await pc.close()
            await status.filter(has_text="away").wait_for(timeout=60_000)

            await page.reload()
            await until(lambda: _has_two(offered), timeout=40, what="the sound menu", interval=0.2)
            assert await page.locator("#audio-language").input_value() == "en"
            asked.clear()
            await choose_latency(page, "lowest")

            async def whep_in_english() -> bool:
                return any("/whep/" in url and "audio=en" in url for url in asked)

            await until(
                whep_in_english, timeout=30, what="a WebRTC offer for English", interval=0.2
            )
            await assert_accessible(viewer)
            viewer.assert_clean()


async def _has_two(offered: Any) -> bool:
    return len(await offered()) == 2
