"""The viewer page in real headless Chromium plays LL-HLS by default and catches up after a
stall (the player's latency settings, ``web/static/js/player.js``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError

from tests.support.browser import chromium, needs_chromium, open_page
from tests.support.media_stage import new_session, publisher, stage, state
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium]

VIDEO = "document.getElementById('video')"


async def _video(page: Any, what: str) -> Any:
    return await page.evaluate(f"{VIDEO}.{what}")


async def test_the_default_page_plays_ll_hls_and_speeds_up_after_a_stall(tmp_path: Path) -> None:
    """A viewer opening a live session's page gets LL-HLS (blocking playlist reloads with
    ``_HLS_msn``); when its playlist and media requests are held until the picture stalls
    for a second, it plays faster than real time once they flow again, then back at 1x."""
    async with stage(tmp_path) as st, chromium() as browser:
        session_id, key = await new_session(st, "Latency")
        async with publisher(st.rtmp(key)):

            async def ready() -> bool:
                return await state(st, session_id) == "ready"

            await until(ready, timeout=30, what="the session to become ready")
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
            )
            assert answer.status == 200, await answer.text()
            watched = await open_page(browser, f"http://127.0.0.1:{st.app.client.port}", "ll")
            page = watched.page
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            await page.goto(f"/s/{session_id}")

            async def playing() -> bool:
                return float(await _video(page, "currentTime")) > 2.0

            await until(playing, timeout=40, what="the video to play", interval=0.25)
            assert await _video(page, "dataset.playback") == "llhls"
            assert await page.locator("#latency").input_value() == "low"
            assert any("_HLS_msn=" in url for url in requested), requested[-5:]

            release = asyncio.Event()

            async def hold(route: Any) -> None:
                await release.wait()
                with contextlib.suppress(PlaywrightError):  # let go by the unroute already
                    await route.continue_()

            await page.route("**/hls/**", hold)
            try:

                async def stalled() -> float:
                    return time.monotonic() if int(await _video(page, "readyState")) < 3 else 0

                since = await until(stalled, timeout=20, what="the picture to stall", interval=0.1)

                async def stalled_a_second() -> bool:
                    return time.monotonic() - since >= 1.0

                await until(stalled_a_second, timeout=5, what="a second of stall", interval=0.1)
            finally:
                release.set()
            await page.unroute("**/hls/**", hold)

            async def catching_up() -> bool:
                return float(await _video(page, "playbackRate")) > 1.0

            await until(catching_up, timeout=30, what="playback faster than 1x", interval=0.1)

            async def caught_up() -> bool:
                return float(await _video(page, "playbackRate")) == 1.0

            await until(caught_up, timeout=30, what="playback back at 1x", interval=0.2)
            watched.assert_clean()
            await page.context.close()
